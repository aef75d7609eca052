using Firmware.Protocol.Ppp;

namespace Firmware.Protocol.Auth;

/// <summary>
/// Everything the code knows about each login method, in one table: its name in the config file, the name
/// users read in logs, the PPP protocol it travels under, its CHAP algorithm (RFC 1994, 2433, 2759), whether
/// it gives MPPE keys, and why it is weak. Config parsing, logs, LCP and the RADIUS request all read it here.
/// </summary>
public static class AuthMethods
{
    /// <summary>One method's row.</summary>
    /// <param name="Method">The method.</param>
    /// <param name="ConfigName">How the config file and the pptpd importer spell it.</param>
    /// <param name="DisplayName">How logs and status spell it.</param>
    /// <param name="Protocol">The PPP protocol its packets travel under.</param>
    /// <param name="ChapAlgorithm">The LCP Authentication-Protocol algorithm byte for CHAP; 0 for PAP.</param>
    /// <param name="GivesMppeKeys">MPPE can derive its keys from a login with it (RFC 3079).</param>
    /// <param name="Risk">Why allowing it weakens the server, for the config warning; null when it is the strongest PPTP has.</param>
    public sealed record Row(AuthMethod Method, string ConfigName, string DisplayName, PppProtocol Protocol, byte ChapAlgorithm, bool GivesMppeKeys, string? Risk);

    /// <summary>The methods in the order of preference from weakest to strongest (the config lists them so).</summary>
    public static IReadOnlyList<Row> All { get; } =
    [
        new(AuthMethod.Pap, "pap", "PAP", PppProtocol.Pap, 0, false, "pap sends the password in clear text over the tunnel setup"),
        new(AuthMethod.ChapMd5, "chap", "CHAP-MD5", PppProtocol.Chap, 5, false, "chap needs the plain password stored and gives MPPE no keys"),
        new(AuthMethod.MsChapV1, "mschap", "MS-CHAPv1", PppProtocol.Chap, 0x80, true, "mschap (v1) is cracked quickly from one captured login"),
        new(AuthMethod.MsChapV2, "mschapv2", "MS-CHAPv2", PppProtocol.Chap, 0x81, true, null),
    ];

    /// <summary>The config file's spellings, in the table's order.</summary>
    public static IReadOnlyList<string> ConfigNames { get; } = [.. All.Select(r => r.ConfigName)];

    /// <summary>The row of a login method; throws for <see cref="AuthMethod.None"/>.</summary>
    public static Row Of(AuthMethod method) =>
        All.FirstOrDefault(r => r.Method == method) ?? throw new ArgumentOutOfRangeException(nameof(method), method, "Not a login method.");

    /// <summary>The name users know; "no authentication" for <see cref="AuthMethod.None"/>.</summary>
    public static string Describe(AuthMethod method) =>
        All.FirstOrDefault(r => r.Method == method)?.DisplayName ?? "no authentication";

    /// <summary>The method a config name stands for.</summary>
    public static bool TryParseConfigName(string name, out AuthMethod method)
    {
        var row = All.FirstOrDefault(r => string.Equals(r.ConfigName, name, StringComparison.Ordinal));
        method = row?.Method ?? AuthMethod.None;
        return row is not null;
    }

    /// <summary>The method whose CHAP algorithm byte this is.</summary>
    public static bool TryFromChapAlgorithm(byte algorithm, out AuthMethod method)
    {
        var row = All.FirstOrDefault(r => r.Protocol == PppProtocol.Chap && r.ChapAlgorithm == algorithm);
        method = row?.Method ?? AuthMethod.None;
        return row is not null;
    }
}
