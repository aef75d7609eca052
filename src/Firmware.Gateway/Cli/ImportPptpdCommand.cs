using System.Text;
using Firmware.Gateway.Configuration;

namespace Firmware.Gateway.Cli;

/// <summary>
/// `pptp-gateway import-pptpd [--pptpd-conf F] [--options F] [--chap-secrets F] [-o OUT]`: converts a pptpd
/// setup into a configuration file (stdout without -o), prints what could not be carried over and the
/// validation report of the result. Exit 0 when the result would be accepted, 65 when it needs fixing
/// (it is still written), 66 when pptpd.conf is missing.
/// </summary>
internal static class ImportPptpdCommand
{
    public const string DefaultPptpdConf = "/etc/pptpd.conf";
    public const string DefaultChapSecrets = "/etc/ppp/chap-secrets";
    public static readonly IReadOnlyList<string> DefaultOptionFiles = ["/etc/ppp/pptpd-options", "/etc/ppp/options.pptpd"];

    public static int Run(IReadOnlyList<string> args, GatewayEnvironment environment, TextWriter stdout, TextWriter stderr)
    {
        var problem = GatewayCommandLine.ParseOptions(
            args, new HashSet<string>(), new HashSet<string> { "--pptpd-conf", "--options", "--chap-secrets", "-o", "--output" },
            0, out _, out var values, out _);
        if (problem is not null)
        {
            stderr.WriteLine($"pptp-gateway import-pptpd: {problem}");
            return GatewayCommandLine.ExitCodes.Usage;
        }

        var confPath = values.GetValueOrDefault("--pptpd-conf") ?? DefaultPptpdConf;
        var conf = ReadText(confPath);
        if (conf is null)
        {
            stderr.WriteLine($"pptp-gateway import-pptpd: cannot read {confPath}");
            return GatewayCommandLine.ExitCodes.NoInput;
        }

        var optionsPath = values.GetValueOrDefault("--options")
            ?? PptpdImporter.OptionFileNamedIn(conf)
            ?? DefaultOptionFiles.FirstOrDefault(File.Exists)
            ?? DefaultOptionFiles[0];
        var options = ReadText(optionsPath);
        var secretsPath = values.GetValueOrDefault("--chap-secrets") ?? DefaultChapSecrets;
        var secrets = ReadText(secretsPath);
        var notes = new List<string>();
        if (options is null)
        {
            notes.Add($"cannot read the pppd options file {optionsPath}; authentication and MPPE settings use pppd's defaults");
        }
        if (secrets is null)
        {
            notes.Add($"cannot read {secretsPath}; no users imported");
        }

        var sources = string.Join(", ", new[] { confPath, options is null ? null : optionsPath, secrets is null ? null : secretsPath }.OfType<string>());
        var result = PptpdImporter.Import(conf, options, secrets, sources);
        notes.AddRange(result.Notes);

        var output = values.GetValueOrDefault("-o") ?? values.GetValueOrDefault("--output");
        if (output is null)
        {
            stdout.Write(result.Json);
        }
        else
        {
            try
            {
                // It holds the chap-secrets passwords.
                AtomicFile.Write(output, Encoding.UTF8.GetBytes(result.Json), AtomicFile.OwnerOnly);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"pptp-gateway import-pptpd: cannot write {output}: {e.Message}");
                return GatewayCommandLine.ExitCodes.Failure;
            }
            stderr.WriteLine($"wrote {output}");
        }

        foreach (var note in notes)
        {
            stderr.WriteLine("note: " + note);
        }

        var check = ConfigLoader.Parse(output ?? "(imported)", Encoding.UTF8.GetBytes(result.Json), environment.LocalNetworks);
        foreach (var line in ConfigReport.DiagnosticLines(check))
        {
            stderr.WriteLine("  " + line);
        }
        stderr.WriteLine("imported configuration: " + ConfigReport.Summary(check));
        return check.Accepted ? GatewayCommandLine.ExitCodes.Ok : GatewayCommandLine.ExitCodes.DataError;
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.Exists(path) && new FileInfo(path).Length <= ConfigLoader.MaxFileBytes ? File.ReadAllText(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
