using System.Globalization;
using System.Net;
using Firmware.Platform.Gre;
using Firmware.Platform.Linux;
using Firmware.Protocol;
using Firmware.Protocol.Ccp;
using Firmware.Protocol.Gre;
using Firmware.Protocol.Ip;
using Firmware.Protocol.Mppe;
using Firmware.Protocol.Ppp;
using Firmware.Protocol.Pptp;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Runtime;

/// <summary>Where a tunnel stands, as the status command, the logs and the LEDs show it.</summary>
public enum TunnelState
{
    Connecting,
    Authenticating,
    Up,
    Closing,
    Closed,
}

/// <summary>Everything one tunnel needs that does not change while it runs.</summary>
public sealed record TunnelSessionOptions
{
    public required string Name { get; init; }
    public required PptpControlRole Role { get; init; }
    public required PppSessionOptions Ppp { get; init; }
    public IPppAuthFactory? AuthFactory { get; init; }
    public Func<PppLayerContext, IPppEncryptionLayer>? EncryptionLayer { get; init; }
    /// <summary>
    /// GRE window settings. The peer's receive window is not enforced on send: it dates from dial-up PACs, the
    /// Linux kernel's PPTP does not enforce it either, and dropping at a full window turns every burst into TCP
    /// retransmissions. Acknowledgments still go promptly so a peer that does enforce ours keeps moving.
    /// </summary>
    public GreWindowOptions GreWindow { get; init; } = new() { EnforceSendWindow = false };

    /// <summary>
    /// Server: how long a connection may take from TCP accept to a successful login, whatever it does
    /// meanwhile (a slowloris SCCRQ, no call, an LCP or auth exchange kept alive). Null: no such deadline.
    /// </summary>
    public TimeSpan? LoginDeadline { get; init; }

    /// <summary>The largest packet we send (ppp.mtu); the tunnel's MTU is this or less once the link is up.</summary>
    public int Mtu { get; init; } = 1400;

    /// <summary>Lower the MSS of TCP SYNs through the tunnel to what fits it (ppp.clampMss).</summary>
    public bool ClampMss { get; init; } = true;
}

/// <summary>What a tunnel asks of the server or client that owns it. Called on the tunnel's loop.</summary>
public interface ITunnelSessionHost
{
    /// <summary>The PPP options for this call (the server fills in the addresses it assigns).</summary>
    PppSessionOptions PreparePpp(TunnelSession session, PppSessionOptions options);

    /// <summary>Authentication finished one way or the other (lockout accounting, LEDs).</summary>
    void OnAuthentication(TunnelSession session, bool succeeded, string? user, string? reason);

    /// <summary>IPCP is up: install addresses and routes.</summary>
    void OnNetworkUp(TunnelSession session, PppNegotiatedParameters negotiated);

    /// <summary>IPv6CP is up too (after IPCP, or when it opens later): carry IPv6 link-local packets.</summary>
    void OnIpv6Up(TunnelSession session, PppNegotiatedParameters negotiated);

    /// <summary>An IPv4/IPv6 packet from the peer for the TUN.</summary>
    void DeliverPacket(TunnelSession session, PppProtocol protocol, Span<byte> packet);

    /// <summary>The tunnel is gone; free everything it held.</summary>
    void OnClosed(TunnelSession session, string reason);

    /// <summary>The call is connected but no GRE came from the peer within <see cref="TunnelSession.GreSilenceLimit"/>.</summary>
    void OnGreBlocked(TunnelSession session);
}

/// <summary>
/// One PPTP tunnel: a call on a <see cref="ControlChannel"/>, its GRE window and its PPP session (with
/// authentication and MPPE), all driven by one <see cref="SessionLoop"/>. Nothing here is touched from any
/// other thread: the control connection, the GRE reader, the TUN reader and timers post into the loop.
/// GRE leaves in batches: what the loop sends while it works through a batch of its queue goes out in one
/// sendmmsg when the batch is done; a data packet leaves in the very buffer the TUN reader filled.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The session's own loop disposes its parts when it ends (FinishLoop); no other thread may.")]
public sealed partial class TunnelSession : IGreWindowHost<byte[]>, IPppSessionOutput, IGreReceiver
{
    private readonly TunnelSessionOptions _options;
    private readonly ITunnelSessionHost _host;
    private readonly ControlChannel _channel;
    private readonly GreMultiplexer _gre;
    private readonly PacketBufferPool _pool;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SessionLoop _loop;
    private readonly ProtocolTimer? _loginDeadline;
    private ProtocolTimer? _greWatch;
    private ushort _mssLimit4, _mssLimit6;
    private bool _greFromPeer;
    private bool _ipv6Reported;
    private PptpCall? _call;
    /// <summary>The control connection has let go of the call (cleared, or the connection is gone).</summary>
    private bool _callGone;
    private GreWindow<byte[]>? _window;
    private PppSession? _ppp;
    private IPppEncryptionLayer? _encryption;
    private readonly uint _peerKey;
    private bool _peerConnected;
    private bool _registered;
    private readonly GreSendBatch _sends = new(SendBatchSize);
    /// <summary>The TUN packet being sent now; its GRE packet joins the batch in this same buffer.</summary>
    private byte[]? _outbound;
    private bool _outboundQueued;
    private const int SendBatchSize = 32;
    private readonly Queue<(byte[] Buffer, GrePacket Packet)> _early = new();
    private const int MaxEarlyPackets = 8;
    private bool _closed;
    private long _bytesSent, _bytesReceived, _packetsSent, _packetsReceived;
    private long _tunDrops, _greSendDrops, _decodeDrops, _spoofedSourceDrops, _mssClamped;

    public TunnelSession(TunnelSessionOptions options, ITunnelSessionHost host, ControlChannel channel, GreMultiplexer gre,
        PacketBufferPool pool, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(channel);
        _options = options;
        _host = host;
        _channel = channel;
        _gre = gre;
        _pool = pool;
        TunWrites = new TcpCoalescer(pool.SuperPackets);
        _time = time;
        _logger = logger;
        Peer = channel.Peer;
        Local = channel.Local;
        _peerKey = RawGreSocket.AddressKey(Peer);
        // A thread of its own (see SessionLoop); the kernel shows the first 15 characters of its name.
        _loop = new SessionLoop($"pptp {options.Name}");
        StartedAt = time.GetUtcNow();
        StartedTimestamp = time.GetTimestamp();
        if (options.LoginDeadline is { } deadline)
        {
            _loginDeadline = new ProtocolTimer(time, () => Shutdown(
                $"no login within {deadline.TotalSeconds:0} s of the call (stuck in {(_call is null ? "placing the call" : "authentication")})", SessionEndCause.NasRequest), Dispatch);
        }
    }

    /// <summary>The control connection carrying this tunnel's call.</summary>
    public ControlChannel Channel => _channel;

    /// <summary>The call ID we chose for this tunnel once its call is placed or accepted (0 before).</summary>
    public ushort LocalCallId { get; private set; }

    /// <summary>
    /// A connected call whose peer has sent no GRE for this long is reported as GRE-blocked: the peers answer
    /// LCP within a second, so silence means protocol 47 is dropped between them (TCP 1723 alone got through).
    /// </summary>
    public static readonly TimeSpan GreSilenceLimit = TimeSpan.FromSeconds(5);

    /// <summary>What the log, the status and the session's end reason say about a GRE-blocked call.</summary>
    public string GreBlockedReason => string.Create(CultureInfo.InvariantCulture,
        $"no GRE (IP protocol 47) from {Peer} in {GreSilenceLimit.TotalSeconds:0} s although the call is connected over TCP 1723: a firewall or a NAT without PPTP pass-through between the two drops GRE");

    /// <summary>The call is connected but its peer's GRE never arrived (see <see cref="GreSilenceLimit"/>).</summary>
    public bool GreBlocked { get; private set; }

    /// <summary>The largest IP packet that crosses this tunnel whole, once the link is up (0 before).</summary>
    public int EffectiveMtu { get; private set; }

    /// <summary>TCP SYNs whose MSS was lowered to fit the tunnel, both directions.</summary>
    public long MssClamped => Interlocked.Read(ref _mssClamped);

    /// <summary>
    /// What fits both ways: our MTU, the peer's MRU (what it takes from us) and ours (what it may send us), less
    /// the 4 bytes MPPE adds to each packet (its header and the protocol field it encrypts, RFC 3078).
    /// </summary>
    public static int EffectiveMtuOf(int mtu, PppNegotiatedParameters negotiated)
    {
        ArgumentNullException.ThrowIfNull(negotiated);
        var fits = mtu;
        if (negotiated.PeerMru > 0)
        {
            fits = Math.Min(fits, negotiated.PeerMru);
        }
        if (negotiated.LocalMru > 0)
        {
            fits = Math.Min(fits, negotiated.LocalMru);
        }
        return negotiated.EncryptionUp ? fits - 4 : fits;
    }

    public string Name => _options.Name;
    public PptpControlRole Role => _options.Role;
    public IPAddress Peer { get; }
    public IPAddress Local { get; }
    public DateTimeOffset StartedAt { get; }
    /// <summary>Monotonic timestamp of <see cref="StartedAt"/>, for ages and deadlines.</summary>
    public long StartedTimestamp { get; }
    public DateTimeOffset? UpSince { get; private set; }
    /// <summary>Monotonic timestamp of <see cref="UpSince"/>, for uptimes.</summary>
    public long? UpSinceTimestamp { get; private set; }

    /// <summary>Server: the inner source addresses this tunnel may send from (set when IPCP is up).</summary>
    public InnerSourceFilter InnerSource { get; set; }

    /// <summary>Server: a packet with another source than <see cref="InnerSource"/> allows was dropped.</summary>
    public void CountSpoofedSource() => Interlocked.Increment(ref _spoofedSourceDrops);

    public TunnelState State { get; private set; } = TunnelState.Connecting;
    public string? LastReason { get; private set; }

    /// <summary>Why the tunnel ended, once it has (<see cref="SessionEndCause.Unknown"/> before).</summary>
    public SessionEndCause EndCause { get; private set; }
    public PppNegotiatedParameters? Negotiated { get; private set; }

    /// <summary>The MPPE mode once encryption is up (e.g. "MPPE-128 stateless"), for status and logs.</summary>
    public string? EncryptionDescription { get; private set; }

    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);
    public long PacketsSent => Interlocked.Read(ref _packetsSent);
    public long PacketsReceived => Interlocked.Read(ref _packetsReceived);

    /// <summary>How stateful MPPE kept in sync (Reset-Requests, key searches, key holds); null without MPPE.</summary>
    public IReadOnlyDictionary<string, long>? MppeSync() => _encryption is MppeEncryptionLayer mppe
        ? new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["resetRequestsSent"] = mppe.ResetRequestsSent,
            ["resetRequestsReceived"] = mppe.ResetRequestsReceived,
            ["keySearchRecoveries"] = mppe.KeySearchRecoveries,
            ["keyHolds"] = mppe.KeyHoldsSent,
            ["garbageRejectsReceived"] = mppe.GarbageRejectsReceived,
        }
        : null;

    /// <summary>The GRE window's counters (reordering and its adaptive gap timeout among them); null before the call.</summary>
    public GreWindowCounters? GreCounters => _window?.Counters;

    /// <summary>Drop counters by reason, for the status command.</summary>
    public IReadOnlyDictionary<string, long> Drops()
    {
        var drops = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["queueFull"] = _loop.OverflowDrops,
            ["tunWrite"] = Interlocked.Read(ref _tunDrops),
            ["greSend"] = Interlocked.Read(ref _greSendDrops),
            ["greDecode"] = Interlocked.Read(ref _decodeDrops),
            ["spoofedSource"] = Interlocked.Read(ref _spoofedSourceDrops),
        };
        if (_window is { } w)
        {
            drops["greLost"] = w.Counters.Lost;
            drops["greDuplicate"] = w.Counters.Duplicate;
            drops["greTooOld"] = w.Counters.TooOld;
            drops["greWindowFull"] = w.Counters.WindowFull;
            drops["greOutOfWindow"] = w.Counters.OutOfWindow;
        }
        if (_ppp is { } p)
        {
            drops["pppFrames"] = p.DroppedFrames;
            drops["pppOutbound"] = p.DroppedOutboundPackets;
        }
        if (_encryption is MppeEncryptionLayer mppe)
        {
            // What stateful MPPE drops while it resynchronises (see MppeSync for what it took).
            drops["mppeUndecryptable"] = mppe.DroppedPackets(MppeDropReason.Undecryptable);
            drops["mppePacketLoss"] = mppe.DroppedPackets(MppeDropReason.PacketLoss);
            drops["mppeAwaitingFlush"] = mppe.DroppedPackets(MppeDropReason.AwaitingFlush);
        }
        return drops;
    }

    /// <summary>
    /// Runs the tunnel until it closes. Its call comes from the control connection: a server's when the peer's
    /// Outgoing-Call-Request was admitted, a client's once <see cref="ControlChannel.PlaceCall"/> has placed it.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var loop = _loop.RunAsync(Handle, OnLoopError, AfterBatch);
        using (cancellationToken.Register(() => Post(() => Shutdown("service stopping", SessionEndCause.ServiceStop))))
        {
            if (_loginDeadline is not null)
            {
                Post(() => _loginDeadline.Start(_options.LoginDeadline!.Value));
            }
            await loop.ConfigureAwait(false);
        }
    }

    /// <summary>Server: the address IPCP assigns, when it changed after authentication (a user's static address).</summary>
    public void AssignPeerAddress(IPAddress address) => _ppp?.Ipcp?.AssignPeerAddress(address);

    /// <summary>Asks the tunnel to close (posted into its loop).</summary>
    public void RequestClose(string reason, SessionEndCause cause = SessionEndCause.AdminReset) => Post(() => Shutdown(reason, cause));

    /// <summary>Runs <paramref name="action"/> on the tunnel's loop.</summary>
    public void Post(Action action)
    {
        if (!_loop.Post(action))
        {
            // Loop already finished: nothing left to act on.
        }
    }

    private void Dispatch(Action action) => Post(action);

    /// <summary>
    /// Completes once the tunnel's loop has run everything queued before it: the watchdog's liveness probe.
    /// A loop that has already finished answers at once.
    /// </summary>
    public Task PingLoopAsync() => _loop.PingAsync();

    /// <summary>From the TUN reader: an IP packet at buffer[HeaderRoom..]. Takes ownership on true.</summary>
    public bool PostTun(byte[] buffer, int offset, int length) => _loop.PostPacket(SessionWorkKind.TunPacket, buffer, offset, length);

    public bool PostGre(byte[] buffer, in GrePacket packet) => _loop.PostGre(buffer, packet);

    private void OnLoopError(Exception error)
    {
        LogInternalError(_logger, error, Name);
        _loop.CloseAfterError(() => Shutdown($"internal error: {error.GetType().Name}: {error.Message}", SessionEndCause.NasError));
    }

    private void Handle(SessionWork work)
    {
        switch (work.Kind)
        {
            case SessionWorkKind.Action:
                work.Action!();
                break;
            case SessionWorkKind.GrePacket:
                HandleGre(work.Buffer!, work.Gre);
                break;
            case SessionWorkKind.TunPacket:
                HandleTun(work.Buffer!, work.Offset, work.Length);
                break;
            default:
                _pool.Return(work.Buffer!);
                break;
        }
    }

    private void HandleGre(byte[] buffer, in GrePacket packet)
    {
        _greFromPeer = true;
        if (_window is null && !_closed && _early.Count < MaxEarlyPackets)
        {
            // The server may send LCP right behind its Outgoing-Call-Reply, before we have read the reply:
            // hold those few packets until the call is connected rather than wait 3 s for a retransmission.
            _early.Enqueue((buffer, packet));
            return;
        }
        if (_window is null || _closed)
        {
            Interlocked.Increment(ref _decodeDrops);
            _pool.Return(buffer);
            return;
        }
        _window.OnPacket(packet, buffer);
    }

    private void HandleTun(byte[] buffer, int offset, int length)
    {
        var ppp = _ppp;
        if (ppp is null || _closed || State != TunnelState.Up)
        {
            Interlocked.Increment(ref _tunDrops);
            _pool.Return(buffer);
            return;
        }
        var protocol = (buffer[offset] >> 4) == 6 ? PppProtocol.Ipv6 : PppProtocol.Ipv4;
        ClampMss(buffer.AsSpan(offset, length));
        _outbound = buffer;
        _outboundQueued = false;
        try
        {
            if (ppp.TrySendPacket(protocol, buffer, offset, length))
            {
                Interlocked.Increment(ref _packetsSent);
                Interlocked.Add(ref _bytesSent, length);
            }
        }
        finally
        {
            // Whether it left in the send batch or not, the buffer has exactly one owner after this.
            _outbound = null;
            if (!_outboundQueued)
            {
                _pool.Return(buffer);
            }
        }
    }

    // ---- IGreWindowHost: payloads leave the window in order ----

    void IGreWindowHost<byte[]>.Deliver(byte[] buffer, int offset, int length)
    {
        try
        {
            _ppp?.ReceiveFrame(buffer.AsSpan(offset, length));
        }
        finally
        {
            _pool.Return(buffer);
        }
    }

    void IGreWindowHost<byte[]>.Release(byte[] buffer) => _pool.Return(buffer);

    void IGreWindowHost<byte[]>.SendAckOnly(ReadOnlySpan<byte> packet) => SendGre(packet);

    // ---- IPppSessionOutput: frames to the peer, packets to the TUN ----

    void IPppSessionOutput.SendFrame(Span<byte> buffer, int frameOffset, int frameLength)
    {
        if (_window is null)
        {
            return;
        }
        var status = _window.TryPrepareSend(buffer, frameOffset, frameLength, out var packetOffset, out var packetLength);
        if (status != GreSendStatus.Ready)
        {
            Interlocked.Increment(ref _greSendDrops);
            return;
        }
        if (_outbound is { } outbound && buffer.Overlaps(outbound, out var start) && start == 0 && _peerConnected)
        {
            // The data path: the packet leaves in the TUN reader's buffer, which the batch now owns.
            QueueSend(outbound, packetOffset, packetLength);
            _outboundQueued = true;
            return;
        }
        SendGre(buffer.Slice(packetOffset, packetLength));
    }

    /// <summary>Lowers a TCP SYN's MSS to fit the tunnel, either way through it (limits are 0 until it is up, or with clamping off).</summary>
    private void ClampMss(Span<byte> packet)
    {
        if (_mssLimit4 != 0 && TcpMssClamp.TryClamp(packet, _mssLimit4, _mssLimit6))
        {
            Interlocked.Increment(ref _mssClamped);
        }
    }

    void IPppSessionOutput.DeliverPacket(PppProtocol protocol, Span<byte> packet)
    {
        ClampMss(packet);
        Interlocked.Increment(ref _packetsReceived);
        Interlocked.Add(ref _bytesReceived, packet.Length);
        _host.DeliverPacket(this, protocol, packet);
    }

    void IPppSessionOutput.OnEvent(PppSessionEvent sessionEvent)
    {
        switch (sessionEvent.Kind)
        {
            case PppSessionEventKind.LinkUp:
                State = TunnelState.Authenticating;
                break;
            case PppSessionEventKind.Authenticated:
                _loginDeadline?.Stop();
                _channel.OnCallAuthenticated();
                _host.OnAuthentication(this, true, _ppp?.Negotiated.UserName, null);
                break;
            case PppSessionEventKind.AuthenticationFailed:
                LastReason = sessionEvent.Reason;
                _host.OnAuthentication(this, false, _ppp?.ClaimedUserName, sessionEvent.Reason);
                break;
            case PppSessionEventKind.EncryptionUp:
                EncryptionDescription = sessionEvent.Reason ?? "MPPE";
                break;
            case PppSessionEventKind.NetworkUp when State != TunnelState.Up && _ppp is not null:
                Negotiated = _ppp.Negotiated;
                EffectiveMtu = EffectiveMtuOf(_options.Mtu, Negotiated);
                if (_options.ClampMss)
                {
                    _mssLimit4 = TcpMssClamp.MaximumSegmentSize(EffectiveMtu, ipv6: false);
                    _mssLimit6 = TcpMssClamp.MaximumSegmentSize(EffectiveMtu, ipv6: true);
                }
                if (Negotiated.Ipv4Up)
                {
                    State = TunnelState.Up;
                    UpSince = _time.GetUtcNow();
                    UpSinceTimestamp = _time.GetTimestamp();
                    _host.OnNetworkUp(this, Negotiated);
                }
                ReportIpv6Up();
                break;
            case PppSessionEventKind.NetworkUp when _ppp is not null:
                // IPv6CP opening after IPCP.
                Negotiated = _ppp.Negotiated;
                ReportIpv6Up();
                break;
            case PppSessionEventKind.LinkDown or PppSessionEventKind.Finished:
                Shutdown(sessionEvent.Reason ?? _ppp?.LastReason ?? "PPP link went down",
                    _ppp is { TerminatedByPeer: true } ? SessionEndCause.PeerRequest
                    : _ppp is { EchoFailed: true } ? SessionEndCause.LostCarrier
                    : SessionEndCause.NegotiationFailed);
                break;
        }
    }

    /// <summary>IPv6 is carried once both it and IPv4 are up (the host sets up IPv6 on top of the IPv4 link), once.</summary>
    private void ReportIpv6Up()
    {
        if (_ipv6Reported || State != TunnelState.Up || Negotiated is not { Ipv6Up: true, LocalInterfaceId: not null, PeerInterfaceId: not null })
        {
            return;
        }
        _ipv6Reported = true;
        _host.OnIpv6Up(this, Negotiated);
    }

    /// <summary>A control frame or an ack: copied into a pooled buffer so it leaves with the batch, in order.</summary>
    private void SendGre(ReadOnlySpan<byte> packet)
    {
        if (!_peerConnected)
        {
            return;
        }
        if (packet.Length > PacketBufferPool.BufferSize || _pool.Rent() is not { } copy)
        {
            FlushSends();
            _gre.Transport.Send(packet, _peerKey);
            return;
        }
        packet.CopyTo(copy);
        QueueSend(copy, 0, packet.Length);
    }

    private void QueueSend(byte[] buffer, int offset, int length)
    {
        if (_sends.IsFull)
        {
            FlushSends();
        }
        _sends.Add(buffer, offset, length, _peerKey);
    }

    /// <summary>
    /// Where this session's packets for the TUN wait to be joined with the next ones of their TCP stream; the
    /// host writes through it, and it is flushed after each batch.
    /// </summary>
    internal TcpCoalescer TunWrites { get; }

    /// <summary>After each batch of the loop's work: what it sent leaves in one go, what it received goes to the TUN.</summary>
    private void AfterBatch()
    {
        try
        {
            FlushSends();
        }
        finally
        {
            TunWrites.Flush();
        }
    }

    /// <summary>Everything queued for the peer leaves in one go, and the buffers go back.</summary>
    private void FlushSends()
    {
        if (_sends.Count == 0)
        {
            return;
        }
        try
        {
            _gre.Transport.Send(_sends);
        }
        finally
        {
            for (var i = 0; i < _sends.Count; i++)
            {
                _pool.Return(_sends.Buffer(i));
            }
            _sends.Clear();
        }
    }

    // ---- The call, as the control connection reports it (each posted into this loop) ----

    /// <summary>Client: our Outgoing-Call-Request for this tunnel is on its way with <paramref name="call"/>'s ID.</summary>
    internal void ListenForCall(PptpCall call) => Post(() =>
    {
        _call = call;
        LocalCallId = call.LocalCallId;
        if (_closed)
        {
            _channel.OnTunnelEnded(call, endConnection: true);
            return;
        }
        // Listen for our call ID before the reply arrives: GRE from the server can overtake it.
        _registered = _gre.Register(Peer, call.LocalCallId, this);
    });

    internal void OnCallConnected(PptpCall call, PptpCallParameters parameters) => Post(() =>
    {
        _call = call;
        LocalCallId = parameters.LocalCallId;
        if (_closed)
        {
            _channel.OnTunnelEnded(call, endConnection: true);
            return;
        }
        _peerConnected = true;
        _window = new GreWindow<byte[]>(this, parameters.PeerCallId,
            _options.GreWindow with { PeerReceiveWindow = parameters.PeerReceiveWindow, LocalReceiveWindow = parameters.LocalReceiveWindow }, _time, Dispatch);
        _registered = _registered || _gre.Register(Peer, parameters.LocalCallId, this);
        if (!_registered)
        {
            Shutdown($"call ID {parameters.LocalCallId} from {Peer} is already in use", SessionEndCause.NasError);
            return;
        }
        // One check, not per-packet work: has the peer's GRE arrived at all a few seconds after the call came up?
        _greWatch = new ProtocolTimer(_time, CheckGreArrived, Dispatch);
        _greWatch.Start(GreSilenceLimit);
        var ppp = _host.PreparePpp(this, _options.Ppp);
        var encryptionLayer = _options.EncryptionLayer;
        _ppp = new PppSession(ppp, this, _options.AuthFactory, _time, SystemRandom.Fill,
            Dispatch, encryptionLayer is null ? null : context => _encryption = encryptionLayer(context));
        _ppp.Start();
        while (_early.TryDequeue(out var early))
        {
            HandleGre(early.Buffer, early.Packet);
        }
    });

    /// <summary>The call was cleared (by the peer, by a refusal, a timeout) while the control connection stays.</summary>
    internal void OnCallCleared(string reason, SessionEndCause cause) => Post(() =>
    {
        _callGone = true;
        Shutdown(LastReason ?? reason, cause);
    });

    /// <summary>The control connection is gone (or never placed the call), and the call with it.</summary>
    internal void OnControlClosed(string reason, SessionEndCause cause) => Post(() =>
    {
        _callGone = true;
        Shutdown(LastReason ?? reason, cause);
    });

    private void CheckGreArrived()
    {
        if (_greFromPeer || _closed)
        {
            return;
        }
        GreBlocked = true;
        LogGreBlocked(_logger, Name, GreBlockedReason);
        _host.OnGreBlocked(this);
    }

    /// <summary>Ends the tunnel once: PPP closed, call cleared, Stop-Control-Connection sent, resources freed.</summary>
    private void Shutdown(string reason, SessionEndCause cause)
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        EndCause = GreBlocked && !_greFromPeer ? SessionEndCause.LostCarrier : cause;
        _loginDeadline?.Stop();
        _greWatch?.Stop();
        // LCP gives up in the end, but its reason would hide the cause.
        LastReason = GreBlocked && !_greFromPeer ? GreBlockedReason : LastReason ?? reason;
        State = TunnelState.Closing;
        if (_ppp is { Phase: not PppPhase.Dead })
        {
            _ppp.Close(reason);
        }
        // What PPP said last (an authentication Failure, a Terminate-Request) leaves before the control connection
        // clears the call on its own thread: a peer that reads the Call-Disconnect-Notify first never learns why.
        AfterBatch();
        if (_call is not null)
        {
            // Ended here: the call is cleared, and a connection left with no calls goes too. Cleared by the peer:
            // the connection stays for the peer's next call.
            _channel.OnTunnelEnded(_call, endConnection: !_callGone);
        }
        if (_registered && _call is not null)
        {
            _gre.Unregister(Peer, _call.LocalCallId);
            _registered = false;
        }
        State = TunnelState.Closed;
        _host.OnClosed(this, LastReason);
        Post(FinishLoop);
    }

    private void FinishLoop()
    {
        AfterBatch(); // the Terminate-Request and the last acks still leave
        while (_early.TryDequeue(out var early))
        {
            _pool.Return(early.Buffer);
        }
        _window?.Dispose();
        _ppp?.Dispose();
        _loginDeadline?.Dispose();
        _greWatch?.Dispose();
        _loop.Complete();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "tunnel {Name}: {Reason}")]
    private static partial void LogGreBlocked(ILogger logger, string name, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "tunnel {Name}: internal error; closing this tunnel")]
    private static partial void LogInternalError(ILogger logger, Exception error, string name);
}
