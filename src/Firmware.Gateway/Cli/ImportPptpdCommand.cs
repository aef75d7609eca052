namespace Firmware.Gateway.Cli;

internal static class ImportPptpdCommand
{
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) => 0;
}
