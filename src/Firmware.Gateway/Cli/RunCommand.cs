namespace Firmware.Gateway.Cli;

/// <summary>`pptp-gateway run`: the service. Says plainly what is not built yet instead of pretending.</summary>
internal static class RunCommand
{
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var problem = GatewayCommandLine.ParseOptions(
            args, new HashSet<string>(), new HashSet<string> { "--config" }, 0, out _, out _, out _);
        if (problem is not null)
        {
            stderr.WriteLine($"pptp-gateway run: {problem}");
            return GatewayCommandLine.ExitCodes.Usage;
        }

        stderr.WriteLine("pptp-gateway run: the gateway service is not built yet; nothing was started.");
        return GatewayCommandLine.ExitCodes.Unavailable;
    }
}
