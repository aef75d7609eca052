using System.Globalization;
using System.Text.Json.Serialization;

namespace Firmware.Gateway.Status;

/// <summary>One tunnel as `pptp-gateway status` shows it.</summary>
public sealed record SessionStatus
{
    public required string Name { get; init; }
    /// <summary>"server" for a road warrior's session, "client" for a tunnel we dialed.</summary>
    public required string Role { get; init; }
    public required string State { get; init; }
    public string? User { get; init; }
    public string? Peer { get; init; }
    public string? LocalAddress { get; init; }
    public string? RemoteAddress { get; init; }
    /// <summary>The IPv6 link-local pair IPv6CP agreed (null while IPv6CP is not up).</summary>
    public string? LocalIpv6 { get; init; }
    public string? RemoteIpv6 { get; init; }
    public string? Interface { get; init; }
    public string? Mppe { get; init; }
    public string? AuthMethod { get; init; }
    /// <summary>Server sessions with RADIUS: the Acct-Session-Id its accounting records carry (a Disconnect-Request may name it).</summary>
    public string? AcctSessionId { get; init; }
    public double UptimeSeconds { get; init; }
    public long BytesSent { get; init; }
    public long BytesReceived { get; init; }
    public long PacketsSent { get; init; }
    public long PacketsReceived { get; init; }
    public IReadOnlyDictionary<string, long> Drops { get; init; } = new Dictionary<string, long>();
    /// <summary>Stateful MPPE's resynchronisation counters (Reset-Requests, key searches, key holds); absent without MPPE.</summary>
    public IReadOnlyDictionary<string, long>? MppeSync { get; init; }
    /// <summary>
    /// The GRE reorder buffer: packets held ahead of a gap (held), late ones still delivered in order
    /// (recovered), numbers given up on (lost), packets that came after their gap was given up on
    /// (lateAfterGiveUp), and the adaptive gap timeout (gapTimeoutMs) and depth now in use; absent before the call.
    /// </summary>
    public IReadOnlyDictionary<string, long>? Reorder { get; init; }
    /// <summary>The largest IP packet the tunnel carries whole (our MTU, both MRUs, less MPPE's 4 bytes); 0 before it is up.</summary>
    public int Mtu { get; init; }
    /// <summary>TCP SYNs whose MSS was lowered to fit the tunnel.</summary>
    public long MssClamped { get; init; }
    public string? LastError { get; init; }
}

/// <summary>The whole service as the status socket reports it.</summary>
public sealed record GatewayStatus
{
    public required string Version { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    /// <summary>Seconds since start on the monotonic clock (StartedAt is wall time, which steps at boot on a Pi).</summary>
    public double UptimeSeconds { get; init; }
    public string? ConfigFile { get; init; }
    public string? ConfigState { get; init; }
    /// <summary>What the gateway can do with the card: ok, missing, unreadable or unwritable.</summary>
    public string? Card { get; init; }
    /// <summary>Why the configured server takes no calls (its interface cannot be created); null when it runs or is off.</summary>
    public string? ServerError { get; init; }
    /// <summary>What each LED shows now (by the README's table; also without GPIO), e.g. "blink code 3".</summary>
    public IReadOnlyDictionary<string, string>? Leds { get; init; }
    /// <summary>The number button 2 would blink now.</summary>
    public int? StatusCode { get; init; }
    /// <summary>Service-wide counters: GRE that reached no session and why, refused connections, failed logins.</summary>
    public IReadOnlyDictionary<string, long> Counters { get; init; } = new Dictionary<string, long>();
    public IReadOnlyList<SessionStatus> Sessions { get; init; } = [];
    /// <summary>The process's own allocation, collection and memory counters; null only where they cannot be read.</summary>
    public ProcessStatus? Process { get; init; }
}

/// <summary>
/// The gateway process as the runtime sees it, for `scripts/bench-tunnel` (bytes allocated per tunnelled packet,
/// RSS per session) and for anyone watching a long-running gateway grow.
/// </summary>
public sealed record ProcessStatus
{
    /// <summary>Bytes the managed heap has handed out since start (GC.GetTotalAllocatedBytes(false): each thread's
    /// current allocation context, a few kB, is not counted until it is used up).</summary>
    public long AllocatedBytes { get; init; }
    /// <summary>Collections so far, by generation: gen0, gen1, gen2 (a gen2 collection also counts as gen1 and gen0).</summary>
    public IReadOnlyDictionary<string, long> GcCollections { get; init; } = new Dictionary<string, long>();
    /// <summary>Resident set size in bytes (/proc/self/statm), 0 where it cannot be read.</summary>
    public long RssBytes { get; init; }

    /// <summary>Full collections run to give the heap's slack back to the kernel once the gateway went quiet.</summary>
    public long HeapTrims { get; init; }
    /// <summary>Committed heap bytes those trims gave back, in all.</summary>
    public long HeapTrimReleasedBytes { get; init; }
    /// <summary>How long the last trim stopped the process, in milliseconds.</summary>
    public double HeapTrimLastPauseMs { get; init; }

    /// <summary>Reads the counters now (the trims' from <paramref name="trimmer"/>, when one runs).</summary>
    internal static ProcessStatus Capture(Runtime.HeapTrimmer? trimmer = null) => new()
    {
        HeapTrims = trimmer?.Trims ?? 0,
        HeapTrimReleasedBytes = trimmer?.ReleasedBytes ?? 0,
        HeapTrimLastPauseMs = trimmer?.LastPauseMilliseconds ?? 0,
        AllocatedBytes = GC.GetTotalAllocatedBytes(precise: false),
        GcCollections = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["gen0"] = GC.CollectionCount(0),
            ["gen1"] = GC.CollectionCount(1),
            ["gen2"] = GC.CollectionCount(2),
        },
        RssBytes = ReadRssBytes(),
    };

    /// <summary>The second field of /proc/self/statm (resident pages) times the page size.</summary>
    internal static long ReadRssBytes(string statm = "/proc/self/statm")
    {
        try
        {
            var fields = File.ReadAllText(statm).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 1 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pages)
                ? pages * Environment.SystemPageSize
                : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}

/// <summary>A reply to a control-socket command.</summary>
public sealed record ControlReply
{
    public required bool Ok { get; init; }
    public string? Message { get; init; }
    public GatewayStatus? Status { get; init; }
}

/// <summary>Source-generated JSON for the status types: no reflection, so the AOT binary stays warning-free.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ControlReply))]
[JsonSerializable(typeof(GatewayStatus))]
internal sealed partial class StatusJsonContext : JsonSerializerContext;
