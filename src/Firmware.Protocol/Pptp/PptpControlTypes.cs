using System.Net;

namespace Firmware.Protocol.Pptp;

/// <summary>
/// Which end of the control connection we are. RFC 2637 names the ends by their telephony role: the PNS
/// (network server) sends Outgoing-Call-Request and Call-Clear-Request, the PAC (access concentrator) answers
/// with Outgoing-Call-Reply and sends Call-Disconnect-Notify. In VPN use the roles are turned around from
/// what the names suggest: the dialing client (pptp-linux, Windows) opens the TCP connection, sends the
/// Start-Control-Connection-Request and the Outgoing-Call-Request, so it plays the PNS; the VPN server
/// (pptpd, which calls itself the PAC) answers. We therefore name the roles by what they do.
/// </summary>
public enum PptpControlRole
{
    /// <summary>Originator: opens TCP, sends SCCRQ, places calls with OCRQ, clears them with CCRQ (RFC: PNS).</summary>
    Client,
    /// <summary>Answerer: replies SCCRP, accepts or refuses OCRQ, reports disconnects with CDN (RFC: PAC).</summary>
    Server,
}

/// <summary>Control connection states of RFC 2637 sections 3.1.1/3.1.2, plus Closed once the TCP connection is done.</summary>
public enum PptpControlState
{
    /// <summary>Client: not started. Server: waiting for Start-Control-Connection-Request.</summary>
    Idle,
    /// <summary>Client: SCCRQ sent, waiting for SCCRP.</summary>
    WaitControlReply,
    /// <summary>Calls may be placed; echo keepalive runs.</summary>
    Established,
    /// <summary>Stop-Control-Connection-Request sent, waiting for the reply.</summary>
    WaitStopReply,
    /// <summary>Torn down; the object ignores further input.</summary>
    Closed,
}

/// <summary>Why a control connection ended.</summary>
public enum PptpTeardownReason
{
    /// <summary>Still up.</summary>
    None,
    /// <summary>We sent Stop-Control-Connection-Request (or closed before establishment).</summary>
    LocalStop,
    /// <summary>The peer sent Stop-Control-Connection-Request.</summary>
    PeerStop,
    /// <summary>The TCP connection closed underneath us.</summary>
    TransportClosed,
    /// <summary>No Echo-Reply (or any message) within the reply timeout.</summary>
    EchoTimeout,
    /// <summary>Client: no SCCRP in time. Server: no SCCRQ in time.</summary>
    StartTimeout,
    /// <summary>No Stop-Control-Connection-Reply in time.</summary>
    StopReplyTimeout,
    /// <summary>The peer answered SCCRQ with a failure result (see <see cref="PptpControlConnection.PeerStartResult"/>).</summary>
    StartRejected,
    /// <summary>The peer speaks a protocol version older than 1.0.</summary>
    VersionNotSupported,
    /// <summary>The byte stream broke (length, message type or magic cookie): it cannot be resynchronized.</summary>
    FramingError,
    /// <summary>A message that cannot be answered in this state before establishment.</summary>
    ProtocolViolation,
    /// <summary>Simultaneous SCCRQs: this connection is the redundant one (RFC 2637 section 3.1.3).</summary>
    Collision,
}

/// <summary>Why a control message was dropped without an answer; indexes <see cref="PptpControlCounters"/>.</summary>
public enum PptpControlDropReason
{
    None,
    /// <summary>Length shorter than its message type needs.</summary>
    Malformed,
    /// <summary>Control Message Type outside 1..15.</summary>
    UnknownMessageType,
    /// <summary>Valid message, wrong moment (e.g. SCCRP while established).</summary>
    UnexpectedInState,
    /// <summary>Names a call we do not have.</summary>
    UnknownCallId,
    /// <summary>Only the other role sends this (e.g. an Outgoing-Call-Reply to a server).</summary>
    WrongRole,
}

/// <summary>Message and drop counters of one control connection.</summary>
public sealed class PptpControlCounters
{
    private readonly long[] _drops = new long[(int)PptpControlDropReason.WrongRole + 1];
    private long _received;
    private long _sent;

    /// <summary>Messages decoded.</summary>
    public long Received => Interlocked.Read(ref _received);
    /// <summary>Messages sent.</summary>
    public long Sent => Interlocked.Read(ref _sent);
    /// <summary>Drops for one reason.</summary>
    public long this[PptpControlDropReason reason] => (uint)reason < (uint)_drops.Length ? Interlocked.Read(ref _drops[(int)reason]) : 0;
    /// <summary>The most recent drop reason (for logs).</summary>
    public PptpControlDropReason LastDrop { get; private set; }

    internal void CountReceived() => Interlocked.Increment(ref _received);
    internal void CountSent() => Interlocked.Increment(ref _sent);

    internal void CountDrop(PptpControlDropReason reason)
    {
        LastDrop = reason;
        Interlocked.Increment(ref _drops[(int)reason]);
    }
}

/// <summary>What the peer told us about itself in its SCCRQ or SCCRP.</summary>
public sealed record PptpPeerInfo(
    ushort ProtocolVersion,
    PptpFramingCapabilities FramingCapabilities,
    PptpBearerCapabilities BearerCapabilities,
    ushort MaximumChannels,
    ushort FirmwareRevision,
    string HostName,
    string VendorString);

/// <summary>The host's answer to an incoming Outgoing-Call-Request (server role).</summary>
public readonly record struct PptpCallDecision(OutgoingCallResult Result, PptpErrorCode ErrorCode, uint ConnectSpeed)
{
    /// <summary>Accept the call; <paramref name="connectSpeed"/> 0 uses the connection's configured speed.</summary>
    public static PptpCallDecision Accept(uint connectSpeed = 0) => new(OutgoingCallResult.Connected, PptpErrorCode.None, connectSpeed);

    /// <summary>Refuse because a resource (address pool, session limit) is exhausted.</summary>
    public static PptpCallDecision NoResources => new(OutgoingCallResult.GeneralError, PptpErrorCode.NoResource, 0);

    /// <summary>Refuse with a result code (and general error code).</summary>
    public static PptpCallDecision Refuse(OutgoingCallResult result, PptpErrorCode error = PptpErrorCode.None) => new(result, error, 0);

    /// <summary>True if the call is accepted.</summary>
    public bool IsAccepted => Result == OutgoingCallResult.Connected;
}

/// <summary>
/// The control connection's view of its host (the gateway's session loop). Every method is called on the
/// loop that feeds the connection, never concurrently.
/// </summary>
public interface IPptpControlHost
{
    /// <summary>Write one encoded control message to the TCP connection (the span is valid during the call only).</summary>
    void SendControl(ReadOnlySpan<byte> message);

    /// <summary>Close the TCP connection (after flushing what was sent).</summary>
    void CloseTransport();

    /// <summary>The control connection reached Established.</summary>
    void OnEstablished(PptpControlConnection connection);

    /// <summary>The control connection is closed (every call was cleared first).</summary>
    void OnClosed(PptpControlConnection connection, PptpTeardownReason reason);

    /// <summary>Server role: accept or refuse a peer's Outgoing-Call-Request (e.g. <see cref="PptpCallDecision.NoResources"/>
    /// when the address pool is full).</summary>
    PptpCallDecision DecideOutgoingCall(PptpControlConnection connection, OutgoingCallRequest request);

    /// <summary>A call is connected: GRE may flow for it.</summary>
    void OnCallConnected(PptpCall call);

    /// <summary>A call is gone (<see cref="PptpCall.ClearReason"/> says why); its GRE window should be disposed.</summary>
    void OnCallCleared(PptpCall call);

    /// <summary>The peer sent Set-Link-Info for a call (ACCMs recorded on the call).</summary>
    void OnLinkInfo(PptpCall call)
    {
    }

    /// <summary>The peer sent WAN-Error-Notify for a call (recorded on the call).</summary>
    void OnWanError(PptpCall call)
    {
    }

    /// <summary>Server role, on SCCRQ: a connection we originated to the same peer that may collide with this
    /// one (RFC 2637 section 3.1.3), or null.</summary>
    PptpControlConnection? FindCollidingConnection(PptpControlConnection answering) => null;
}

/// <summary>Settings of one control connection.</summary>
public sealed record PptpControlOptions
{
    public string HostName { get; init; } = "pptp-gateway";
    public string VendorString { get; init; } = "pptp-gateway";
    public ushort FirmwareRevision { get; init; } = 0x0001;
    /// <summary>Maximum Channels we announce; 0 for a client (RFC: PNS sends 0).</summary>
    public ushort MaximumChannels { get; init; }
    public PptpFramingCapabilities FramingCapabilities { get; init; } = PptpFramingCapabilities.Asynchronous | PptpFramingCapabilities.Synchronous;
    public PptpBearerCapabilities BearerCapabilities { get; init; } = PptpBearerCapabilities.Analog | PptpBearerCapabilities.Digital;

    /// <summary>Idle time before an Echo-Request (RFC 2637 section 2.5 suggests 60 s).</summary>
    public TimeSpan EchoInterval { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>How long to wait for any message after an Echo-Request before tearing down.</summary>
    public TimeSpan EchoReplyTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Client: wait for SCCRP. Server: wait for SCCRQ after TCP accept.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Wait for Stop-Control-Connection-Reply.</summary>
    public TimeSpan StopReplyTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Wait for Outgoing-Call-Reply, and for Call-Disconnect-Notify after Call-Clear-Request.</summary>
    public TimeSpan CallReplyTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Packet Receive Window Size we announce for our calls.</summary>
    public ushort ReceiveWindow { get; init; } = 64;
    /// <summary>Packet Processing Delay we announce, in 1/10 s.</summary>
    public ushort PacketProcessingDelay { get; init; }
    /// <summary>Client: OCRQ Minimum BPS and Maximum BPS.</summary>
    public uint MinimumBps { get; init; } = 2400;
    public uint MaximumBps { get; init; } = 100_000_000;
    /// <summary>Server: Connect Speed reported in OCRP unless the decision names one.</summary>
    public uint ConnectSpeed { get; init; } = 100_000_000;

    /// <summary>Our address and the peer's, for deciding SCCRQ collisions; without both no collision is resolved.</summary>
    public IPAddress? LocalAddress { get; init; }
    public IPAddress? PeerAddress { get; init; }

    /// <summary>
    /// Fills a span with random bytes (call IDs, serial numbers). The core has no source of its own: the gateway
    /// passes the kernel's (getrandom), tests a seeded one.
    /// </summary>
    public required Action<Span<byte>> RandomFill { get; init; }

    /// <summary>
    /// Whether a call ID is free beyond this connection: the gateway keys GRE by (peer address, call ID), and two
    /// connections from one address (hosts behind one NAT) must not pick the same. Null: only this connection's calls count.
    /// </summary>
    public Func<ushort, bool>? CallIdAvailable { get; init; }
}

/// <summary>RFC 2637 section 3.1.3: of two simultaneous SCCRQs, the peer with the higher IP address wins.</summary>
public static class PptpCollision
{
    /// <summary>
    /// True if we win: our originated connection survives and we stay silent on the peer's. Addresses compare
    /// as unsigned big-endian numbers (IPv4 as 32-bit values, network number most significant); mixed families
    /// compare as IPv6. Equal addresses never win (both sides would otherwise keep their own connection).
    /// </summary>
    public static bool LocalWins(IPAddress local, IPAddress peer)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(peer);
        if (local.AddressFamily != peer.AddressFamily)
        {
            local = local.MapToIPv6();
            peer = peer.MapToIPv6();
        }
        Span<byte> a = stackalloc byte[16];
        Span<byte> b = stackalloc byte[16];
        local.TryWriteBytes(a, out var lengthA);
        peer.TryWriteBytes(b, out var lengthB);
        return a[..lengthA].SequenceCompareTo(b[..lengthB]) > 0;
    }
}
