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

    [Fact]
    public void Nt_hash_of_the_rfc_2759_password()
    {
        using var stdin = new StringReader("clientPass\n");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.Equal(0, NtHashCommand.Run([], stdin, stdout, stderr));
        Assert.Equal("44EBBA8D5312B8D611474411F56989AE", stdout.ToString().Trim()); // RFC 2759 9.2 PasswordHash

        Assert.Equal(64, NtHashCommand.Run(["secret"], new StringReader(""), stdout, stderr));
        Assert.Contains("standard input", stderr.ToString(), StringComparison.Ordinal);
    }
}
