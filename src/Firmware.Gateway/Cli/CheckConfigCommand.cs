using Firmware.Gateway.Configuration;

namespace Firmware.Gateway.Cli;

/// <summary>
/// `pptp-gateway check-config [PATH]`: prints every error and warning with its line, and a summary.
/// Exit 0 when the file would be accepted (warnings or not), 65 when it would be rejected, 66 when missing.
/// </summary>
internal static class CheckConfigCommand
{
    public static int Run(IReadOnlyList<string> args, GatewayEnvironment environment, TextWriter stdout, TextWriter stderr)
    {
        var problem = GatewayCommandLine.ParseOptions(
            args, new HashSet<string>(), new HashSet<string> { "--config" }, 1, out _, out var values, out var positionals);
        if (problem is not null)
        {
            stderr.WriteLine($"pptp-gateway check-config: {problem}");
            return GatewayCommandLine.ExitCodes.Usage;
        }

        var explicitPath = positionals.Count > 0 ? positionals[0] : values.GetValueOrDefault("--config");
        var path = ConfigLocator.Locate(explicitPath, environment.GetEnvironment, File.Exists, out var tried);
        if (path is null || !File.Exists(path))
        {
            stderr.WriteLine($"pptp-gateway check-config: no configuration file; looked for {string.Join(", ", tried)}");
            return GatewayCommandLine.ExitCodes.NoInput;
        }

        var result = ConfigLoader.LoadFile(path, environment.LocalNetworks);
        stdout.WriteLine(path);
        foreach (var line in ConfigReport.DiagnosticLines(result))
        {
            stdout.WriteLine("  " + line);
        }
        if (result.Config is { } config)
        {
            foreach (var line in ConfigReport.Describe(config))
            {
                stdout.WriteLine("  " + line);
            }
        }
        stdout.WriteLine(ConfigReport.Summary(result));
        return result.Accepted ? GatewayCommandLine.ExitCodes.Ok : GatewayCommandLine.ExitCodes.DataError;
    }
}
