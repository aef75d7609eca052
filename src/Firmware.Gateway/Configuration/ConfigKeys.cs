using Firmware.Gateway.Board;
using Firmware.Platform.Gpio;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Radius;

namespace Firmware.Gateway.Configuration;

/// <summary>The JSON shape of one configuration key.</summary>
internal enum ConfigValueKind
{
    Object,
    ObjectArray,
    String,
    StringArray,
    Integer,
    IntegerArray,
    Number,
    Boolean,
}

/// <summary>
/// One key the configuration file may hold. <see cref="Path"/> uses "[]" for "any item of this list"
/// (server.users[].name). <see cref="Default"/> is an int, double, bool, string or string[]/int[].
/// Every string has a <see cref="MaxLength"/> in characters (and names that go on the wire a
/// <see cref="MaxUtf8Bytes"/>), checked at validation so that nothing accepted can fail later at start.
/// <see cref="Pattern"/> is written for the JSON Schema (ECMA-262); the binder matches its '$' only at the
/// very end of the value (as \z), never before a final newline.
/// </summary>
internal sealed record ConfigKey(
    string Path,
    ConfigValueKind Kind,
    string Description,
    object? Default = null,
    IReadOnlyList<string>? Allowed = null,
    double? Minimum = null,
    double? Maximum = null,
    bool Required = false,
    bool Secret = false,
    string? Pattern = null,
    string? PatternHint = null,
    int MaxLength = ConfigKey.DefaultMaxLength,
    int? MaxUtf8Bytes = null)
{
    /// <summary>The limit of a string key that names no other: far beyond any real value, short enough for any log line.</summary>
    public const int DefaultMaxLength = 255;
}

/// <summary>
/// Every key the binder reads, in one table: the binder looks its keys, defaults and limits up here, unknown
/// keys are what is not here, and the JSON Schema (board/common/pptp-gateway.schema.json, printed by
/// `pptp-gateway print-schema`) is generated from it. Nothing is found by reflection.
/// </summary>
internal static class ConfigKeys
{
    public static readonly IReadOnlyList<string> AuthMethodNames = AuthMethods.ConfigNames;
    public static readonly IReadOnlyList<string> CommandNames = ConfigWords.All<GatewayCommand>();
    public static readonly IReadOnlyList<string> DriverNames = ConfigWords.All<GpioDriverKind>();
    public static readonly IReadOnlyList<string> BiasNames = ConfigWords.All<GpioBias>();
    public static readonly IReadOnlyList<string> ProfileNames = [.. BoardProfiles.All.Select(p => p.Name)];
    public static readonly IReadOnlyList<string> LogLevelNames = ["trace", "debug", "information", "warning", "error", "critical"];

    private const string NtHashPattern = "^[0-9A-Fa-f]{32}$";
    private const string NtHashHint = "must be 32 hex digits (0-9, A-F)";
    private const string InterfaceHint = "must be 1 to 15 letters, digits, '_', '.' or '-'";
    private const string PrefixHint = "must be 1 to 11 letters, digits, '_', '.' or '-'";

    /// <summary>PAP Peer-ID and CHAP Name carry at most 255 bytes (the protocol layer refuses longer names).</summary>
    private const int MaxWireNameBytes = 255;

    /// <summary>PATH_MAX less its NUL.</summary>
    private const int MaxPathLength = 4095;

    private static readonly string[] DefaultAuthMethods = ["mschapv2"];
    private static readonly int[] DefaultKeyLengths = [128];

    // Declared after the name lists above: static initializers run in text order.
    public static IReadOnlyList<ConfigKey> All { get; } = Build();

    private static readonly Dictionary<string, ConfigKey> ByPath = All.ToDictionary(k => k.Path, StringComparer.Ordinal);

    /// <summary>The table entry for a pattern path; a missing entry is a programming error in the binder.</summary>
    public static ConfigKey Get(string pattern) =>
        ByPath.TryGetValue(pattern, out var key)
            ? key
            : throw new InvalidOperationException($"the binder reads '{pattern}', which is not in ConfigKeys");

    public static bool TryGet(string pattern, out ConfigKey key) => ByPath.TryGetValue(pattern, out key!);

    /// <summary>The known keys directly under a pattern path ("" for the root), for did-you-mean suggestions.</summary>
    public static IEnumerable<string> ChildNames(string parentPattern)
    {
        var prefix = parentPattern.Length == 0 ? "" : parentPattern + ".";
        foreach (var key in All)
        {
            if (key.Path.StartsWith(prefix, StringComparison.Ordinal) && key.Path.Length > prefix.Length)
            {
                var rest = key.Path[prefix.Length..];
                if (!rest.Contains('.', StringComparison.Ordinal) && !rest.StartsWith('['))
                {
                    yield return rest.EndsWith("[]", StringComparison.Ordinal) ? rest[..^2] : rest;
                }
            }
        }
    }

    private static ConfigKey[] Build()
    {
        var keys = new List<ConfigKey>
        {
            new("$schema", ConfigValueKind.String, "The JSON Schema that lets VS Code complete and check this file.", MaxLength: 1024),
            new("logging", ConfigValueKind.Object, "What the gateway writes to the system log."),
            new("logging.level", ConfigValueKind.String, "Least severe message to log.", "information", LogLevelNames),

            new("server", ConfigValueKind.Object,
                "The PPTP server role: accept VPN connections from other machines. Leave it out to run no server."),
            new("server.enabled", ConfigValueKind.Boolean, "Set false to keep the section but not run the server.", true),
            new("server.listen", ConfigValueKind.String,
                "IPv4 address to accept PPTP connections (TCP 1723) on; 0.0.0.0 means every interface.", "0.0.0.0"),
            new("server.localAddress", ConfigValueKind.String,
                "This gateway's IPv4 address on every server tunnel, e.g. 192.168.100.1.", Required: true),
            new("server.pool", ConfigValueKind.StringArray,
                "Addresses handed to clients: CIDR prefixes (192.168.100.16/28) or ranges (192.168.100.10-192.168.100.50, or 192.168.100.10-50). Must not overlap a local network.",
                Required: true),
            new("server.dns", ConfigValueKind.StringArray, "DNS server addresses offered to clients (ms-dns).", Array.Empty<string>()),
            new("server.wins", ConfigValueKind.StringArray, "WINS server addresses offered to clients (ms-wins).", Array.Empty<string>()),
            new("server.pushRoutes", ConfigValueKind.StringArray,
                "IPv4 prefixes (CIDR) pushed to Windows clients as split-tunnel routes via this gateway: the answer to the DHCPINFORM they send after connecting (DHCP options 121 and 249, as RRAS does). At most 24. Empty: DHCPINFORM is not answered.",
                Array.Empty<string>()),
            new("server.maxSessions", ConfigValueKind.Integer, "Most tunnels open at once.", 16, Minimum: 1, Maximum: 1024),
            new("server.maxConnectionsPerSource", ConfigValueKind.Integer,
                "Most control connections from one source address.", 4, Minimum: 1, Maximum: 1024),
        };
        AddAuthAndMppe(keys, "server", "clients may use");
        keys.AddRange(
        [
            new("server.lockout", ConfigValueKind.Object, "Locks a user name out after repeated failed logins."),
            new("server.lockout.failures", ConfigValueKind.Integer, "Failed logins within the window that lock the user out.", 5, Minimum: 1, Maximum: 1000),
            new("server.lockout.windowSeconds", ConfigValueKind.Integer, "Seconds over which failures are counted.", 300, Minimum: 1, Maximum: 86400),
            new("server.lockout.durationSeconds", ConfigValueKind.Integer, "Seconds a locked-out user stays locked out.", 900, Minimum: 1, Maximum: 604800),
            new("server.radius", ConfigValueKind.Object,
                "Check logins with RADIUS servers (FreeRADIUS, NPS) instead of, or before, the users here. Leave it out to use only the users here."),
            new("server.radius.servers", ConfigValueKind.ObjectArray, "RADIUS servers, tried in this order; one that does not answer is tried last for a while.", Required: true),
            new("server.radius.servers[].address", ConfigValueKind.String, "The server's IPv4 address (no host names: a login must not wait for DNS).", Required: true),
            new("server.radius.servers[].port", ConfigValueKind.Integer, "Its authentication port.", 1812, Minimum: 1, Maximum: 65535),
            new("server.radius.servers[].accountingPort", ConfigValueKind.Integer, "Its accounting port (with server.radius.accounting on).", 1813, Minimum: 1, Maximum: 65535),
            new("server.radius.servers[].secret", ConfigValueKind.String, "The shared secret (clients.conf on FreeRADIUS). Or secretFile.", Secret: true, MaxLength: RadiusWire.MaxSharedSecretLength),
            new("server.radius.servers[].secretFile", ConfigValueKind.String, "Absolute path of a file holding the shared secret (its first line), instead of secret.", MaxLength: MaxPathLength),
            new("server.radius.timeoutSeconds", ConfigValueKind.Integer, "Seconds to wait for the first answer; each retry waits twice as long (at most twice this).", 3, Minimum: 1, Maximum: 10),
            new("server.radius.attempts", ConfigValueKind.Integer, "Requests sent to one server before the next is tried.", 2, Minimum: 1, Maximum: 5),
            new("server.radius.nasIdentifier", ConfigValueKind.String, "NAS-Identifier sent with each request; default pptp-gateway unless nasIpAddress is given.", MaxLength: RadiusWire.MaxAttributeValueLength),
            new("server.radius.nasIpAddress", ConfigValueKind.String, "NAS-IP-Address sent with each request (this gateway's IPv4 address as the RADIUS server knows it)."),
            new("server.radius.authMethods", ConfigValueKind.StringArray, "Which of server.authMethods RADIUS checks; the others use the users here. Default: all of them.", Allowed: AuthMethodNames),
            new("server.radius.fallbackToLocal", ConfigValueKind.Boolean, "When no RADIUS server answers, check the users here instead of refusing the login.", false),
            new("server.radius.accounting", ConfigValueKind.Object, "RADIUS accounting (RFC 2866): a Start, Interim-Update and Stop record for every session, with its bytes, packets and time."),
            new("server.radius.accounting.enabled", ConfigValueKind.Boolean, "Send accounting records to the servers' accounting ports.", true),
            new("server.radius.accounting.interimIntervalSeconds", ConfigValueKind.Integer,
                "Seconds between Interim-Update records of a session; 0 sends them only when the server's Acct-Interim-Interval asks (which wins when given).", 0, Minimum: 0, Maximum: 86400),
            new("server.radius.dynamicAuthorization", ConfigValueKind.Object,
                "Let RADIUS servers end or change sessions: Disconnect-Request and CoA-Request (RFC 5176) from the clients listed here only."),
            new("server.radius.dynamicAuthorization.enabled", ConfigValueKind.Boolean, "Set true to listen for Disconnect and CoA requests.", false),
            new("server.radius.dynamicAuthorization.listen", ConfigValueKind.String, "IPv4 address to listen on; 0.0.0.0 means every interface.", "0.0.0.0"),
            new("server.radius.dynamicAuthorization.port", ConfigValueKind.Integer, "UDP port to listen on.", RadiusWire.DynamicAuthorizationPort, Minimum: 1, Maximum: 65535),
            new("server.radius.dynamicAuthorization.clients", ConfigValueKind.ObjectArray, "The RADIUS servers (or radclient hosts) allowed to send requests; datagrams from any other address are dropped."),
            new("server.radius.dynamicAuthorization.clients[].address", ConfigValueKind.String, "The client's IPv4 address (no host names).", Required: true),
            new("server.radius.dynamicAuthorization.clients[].secret", ConfigValueKind.String, "The secret it signs requests with. Or secretFile.", Secret: true, MaxLength: RadiusWire.MaxSharedSecretLength),
            new("server.radius.dynamicAuthorization.clients[].secretFile", ConfigValueKind.String, "Absolute path of a file holding the secret (its first line), instead of secret.", MaxLength: MaxPathLength),
            new("server.users", ConfigValueKind.ObjectArray, "The accounts that may connect."),
            new("server.users[].name", ConfigValueKind.String, "User name (unique).", Required: true, MaxUtf8Bytes: MaxWireNameBytes),
            new("server.users[].password", ConfigValueKind.String,
                "Password in plain text. Prefer ntHash so no plain text sits on the card.", Secret: true,
                MaxLength: MsChapCrypto.MaxPasswordLength),
            new("server.users[].ntHash", ConfigValueKind.String,
                "The password's NT hash, 32 hex digits (MD4 of the UTF-16LE password). Use instead of password.",
                Secret: true, Pattern: NtHashPattern, PatternHint: NtHashHint),
            new("server.users[].address", ConfigValueKind.String, "Fixed tunnel address for this user (optional)."),
            new("server.users[].enabled", ConfigValueKind.Boolean, "Set false to refuse this user without deleting it.", true),
            new("server.users[].maxSessions", ConfigValueKind.Integer, "Most tunnels this user may have open at once.", 1, Minimum: 1, Maximum: 1024),

            new("clients", ConfigValueKind.ObjectArray, "The PPTP client role: VPN servers this gateway dials."),
            new("clients[].name", ConfigValueKind.String, "Name of this connection (unique), used in logs and status.", Required: true, MaxLength: 64),
            new("clients[].enabled", ConfigValueKind.Boolean, "Set false to keep the entry but not dial it.", true),
            new("clients[].server", ConfigValueKind.String, "Host name or IPv4 address of the VPN server.", Required: true, MaxLength: 253),
            new("clients[].user", ConfigValueKind.String, "User name to log in with.", Required: true, MaxUtf8Bytes: MaxWireNameBytes),
            new("clients[].password", ConfigValueKind.String, "Password in plain text. Prefer ntHash.", Secret: true,
                MaxLength: MsChapCrypto.MaxPasswordLength),
            new("clients[].ntHash", ConfigValueKind.String,
                "The password's NT hash, 32 hex digits. Enough for MS-CHAP; PAP and CHAP need the password.",
                Secret: true, Pattern: NtHashPattern, PatternHint: NtHashHint),
        ]);
        AddAuthAndMppe(keys, "clients[]", "this client accepts");
        keys.AddRange(
        [
            new("clients[].redial", ConfigValueKind.Object, "How to dial again after the tunnel drops or fails to come up."),
            new("clients[].redial.initialDelaySeconds", ConfigValueKind.Number, "Wait before the first redial; doubles on each failure.", 5.0, Minimum: 0, Maximum: 3600),
            new("clients[].redial.maxDelaySeconds", ConfigValueKind.Number, "Longest wait between redials.", 300.0, Minimum: 1, Maximum: 86400),
            new("clients[].redial.jitter", ConfigValueKind.Number, "Random spread of each wait, as a fraction (0.2 = ±20%).", 0.2, Minimum: 0, Maximum: 1),
            new("clients[].defaultRoute", ConfigValueKind.Boolean, "Send all traffic through this tunnel.", false),
            new("clients[].routes", ConfigValueKind.StringArray, "Prefixes (CIDR) to route through this tunnel.", Array.Empty<string>()),
            new("clients[].usePeerDns", ConfigValueKind.Boolean, "Ask the server for DNS addresses.", false),
            new("clients[].writeSystemResolvConf", ConfigValueKind.Boolean, "Write the server's DNS addresses to /etc/resolv.conf.", false),
            new("clients[].interface", ConfigValueKind.String, "TUN interface name for this tunnel; default tun.clientPrefix plus its index.",
                Pattern: "^[A-Za-z0-9_.-]{1,15}$", PatternHint: InterfaceHint),
            new("clients[].shareControlConnection", ConfigValueKind.Boolean,
                "Place this tunnel's call on a control connection another tunnel to the same server has open (as pptp-linux does). Off: one connection per tunnel, which every server takes (pptpd carries one call per connection).", false),

            new("ppp", ConfigValueKind.Object, "PPP link tuning shared by every tunnel."),
            new("ppp.mru", ConfigValueKind.Integer, "Largest packet to receive.", 1400, Minimum: 576, Maximum: 1500),
            new("ppp.mtu", ConfigValueKind.Integer, "Largest packet to send.", 1400, Minimum: 576, Maximum: 1500),
            new("ppp.lcpEchoIntervalSeconds", ConfigValueKind.Integer, "Seconds between link keep-alive probes; 0 turns them off.", 10, Minimum: 0, Maximum: 3600),
            new("ppp.lcpEchoFailures", ConfigValueKind.Integer, "Unanswered probes before the link is declared dead.", 3, Minimum: 1, Maximum: 100),
            new("ppp.restartTimerSeconds", ConfigValueKind.Integer, "Seconds before a negotiation packet is sent again.", 3, Minimum: 1, Maximum: 60),
            new("ppp.maxConfigure", ConfigValueKind.Integer, "Configure-Requests sent before negotiation gives up.", 10, Minimum: 1, Maximum: 100),
            new("ppp.clampMss", ConfigValueKind.Boolean, "Lower the MSS of TCP connections through a tunnel to what fits it (as routers do).", true),

            new("tun", ConfigValueKind.Object, "Names of the TUN interfaces the tunnels use."),
            new("tun.serverPrefix", ConfigValueKind.String, "Server tunnels are named this plus a number.", "pptps", Pattern: "^[A-Za-z0-9_.-]{1,11}$", PatternHint: PrefixHint),
            new("tun.clientPrefix", ConfigValueKind.String, "Client tunnels are named this plus a number.", "pptpc", Pattern: "^[A-Za-z0-9_.-]{1,11}$", PatternHint: PrefixHint),

            new("forwarding", ConfigValueKind.Object, "Router use: forward packets between tunnels and the LAN."),
            new("forwarding.enabled", ConfigValueKind.Boolean, "Turn on IPv4 forwarding.", false),
            new("forwarding.masqueradeOut", ConfigValueKind.String, "NAT (masquerade) tunnel traffic leaving this interface, e.g. eth0.",
                Pattern: "^[A-Za-z0-9_.-]{1,15}$", PatternHint: InterfaceHint),

            new("hooks", ConfigValueKind.Object, "Scripts run when a tunnel comes up or goes down."),
            new("hooks.ipUp", ConfigValueKind.String, "Absolute path of a script run when a tunnel is up.", MaxLength: MaxPathLength),
            new("hooks.ipDown", ConfigValueKind.String, "Absolute path of a script run when a tunnel is down.", MaxLength: MaxPathLength),
            new("hooks.timeoutSeconds", ConfigValueKind.Integer, "Seconds a hook may run before it is killed.", 10, Minimum: 1, Maximum: 300),
        ]);
        AddBoard(keys);
        return [.. keys];
    }

    /// <summary>
    /// The board section binds straight into <see cref="BoardOptions"/>: defaults and limits are read from it, not
    /// repeated here. Durations are seconds, as everywhere else in the file.
    /// </summary>
    private static void AddBoard(List<ConfigKey> keys)
    {
        var defaults = new BoardOptions();
        var pins = BoardProfiles.Find(defaults.Profile)!.Pins;
        keys.AddRange(
        [
            new("board", ConfigValueKind.Object, "The board's two buttons and three LEDs."),
            new("board.enabled", ConfigValueKind.Boolean, "Set false to leave the buttons and LEDs alone.", defaults.Enabled),
            new("board.profile", ConfigValueKind.String,
                "Board profile: the GPIO chip, default pins and the pins that are safe to use.", defaults.Profile, ProfileNames),
            new("board.driver", ConfigValueKind.String,
                "auto: the board's GPIO chip (no GPIO = a warning, no buttons); console: print LEDs, take presses from commands; none: off.",
                ConfigWords.Of(defaults.Driver), DriverNames),
            Seconds("board.debounceSeconds", "A button level must hold this long to count (contact bounce is shorter).",
                defaults.Debounce, BoardOptions.DebounceLimits),
            Seconds("board.doublePressWindowSeconds", "A second press starting this soon after a release makes a double press.",
                defaults.DoublePressWindow, BoardOptions.DoublePressWindowLimits),
            Seconds("board.longPressSeconds", "Hold at least this long for a long press.", defaults.LongPress, BoardOptions.LongPressLimits),
            Seconds("board.veryLongPressSeconds", "Hold at least this long for a very long press.",
                defaults.VeryLongPress, BoardOptions.VeryLongPressLimits),
            new("board.selfTest", ConfigValueKind.Boolean, "Light every LED once at start.", defaults.SelfTest),
            new("board.buttons", ConfigValueKind.Object,
                "What each press does. reboot and factory-reset may only be bound to long or very long presses (factory-reset to veryLong only)."),
        ]);
        AddButton(keys, "button1", defaults.Button1, pins.Button1);
        AddButton(keys, "button2", defaults.Button2, pins.Button2);
        keys.Add(new("board.leds", ConfigValueKind.Object, "The LEDs: a header pin (through a resistor to GND) or an LED of the board itself."));
        AddLed(keys, "power", "Power LED: heartbeat while a config runs, steady when none does.", pins.PowerLed);
        AddLed(keys, "tunnel", "Tunnel LED: on when up or serving, slow blink connecting, fast blink failing, 3 flashes for a config problem.", pins.TunnelLed);
        AddLed(keys, "activity", "Activity LED: flashes with tunnel traffic.", pins.ActivityLed);
    }

    private static ConfigKey Seconds(string path, string description, TimeSpan value, (TimeSpan Min, TimeSpan Max) limits) =>
        new(path, ConfigValueKind.Number, description, value.TotalSeconds, Minimum: limits.Min.TotalSeconds, Maximum: limits.Max.TotalSeconds);

    private static void AddButton(List<ConfigKey> keys, string name, ButtonOptions defaults, int defaultPin)
    {
        var path = "board.buttons." + name;
        keys.AddRange(
        [
            new(path, ConfigValueKind.Object, $"Button {name[^1]}."),
            new(path + ".enabled", ConfigValueKind.Boolean, "Set false to ignore this button and free its pin.", defaults.Enabled),
            new(path + ".pin", ConfigValueKind.Integer,
                $"Header GPIO (BCM number); default: the profile's, GPIO {defaultPin} on the Raspberry Pi profiles.", Minimum: 0, Maximum: 1023),
            new(path + ".activeLow", ConfigValueKind.Boolean, "True for a button wired to GND (pressed reads low).", defaults.ActiveLow),
            new(path + ".bias", ConfigValueKind.String,
                "Internal resistor; default pull-up for an active-low button, pull-down for an active-high one.", Allowed: BiasNames),
            Command(path + ".short", "Short press.", defaults.Short),
            Command(path + ".double", "Two short presses; binding it delays the short press by doublePressWindowSeconds.", defaults.Double),
            Command(path + ".long", "Long press (longPressSeconds).", defaults.Long),
            Command(path + ".veryLong", "Very long press (veryLongPressSeconds).", defaults.VeryLong),
        ]);
    }

    private static ConfigKey Command(string path, string description, GatewayCommand value) =>
        new(path, ConfigValueKind.String, description, ConfigWords.Of(value), CommandNames);

    private static void AddLed(List<ConfigKey> keys, string name, string description, int defaultPin)
    {
        var path = "board.leds." + name;
        keys.AddRange(
        [
            new(path, ConfigValueKind.Object, description),
            new(path + ".enabled", ConfigValueKind.Boolean, "Set false to leave this LED dark and free its pin.", true),
            new(path + ".pin", ConfigValueKind.Integer,
                $"Header GPIO (BCM number); default: the profile's, GPIO {defaultPin} on the Raspberry Pi profiles.", Minimum: 0, Maximum: 1023),
            new(path + ".device", ConfigValueKind.String,
                "An LED of the board under /sys/class/leds (e.g. ACT) instead of a header pin; give pin or device, not both.",
                MaxLength: 64),
        ]);
    }

    private static void AddAuthAndMppe(List<ConfigKey> keys, string prefix, string who)
    {
        keys.Add(new($"{prefix}.authMethods", ConfigValueKind.StringArray,
            $"Authentication methods {who}. Only mschapv2 is reasonably safe; pap, chap and mschap load with a warning.",
            DefaultAuthMethods, AuthMethodNames));
        keys.Add(new($"{prefix}.mppe", ConfigValueKind.Object, "MPPE encryption policy."));
        keys.Add(new($"{prefix}.mppe.required", ConfigValueKind.Boolean, "Refuse tunnels without MPPE encryption.", true));
        keys.Add(new($"{prefix}.mppe.keyLengths", ConfigValueKind.IntegerArray, "MPPE key lengths allowed, in bits; 40 and 56 are weak.",
            DefaultKeyLengths, ["40", "56", "128"]));
        keys.Add(new($"{prefix}.mppe.allowStateless", ConfigValueKind.Boolean, "Allow stateless mode (a new key for every packet).", true));
        keys.Add(new($"{prefix}.mppe.allowStateful", ConfigValueKind.Boolean, "Allow stateful mode (one lost packet forces a resync); some old peers only do stateful.", true));
        keys.Add(new($"{prefix}.mppe.preferStateless", ConfigValueKind.Boolean, "Ask for stateless mode when both are allowed.", true));
    }
}
