using System.Reflection;
using Firmware.Gateway.Configuration;

namespace Firmware.Gateway.Cli;

/// <summary>
/// The `pptp-gateway` command line. Hand-written rather than a library: five verbs do not justify a
/// dependency, and this keeps the AOT binary small and free of reflection.
/// </summary>
internal static class GatewayCommandLine
{
    /// <summary>sysexits.h codes, so scripts and systemd can tell usage errors from runtime failures.</summary>
    internal static class ExitCodes
    {
        public const int Ok = 0;
        public const int Failure = 1;
        public const int Usage = 64;
        public const int DataError = 65;
        public const int NoInput = 66;
        public const int Unavailable = 69;
    }

    public static string Version { get; } =
        typeof(GatewayCommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? "0.0.0";

    private const string HelpText = """
        pptp-gateway: a PPTP VPN client and server for Linux router boards.

        Usage:
          pptp-gateway run [--config PATH]            run the gateway service
          pptp-gateway status [--json]                show the running service's sessions
          pptp-gateway connect|disconnect NAME        bring a configured client up or down
          pptp-gateway reload                         reload the configuration file now
          pptp-gateway button "click button1"         press a button (console board driver: demo, tests)
          pptp-gateway check-config [PATH]            validate a configuration file and exit
          pptp-gateway import-pptpd [--pptpd-conf F] [--options F] [--chap-secrets F] [-o OUT]
                                                      convert a pptpd setup into a configuration file
          pptp-gateway print-schema                   print the configuration file's JSON Schema
          pptp-gateway nt-hash < password.txt          print a password's NT hash for "ntHash" (no plaintext on the card)
          pptp-gateway --version                      print the version
          pptp-gateway --help                         print this help

        The configuration file is, in order: --config PATH, $PPTP_GATEWAY_CONFIG,
        /boot/firmware/pptp-gateway.json, /boot/pptp-gateway.json.

        Exit codes: 0 ok, 1 failure, 64 usage error, 65 invalid configuration,
        66 configuration file missing, 69 service not available.
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) =>
        Run(args, GatewayEnvironment.System, stdout, stderr);

    /// <summary>Runs a verb against an explicit environment (tests pass fixed local networks).</summary>
    public static int Run(IReadOnlyList<string> args, GatewayEnvironment environment, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        if (args.Count == 0)
        {
            stderr.WriteLine(HelpText);
            return ExitCodes.Usage;
        }

        var verb = args[0];
        var rest = args.Skip(1).ToArray();
        switch (verb)
        {
            case "--help" or "-h" or "help":
                stdout.WriteLine(HelpText);
                return ExitCodes.Ok;
            case "--version" or "-V" or "version":
                stdout.WriteLine($"pptp-gateway {Version}");
                return ExitCodes.Ok;
            case "check-config":
                return CheckConfigCommand.Run(rest, environment, stdout, stderr);
            case "import-pptpd":
                return ImportPptpdCommand.Run(rest, environment, stdout, stderr);
            case "nt-hash":
                return NtHashCommand.Run(rest, Console.In, stdout, stderr);
            case "print-schema":
                stdout.Write(ConfigSchema.Generate());
                return ExitCodes.Ok;
            case "run":
                return RunCommand.Run(rest, environment, stdout, stderr);
            case "status" or "connect" or "disconnect" or "reload" or "button":
                return StatusCommand.Run(verb, rest, environment, stdout, stderr);
            default:
                stderr.WriteLine($"pptp-gateway: unknown command '{verb}'. Try 'pptp-gateway --help'.");
                return ExitCodes.Usage;
        }
    }

    /// <summary>Parses `[--flag] [--config PATH] [POSITIONAL]` shapes; returns an error message or null.</summary>
    internal static string? ParseOptions(
        IReadOnlyList<string> args, ISet<string> flags, ISet<string> valued, int maxPositionals,
        out HashSet<string> setFlags, out Dictionary<string, string> values, out List<string> positionals)
    {
        setFlags = new HashSet<string>(StringComparer.Ordinal);
        values = new Dictionary<string, string>(StringComparer.Ordinal);
        positionals = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (flags.Contains(a))
            {
                setFlags.Add(a);
            }
            else if (valued.Contains(a))
            {
                if (i + 1 >= args.Count)
                {
                    return $"option {a} needs a value";
                }
                values[a] = args[++i];
            }
            else if (a.StartsWith('-') && a.Length > 1)
            {
                return $"unknown option '{a}'";
            }
            else if (positionals.Count < maxPositionals)
            {
                positionals.Add(a);
            }
            else
            {
                return $"unexpected argument '{a}'";
            }
        }
        return null;
    }
}
