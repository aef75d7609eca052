using Firmware.Gateway.Cli;

namespace Firmware.Gateway.Tests.Cli;

public sealed class GatewayCommandLineTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = GatewayCommandLine.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Help_lists_every_command()
    {
        var (exit, output, _) = Run("--help");
        Assert.Equal(0, exit);
        foreach (var verb in new[] { "run", "status", "check-config", "--version" })
        {
            Assert.Contains(verb, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void No_arguments_prints_help_as_a_usage_error()
    {
        var (exit, _, error) = Run();
        Assert.Equal(64, exit);
        Assert.Contains("Usage:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Version_is_the_assembly_version()
    {
        var (exit, output, _) = Run("--version");
        Assert.Equal(0, exit);
        Assert.StartsWith("pptp-gateway 0.", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("--frobnicate")]
    public void Unknown_command_is_a_usage_error(string verb)
    {
        var (exit, _, error) = Run(verb);
        Assert.Equal(64, exit);
        Assert.Contains($"unknown command '{verb}'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run", "--bogus")]
    [InlineData("status", "--bogus")]
    [InlineData("check-config", "--bogus")]
    [InlineData("run", "--config")]
    public void Bad_options_are_usage_errors(string verb, string option)
    {
        var (exit, _, error) = Run(verb, option);
        Assert.Equal(64, exit);
        Assert.Contains(verb, error, StringComparison.Ordinal);
    }
}
