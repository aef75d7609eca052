using Firmware.Protocol.Auth;

namespace Firmware.Gateway.Cli;

/// <summary>
/// `pptp-gateway nt-hash`: reads a password from standard input (one line) and prints its NT hash, the value
/// a user's `"ntHash"` takes so that no plaintext password need sit on the SD card.
/// </summary>
internal static class NtHashCommand
{
    public static int Run(IReadOnlyList<string> args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        if (args.Count > 0)
        {
            stderr.WriteLine("pptp-gateway nt-hash: the password is read from standard input, not the command line (it would show in ps and shell history)");
            return GatewayCommandLine.ExitCodes.Usage;
        }
        var password = stdin.ReadLine();
        if (string.IsNullOrEmpty(password))
        {
            stderr.WriteLine("pptp-gateway nt-hash: no password on standard input");
            return GatewayCommandLine.ExitCodes.Usage;
        }
        stdout.WriteLine(Convert.ToHexString(MsChapCrypto.NtPasswordHash(password)));
        return GatewayCommandLine.ExitCodes.Ok;
    }
}
