namespace Firmware.Gateway.Cli;

/// <summary>`pptp-gateway status [--json]`: asks the running service over its control socket.</summary>
internal static class StatusCommand
{
    public const string ControlSocketPath = "/run/pptp-gateway/control.sock";

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var problem = GatewayCommandLine.ParseOptions(
            args, new HashSet<string> { "--json" }, new HashSet<string>(), 0, out _, out _, out _);
        if (problem is not null)
        {
            stderr.WriteLine($"pptp-gateway status: {problem}");
            return GatewayCommandLine.ExitCodes.Usage;
        }

        if (!File.Exists(ControlSocketPath))
        {
            stderr.WriteLine($"pptp-gateway status: the service is not running (no control socket at {ControlSocketPath}).");
            return GatewayCommandLine.ExitCodes.Unavailable;
        }

        stderr.WriteLine("pptp-gateway status: this build cannot query the service yet.");
        return GatewayCommandLine.ExitCodes.Unavailable;
    }
}
