using Firmware.Gateway.Configuration;

namespace Firmware.Gateway.Cli;

/// <summary>`pptp-gateway check-config [PATH]`: prints a validation report, non-zero exit on errors.</summary>
internal static class CheckConfigCommand
{
    /// <summary>Larger than any real config; guards against a wrong file (an image, a log) being read whole.</summary>
    public const int MaxConfigBytes = 1 << 20;

    public static int Run(IReadOnlyList<string> args, Func<string, string?> getEnvironment, TextWriter stdout, TextWriter stderr)
    {
        var problem = GatewayCommandLine.ParseOptions(
            args, new HashSet<string>(), new HashSet<string> { "--config" }, 1, out _, out var values, out var positionals);
        if (problem is not null)
        {
            stderr.WriteLine($"pptp-gateway check-config: {problem}");
            return GatewayCommandLine.ExitCodes.Usage;
        }

        var explicitPath = positionals.Count > 0 ? positionals[0] : values.GetValueOrDefault("--config");
        var path = ConfigLocator.Locate(explicitPath, getEnvironment, File.Exists, out var tried);
        if (path is null || !File.Exists(path))
        {
            stderr.WriteLine($"pptp-gateway check-config: no configuration file; looked for {string.Join(", ", tried)}");
            return GatewayCommandLine.ExitCodes.NoInput;
        }

        var length = new FileInfo(path).Length;
        if (length > MaxConfigBytes)
        {
            stderr.WriteLine($"{path}: file is {length} bytes, more than the {MaxConfigBytes} a configuration may be");
            return GatewayCommandLine.ExitCodes.DataError;
        }

        using var document = JsonSyntaxCheck.TryParse(path, File.ReadAllBytes(path), out var error);
        if (document is null)
        {
            stdout.WriteLine(error);
            stdout.WriteLine($"{path}: rejected, 1 error");
            return GatewayCommandLine.ExitCodes.DataError;
        }

        if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            stdout.WriteLine($"{path}:1:1: the configuration must be a JSON object {{ ... }}");
            stdout.WriteLine($"{path}: rejected, 1 error");
            return GatewayCommandLine.ExitCodes.DataError;
        }

        stdout.WriteLine($"{path}: JSON syntax ok");
        return GatewayCommandLine.ExitCodes.Ok;
    }
}
