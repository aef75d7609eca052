using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Firmware.Gateway.Configuration;

/// <summary>The JSON written by <see cref="PptpdImporter"/> and what could not be carried over.</summary>
internal sealed record PptpdImportResult(string Json, IReadOnlyList<string> Notes);

/// <summary>
/// Turns a pptpd setup (pptpd.conf, the pppd options file it names, chap-secrets) into an equivalent
/// pptp-gateway configuration, and lists every setting it could not carry over. Equivalent means equally
/// weak too: a setup that allowed PAP imports allowing PAP, and check-config then warns about it.
/// </summary>
internal static class PptpdImporter
{
    // pppd options that need no equivalent: pptp-gateway always authenticates, never compresses, logs to the journal.
    private static readonly HashSet<string> NoEquivalentNeeded = new(StringComparer.Ordinal)
    {
        "auth", "lock", "nobsdcomp", "nodeflate", "novj", "novjccomp", "nologfd", "noipx", "nopcomp", "noaccomp",
        "noipdefault", "nodefaultroute", "ipcp-accept-local", "ipcp-accept-remote", "mppe-stateless", "+mschap-v2",
    };

    private sealed class Collected
    {
        public string? Name;
        public List<string> LocalIps = [];
        public List<string> RemoteIps = [];
        public string? Listen;
        public int? Connections;
        public bool Debug;
        public HashSet<string> Refused = new(StringComparer.Ordinal);
        public List<string> Required = [];
        public bool? MppeRequired;
        public SortedSet<int> MppeLengths = [];
        public bool MppeStateful;
        public List<string> Dns = [];
        public List<string> Wins = [];
        public int? Mtu;
        public int? Mru;
        public int? EchoInterval;
        public int? EchoFailures;
        public List<(string Name, string Secret, string? Address)> Users = [];
    }

    /// <summary>Reads the option file path named by pptpd.conf's `option` line, if any.</summary>
    public static string? OptionFileNamedIn(string pptpdConf)
    {
        ArgumentNullException.ThrowIfNull(pptpdConf);
        foreach (var words in Lines(pptpdConf))
        {
            if (words.Count >= 2 && words[0] == "option")
            {
                return words[1];
            }
        }
        return null;
    }

    public static PptpdImportResult Import(string? pptpdConf, string? options, string? chapSecrets, string sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var notes = new List<string>();
        var c = new Collected();
        if (pptpdConf is not null)
        {
            ReadPptpdConf(pptpdConf, c, notes);
        }
        if (options is not null)
        {
            ReadOptions(options, c, notes);
        }
        if (chapSecrets is not null)
        {
            ReadChapSecrets(chapSecrets, c, notes);
        }
        return new PptpdImportResult(Write(c, notes, sources), notes);
    }

    private static void ReadPptpdConf(string text, Collected c, List<string> notes)
    {
        foreach (var words in Lines(text))
        {
            var value = words.Count > 1 ? words[1] : "";
            switch (words[0])
            {
                case "option":
                    break;
                case "localip":
                    c.LocalIps.AddRange(SplitList(value));
                    break;
                case "remoteip":
                    c.RemoteIps.AddRange(SplitList(value));
                    break;
                case "listen":
                    c.Listen = value;
                    break;
                case "connections":
                    c.Connections = ParseInt(value, "connections", notes);
                    break;
                case "debug":
                    c.Debug = true;
                    break;
                default:
                    notes.Add($"pptpd.conf: '{string.Join(' ', words)}' is not carried over (no equivalent)");
                    break;
            }
        }
    }

    private static void ReadOptions(string text, Collected c, List<string> notes)
    {
        foreach (var words in Lines(text))
        {
            var option = words[0];
            var value = words.Count > 1 ? words[1] : "";
            switch (option)
            {
                case "name":
                    c.Name = value;
                    break;
                case "refuse-pap" or "refuse-chap" or "refuse-mschap" or "refuse-mschap-v2":
                    c.Refused.Add(AuthFromOption(option["refuse-".Length..]));
                    break;
                case "require-pap" or "require-chap" or "require-mschap" or "require-mschap-v2":
                    c.Required.Add(AuthFromOption(option["require-".Length..]));
                    break;
                case "require-mppe":
                    c.MppeRequired = true;
                    break;
                case "require-mppe-40" or "require-mppe-56" or "require-mppe-128":
                    c.MppeRequired = true;
                    c.MppeLengths.Add(int.Parse(option["require-mppe-".Length..], CultureInfo.InvariantCulture));
                    break;
                case "nomppe" or "noccp":
                    c.MppeRequired = false;
                    break;
                case "mppe-stateful":
                    c.MppeStateful = true;
                    break;
                case "mppe":
                    ReadOldMppeSyntax(value, c, notes);
                    break;
                case "ms-dns":
                    c.Dns.Add(value);
                    break;
                case "ms-wins":
                    c.Wins.Add(value);
                    break;
                case "mtu":
                    c.Mtu = ParseInt(value, option, notes);
                    break;
                case "mru":
                    c.Mru = ParseInt(value, option, notes);
                    break;
                case "lcp-echo-interval":
                    c.EchoInterval = ParseInt(value, option, notes);
                    break;
                case "lcp-echo-failure":
                    c.EchoFailures = ParseInt(value, option, notes);
                    break;
                case "debug" or "dump":
                    c.Debug = true;
                    break;
                case "proxyarp":
                    notes.Add("options: 'proxyarp' is not carried over: pptp-gateway routes the pool instead, so choose a pool outside your LAN (and set forwarding)");
                    break;
                default:
                    if (!NoEquivalentNeeded.Contains(option))
                    {
                        notes.Add($"options: '{string.Join(' ', words)}' is not carried over (no equivalent)");
                    }
                    break;
            }
        }
    }

    /// <summary>The pre-2.4.2 `mppe required,stateless,no40,no56` form still found in old setups.</summary>
    private static void ReadOldMppeSyntax(string value, Collected c, List<string> notes)
    {
        var lengths = new SortedSet<int> { 40, 56, 128 };
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            switch (part)
            {
                case "required":
                    c.MppeRequired = true;
                    break;
                case "no40" or "no56" or "no128":
                    lengths.Remove(int.Parse(part[2..], CultureInfo.InvariantCulture));
                    break;
                case "stateless":
                    break;
                case "stateful":
                    c.MppeStateful = true;
                    break;
                default:
                    notes.Add($"options: mppe flag '{part}' is not carried over");
                    break;
            }
        }
        c.MppeLengths.UnionWith(lengths);
    }

    private static void ReadChapSecrets(string text, Collected c, List<string> notes)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var words in Lines(text))
        {
            if (words.Count < 3)
            {
                notes.Add($"chap-secrets: '{string.Join(' ', words)}' has fewer than three fields; skipped");
                continue;
            }
            var (client, server, secret) = (words[0], words[1], words[2]);
            if (server != "*" && c.Name is not null && !string.Equals(server, c.Name, StringComparison.Ordinal))
            {
                notes.Add($"chap-secrets: the entry for '{client}' is for server '{server}', not '{c.Name}'; skipped");
                continue;
            }
            if (client == "*")
            {
                notes.Add("chap-secrets: a '*' client (any user name) is not carried over; name each user");
                continue;
            }
            if (secret.StartsWith('@'))
            {
                notes.Add($"chap-secrets: the secret of '{client}' is read from a file ({secret}); not carried over, add a password or ntHash by hand");
                continue;
            }
            if (!names.Add(client))
            {
                notes.Add($"chap-secrets: '{client}' appears twice; the first entry is kept");
                continue;
            }

            string? address = null;
            var addresses = words.Skip(3).Where(w => w != "*").ToList();
            if (addresses.Count > 0)
            {
                if (AddressRange.TryParseIPv4(addresses[0], out _))
                {
                    address = addresses[0];
                }
                else
                {
                    notes.Add($"chap-secrets: address '{addresses[0]}' of '{client}' is not carried over (only one fixed IPv4 address per user is supported)");
                }
                if (addresses.Count > 1)
                {
                    notes.Add($"chap-secrets: '{client}' lists {addresses.Count} addresses; only the first is kept");
                }
            }
            c.Users.Add((client, secret, address));
        }
        if (c.Users.Count > 0)
        {
            notes.Add($"{c.Users.Count} password(s) were copied as plain text; consider replacing each with its ntHash");
        }
    }

    private static string Write(Collected c, List<string> notes, string sources)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = true,
            NewLine = "\n",
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            w.WriteStartObject();
            w.WriteCommentValue($" Imported by pptp-gateway import-pptpd from {sources}. Check it with pptp-gateway check-config.");
            w.WriteString("$schema", "./pptp-gateway.schema.json");
            if (c.Debug)
            {
                w.WriteStartObject("logging");
                w.WriteString("level", "debug");
                w.WriteEndObject();
            }

            w.WriteStartObject("server");
            if (c.Listen is not null)
            {
                w.WriteString("listen", c.Listen);
            }
            if (c.LocalIps.Count > 0)
            {
                var first = c.LocalIps[0];
                var dash = first.IndexOf('-', StringComparison.Ordinal);
                w.WriteString("localAddress", dash < 0 ? first : first[..dash]);
                if (c.LocalIps.Count > 1 || dash >= 0)
                {
                    notes.Add($"pptpd.conf: localip '{string.Join(",", c.LocalIps)}' gave connections different local addresses; pptp-gateway uses one ({(dash < 0 ? first : first[..dash])})");
                }
            }
            else
            {
                notes.Add("pptpd.conf: no localip; set server.localAddress by hand");
            }
            w.WriteStartArray("pool");
            foreach (var range in c.RemoteIps)
            {
                w.WriteStringValue(AddressRange.TryParse(range, out var parsed) is null ? parsed.ToString() : range);
            }
            w.WriteEndArray();
            if (c.RemoteIps.Count == 0)
            {
                notes.Add("pptpd.conf: no remoteip; set server.pool by hand");
            }
            WriteStrings(w, "dns", c.Dns);
            WriteStrings(w, "wins", c.Wins);
            if (c.Connections is { } connections)
            {
                w.WriteNumber("maxSessions", connections);
            }
            WriteStrings(w, "authMethods", AuthMethods(c, notes));
            WriteMppe(w, c);
            w.WriteStartArray("users");
            foreach (var (name, secret, address) in c.Users)
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteString("password", secret);
                if (address is not null)
                {
                    w.WriteString("address", address);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();

            if (c.Mtu is not null || c.Mru is not null || c.EchoInterval is not null || c.EchoFailures is not null)
            {
                w.WriteStartObject("ppp");
                WriteOptionalNumber(w, "mru", c.Mru);
                WriteOptionalNumber(w, "mtu", c.Mtu);
                WriteOptionalNumber(w, "lcpEchoIntervalSeconds", c.EchoInterval);
                WriteOptionalNumber(w, "lcpEchoFailures", c.EchoFailures);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>pppd as authenticator: the require-* methods if any, else every method not refused.</summary>
    private static List<string> AuthMethods(Collected c, List<string> notes)
    {
        var order = ConfigKeys.AuthMethodNames;
        var methods = c.Required.Count > 0
            ? order.Where(c.Required.Contains).ToList()
            : order.Where(m => !c.Refused.Contains(m)).ToList();
        if (methods.Count == 0)
        {
            notes.Add("options: every authentication method was refused; using mschapv2");
            methods.Add("mschapv2");
        }
        return methods;
    }

    private static void WriteMppe(Utf8JsonWriter w, Collected c)
    {
        w.WriteStartObject("mppe");
        // pppd without require-mppe lets a peer go unencrypted: carry that over honestly (check-config warns).
        w.WriteBoolean("required", c.MppeRequired ?? false);
        w.WriteStartArray("keyLengths");
        // pppd's bare require-mppe accepts 40 and 128 bits.
        foreach (var length in c.MppeLengths.Count > 0 ? c.MppeLengths : [40, 128])
        {
            w.WriteNumberValue(length);
        }
        w.WriteEndArray();
        if (c.MppeStateful)
        {
            w.WriteBoolean("allowStateful", true);
        }
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, List<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values)
        {
            w.WriteStringValue(value);
        }
        w.WriteEndArray();
    }

    private static void WriteOptionalNumber(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }

    private static string AuthFromOption(string suffix) => ConfigKeys.AuthMethodNames.Contains(suffix) ? suffix : "mschapv2";

    private static int? ParseInt(string value, string option, List<string> notes)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return n;
        }
        notes.Add($"'{option} {value}': not a number; not carried over");
        return null;
    }

    private static string[] SplitList(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// pppd-style words per line: whitespace separates, "double" or 'single' quotes group, backslash escapes,
    /// # outside quotes starts a comment. Empty lines are skipped.
    /// </summary>
    internal static IEnumerable<List<string>> Lines(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var rawLine in text.Split('\n'))
        {
            var words = new List<string>();
            var word = new StringBuilder();
            var inWord = false;
            char quote = '\0';
            var line = rawLine.TrimEnd('\r');
            for (var i = 0; i < line.Length; i++)
            {
                var ch = line[i];
                if (quote != '\0')
                {
                    if (ch == quote)
                    {
                        quote = '\0';
                    }
                    else if (ch == '\\' && i + 1 < line.Length)
                    {
                        word.Append(line[++i]);
                    }
                    else
                    {
                        word.Append(ch);
                    }
                }
                else if (ch is '"' or '\'')
                {
                    quote = ch;
                    inWord = true;
                }
                else if (ch == '#')
                {
                    break;
                }
                else if (char.IsWhiteSpace(ch))
                {
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }
                }
                else if (ch == '\\' && i + 1 < line.Length)
                {
                    word.Append(line[++i]);
                    inWord = true;
                }
                else
                {
                    word.Append(ch);
                    inWord = true;
                }
            }
            if (inWord)
            {
                words.Add(word.ToString());
            }
            if (words.Count > 0)
            {
                yield return words;
            }
        }
    }
}
