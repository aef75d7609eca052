namespace Firmware.Protocol.Pptp;

/// <summary>
/// One PPTP control connection (one TCP connection on port 1723), either role, with its calls. Pure: bytes come
/// in through <see cref="OnBytesReceived"/>, bytes and events go out through <see cref="IPptpControlHost"/>, time
/// comes from a <see cref="TimeProvider"/>. Not thread-safe: one session loop calls every method and receives
/// the timer expiries (through the dispatch given to the constructor). Peer bytes never cause an exception:
/// every problem ends in a counted drop, a reply with a result code, or a teardown with a reason.
/// </summary>
public sealed partial class PptpControlConnection : IDisposable
{
    private readonly IPptpControlHost _host;
    private readonly TimeProvider _time;
    private readonly Action<Action>? _dispatch;
    private readonly PptpStreamReassembler _reassembler = new();
    private readonly byte[] _sendBuffer = new byte[PptpControlCodec.MaximumMessageLength];
    private readonly ProtocolTimer _controlTimer;
    private readonly ProtocolTimer _echoTimer;
    private bool _echoOutstanding;
    private uint _echoIdentifier;
    private bool _silentAfterCollision;
    private bool _transportClosed;
    private PptpTeardownReason _pendingReason;

    /// <param name="role">Client (originator) or server (answerer); see <see cref="PptpControlRole"/>.</param>
    /// <param name="options">Identity, timeouts, windows, random source.</param>
    /// <param name="host">Transport and event sink.</param>
    /// <param name="time">Clock for every timeout.</param>
    /// <param name="dispatch">Posts timer expiries into the session loop; null runs them inline.</param>
    public PptpControlConnection(PptpControlRole role, PptpControlOptions options, IPptpControlHost host, TimeProvider time, Action<Action>? dispatch = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(time);
        Role = role;
        Options = options;
        _host = host;
        _time = time;
        _dispatch = dispatch;
        _controlTimer = new ProtocolTimer(time, OnControlTimer, dispatch);
        _echoTimer = new ProtocolTimer(time, OnEchoTimer, dispatch);
        Span<byte> seed = stackalloc byte[2];
        options.RandomFill(seed);
        _nextSerial = (ushort)((seed[0] << 8) | seed[1]);
    }

    public PptpControlRole Role { get; }

    public PptpControlOptions Options { get; }

    public PptpControlState State { get; private set; }

    /// <summary>Why the connection closed; <see cref="PptpTeardownReason.None"/> while it has not.</summary>
    public PptpTeardownReason TeardownReason { get; private set; }

    /// <summary>The peer's SCCRQ/SCCRP identity, once received.</summary>
    public PptpPeerInfo? Peer { get; private set; }

    /// <summary>Client: the result code of the peer's SCCRP, once received.</summary>
    public StartControlResult? PeerStartResult { get; private set; }

    /// <summary>Client: the General Error Code of the peer's SCCRP, once received.</summary>
    public PptpErrorCode PeerStartError { get; private set; }

    /// <summary>The reason in the peer's Stop-Control-Connection-Request, if one came.</summary>
    public StopControlReason? PeerStopReason { get; private set; }

    public PptpControlCounters Counters { get; } = new();

    /// <summary>
    /// Starts the connection once TCP is up. Client: sends SCCRQ and waits for the reply. Server: waits for
    /// SCCRQ (within <see cref="PptpControlOptions.StartTimeout"/>).
    /// </summary>
    public void Start()
    {
        if (State != PptpControlState.Idle || _controlTimer.IsRunning || TeardownReason != PptpTeardownReason.None)
        {
            return;
        }
        if (Role == PptpControlRole.Client)
        {
            State = PptpControlState.WaitControlReply;
            Send(new StartControlConnectionRequest
            {
                FramingCapabilities = Options.FramingCapabilities,
                BearerCapabilities = Options.BearerCapabilities,
                MaximumChannels = Options.MaximumChannels,
                FirmwareRevision = Options.FirmwareRevision,
                HostName = Options.HostName,
                VendorString = Options.VendorString,
            });
        }
        _controlTimer.Start(Options.StartTimeout);
    }

    /// <summary>Feeds bytes read from the TCP connection (any split or coalescing).</summary>
    public void OnBytesReceived(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty && State != PptpControlState.Closed)
        {
            var status = _reassembler.TryReadFrame(ref data, out var frame);
            if (status == PptpFramingStatus.NeedMoreData)
            {
                return;
            }
            if (status == PptpFramingStatus.Fatal)
            {
                Teardown(PptpTeardownReason.FramingError, closeTransport: true);
                return;
            }
            OnFrame(frame);
        }
    }

    /// <summary>The TCP connection closed (peer FIN/RST or a write failure).</summary>
    public void OnTransportClosed()
    {
        _transportClosed = true;
        if (State == PptpControlState.Closed)
        {
            return;
        }
        var reason = _silentAfterCollision ? PptpTeardownReason.Collision
            : State == PptpControlState.WaitStopReply && _pendingReason != PptpTeardownReason.None ? _pendingReason
            : State == PptpControlState.WaitStopReply ? PptpTeardownReason.LocalStop
            : PptpTeardownReason.TransportClosed;
        Teardown(reason, closeTransport: false);
    }

    /// <summary>
    /// Local teardown: every call is cleared (Stop implies it, RFC 2637 section 2.3), Stop-Control-Connection-Request
    /// goes out with <paramref name="reason"/>, and TCP closes when the reply comes or its timeout passes.
    /// Before establishment the TCP connection simply closes.
    /// </summary>
    public void Stop(StopControlReason reason = StopControlReason.None)
    {
        switch (State)
        {
            case PptpControlState.Established:
                ClearAllCalls();
                State = PptpControlState.WaitStopReply;
                _echoTimer.Stop();
                Send(new StopControlConnectionRequest { Reason = reason });
                _controlTimer.Start(Options.StopReplyTimeout);
                break;
            case PptpControlState.Idle:
            case PptpControlState.WaitControlReply:
                Teardown(PptpTeardownReason.LocalStop, closeTransport: true);
                break;
            default:
                break;
        }
    }

    /// <summary>
    /// Client side of a collision we lost (RFC 2637 section 3.1.3): close the TCP connection we initiated
    /// without sending anything more on it.
    /// </summary>
    public void AbandonAfterCollision()
    {
        if (State != PptpControlState.Closed)
        {
            Teardown(PptpTeardownReason.Collision, closeTransport: true);
        }
    }

    public void Dispose()
    {
        _controlTimer.Dispose();
        _echoTimer.Dispose();
        foreach (var call in _calls)
        {
            call.Timer?.Dispose();
        }
    }

    private void OnFrame(ReadOnlySpan<byte> frame)
    {
        var status = PptpControlCodec.TryDecode(frame, out var message);
        if (status != PptpDecodeStatus.Ok || message is null)
        {
            // The framing held (the reassembler checked length, type and cookie), so the stream is still in
            // sync: drop this one message and carry on.
            Counters.CountDrop(status == PptpDecodeStatus.UnknownMessageType
                ? PptpControlDropReason.UnknownMessageType
                : PptpControlDropReason.Malformed);
            return;
        }
        Counters.CountReceived();
        if (_silentAfterCollision)
        {
            return;
        }
        NoteSignOfLife();
        switch (State)
        {
            case PptpControlState.Idle:
                OnMessageIdle(message);
                break;
            case PptpControlState.WaitControlReply:
                OnMessageWaitControlReply(message);
                break;
            case PptpControlState.Established:
                OnMessageEstablished(message);
                break;
            case PptpControlState.WaitStopReply:
                OnMessageWaitStopReply(message);
                break;
            default:
                break;
        }
    }

    private void OnMessageIdle(PptpControlMessage message)
    {
        if (Role == PptpControlRole.Client)
        {
            // Bytes before we sent anything: nothing is expected.
            Counters.CountDrop(PptpControlDropReason.UnexpectedInState);
            return;
        }
        if (message is StartControlConnectionRequest request)
        {
            OnStartRequest(request);
            return;
        }
        // RFC 2637 section 3.1.2: an answerer only understands SCCRQ before establishment.
        Counters.CountDrop(PptpControlDropReason.UnexpectedInState);
        Teardown(PptpTeardownReason.ProtocolViolation, closeTransport: true);
    }

    private void OnStartRequest(StartControlConnectionRequest request)
    {
        Peer = new PptpPeerInfo(request.ProtocolVersion, request.FramingCapabilities, request.BearerCapabilities,
            request.MaximumChannels, request.FirmwareRevision, request.HostName, request.VendorString);

        if (_host.FindCollidingConnection(this) is { State: PptpControlState.WaitControlReply or PptpControlState.Established } originated)
        {
            var canCompare = Options.LocalAddress is not null && Options.PeerAddress is not null;
            if (canCompare && PptpCollision.LocalWins(Options.LocalAddress!, Options.PeerAddress!))
            {
                // RFC 2637 section 3.1.3: we keep the connection we opened (its SCCRP may even be in already)
                // and must say nothing on this one; the loser closes it. The start timer bounds the wait.
                _silentAfterCollision = true;
                return;
            }
            if (!canCompare || originated.State == PptpControlState.Established)
            {
                // Not a race we can settle: one control connection per peer is the rule.
                SendStartReply(StartControlResult.CommandChannelExists);
                Teardown(PptpTeardownReason.Collision, closeTransport: true);
                return;
            }
            originated.AbandonAfterCollision();
        }

        if (request.ProtocolVersion < PptpControlCodec.ProtocolVersion)
        {
            SendStartReply(StartControlResult.ProtocolVersionNotSupported);
            Teardown(PptpTeardownReason.VersionNotSupported, closeTransport: true);
            return;
        }
        SendStartReply(StartControlResult.Successful);
        EnterEstablished();
    }

    private void SendStartReply(StartControlResult result) => Send(StartReply(Options, result, PptpErrorCode.None));

    /// <summary>An SCCRP announcing <paramref name="identity"/> (host, vendor, firmware, capabilities).</summary>
    internal static StartControlConnectionReply StartReply(PptpControlOptions identity, StartControlResult result, PptpErrorCode error) => new()
    {
        ResultCode = result,
        ErrorCode = error,
        FramingCapabilities = identity.FramingCapabilities,
        BearerCapabilities = identity.BearerCapabilities,
        MaximumChannels = identity.MaximumChannels,
        FirmwareRevision = identity.FirmwareRevision,
        HostName = identity.HostName,
        VendorString = identity.VendorString,
    };

    private void OnMessageWaitControlReply(PptpControlMessage message)
    {
        switch (message)
        {
            case StartControlConnectionReply reply:
                PeerStartResult = reply.ResultCode;
                PeerStartError = reply.ErrorCode;
                // pptpd answers with framing and bearer capabilities 0, one channel, firmware 1: all accepted.
                Peer = new PptpPeerInfo(reply.ProtocolVersion, reply.FramingCapabilities, reply.BearerCapabilities,
                    reply.MaximumChannels, reply.FirmwareRevision, reply.HostName, reply.VendorString);
                if (reply.ResultCode != StartControlResult.Successful)
                {
                    Teardown(PptpTeardownReason.StartRejected, closeTransport: true);
                }
                else if (reply.ProtocolVersion < PptpControlCodec.ProtocolVersion)
                {
                    _pendingReason = PptpTeardownReason.VersionNotSupported;
                    State = PptpControlState.Established;
                    Stop(StopControlReason.StopProtocol);
                }
                else
                {
                    EnterEstablished();
                }
                break;
            case StopControlConnectionRequest stop:
                OnStopRequest(stop);
                break;
            default:
                Counters.CountDrop(PptpControlDropReason.UnexpectedInState);
                break;
        }
    }

    private void OnMessageWaitStopReply(PptpControlMessage message)
    {
        switch (message)
        {
            case StopControlConnectionReply:
                Teardown(_pendingReason == PptpTeardownReason.None ? PptpTeardownReason.LocalStop : _pendingReason, closeTransport: true);
                break;
            case StopControlConnectionRequest stop:
                // Both ends stopping at once: answer, and we are done.
                PeerStopReason = stop.Reason;
                Send(new StopControlConnectionReply());
                Teardown(_pendingReason == PptpTeardownReason.None ? PptpTeardownReason.LocalStop : _pendingReason, closeTransport: true);
                break;
            default:
                Counters.CountDrop(PptpControlDropReason.UnexpectedInState);
                break;
        }
    }

    private void OnMessageEstablished(PptpControlMessage message)
    {
        switch (message)
        {
            case StopControlConnectionRequest stop:
                OnStopRequest(stop);
                break;
            case EchoRequest echo:
                Send(new EchoReply { Identifier = echo.Identifier });
                break;
            case EchoReply:
                // NoteSignOfLife already settled the keepalive.
                break;
            case OutgoingCallRequest request:
                OnOutgoingCallRequest(request);
                break;
            case OutgoingCallReply reply:
                OnOutgoingCallReply(reply);
                break;
            case IncomingCallRequest request:
                // We place no calls on behalf of a PSTN: refuse politely (RFC 2637 section 2.10, result 3).
                Send(new IncomingCallReply
                {
                    CallId = 0,
                    PeerCallId = request.CallId,
                    ResultCode = IncomingCallResult.DoNotAccept,
                    PacketReceiveWindowSize = Options.ReceiveWindow,
                });
                break;
            case IncomingCallReply:
            case IncomingCallConnected:
                // We never send Incoming-Call-Request, so no call can match.
                Counters.CountDrop(PptpControlDropReason.UnknownCallId);
                break;
            case CallClearRequest clear:
                OnCallClearRequest(clear);
                break;
            case CallDisconnectNotify notify:
                OnCallDisconnectNotify(notify);
                break;
            case WanErrorNotify wanError:
                OnWanErrorNotify(wanError);
                break;
            case SetLinkInfo linkInfo:
                OnSetLinkInfo(linkInfo);
                break;
            default:
                // SCCRQ, SCCRP or Stop-Reply while established.
                Counters.CountDrop(PptpControlDropReason.UnexpectedInState);
                break;
        }
    }

    private void OnStopRequest(StopControlConnectionRequest stop)
    {
        PeerStopReason = stop.Reason;
        ClearAllCalls();
        Send(new StopControlConnectionReply());
        Teardown(PptpTeardownReason.PeerStop, closeTransport: true);
    }

    private void EnterEstablished()
    {
        State = PptpControlState.Established;
        _controlTimer.Stop();
        _echoOutstanding = false;
        _echoTimer.Start(Options.EchoInterval);
        _host.OnEstablished(this);
    }

    /// <summary>Any message from the peer proves it alive: the keepalive waits a full interval again.</summary>
    private void NoteSignOfLife()
    {
        if (State == PptpControlState.Established)
        {
            _echoOutstanding = false;
            _echoTimer.Start(Options.EchoInterval);
        }
    }

    private void OnEchoTimer()
    {
        if (State != PptpControlState.Established)
        {
            return;
        }
        if (_echoOutstanding)
        {
            Teardown(PptpTeardownReason.EchoTimeout, closeTransport: true);
            return;
        }
        _echoOutstanding = true;
        Send(new EchoRequest { Identifier = ++_echoIdentifier });
        _echoTimer.Start(Options.EchoReplyTimeout);
    }

    private void OnControlTimer()
    {
        switch (State)
        {
            case PptpControlState.Idle when _silentAfterCollision:
                Teardown(PptpTeardownReason.Collision, closeTransport: true);
                break;
            case PptpControlState.Idle when Role == PptpControlRole.Server:
            case PptpControlState.WaitControlReply:
                Teardown(PptpTeardownReason.StartTimeout, closeTransport: true);
                break;
            case PptpControlState.WaitStopReply:
                Teardown(_pendingReason == PptpTeardownReason.None ? PptpTeardownReason.StopReplyTimeout : _pendingReason, closeTransport: true);
                break;
            default:
                break;
        }
    }

    private void Send(PptpControlMessage message)
    {
        if (_transportClosed)
        {
            return;
        }
        var length = PptpControlCodec.Encode(message, _sendBuffer);
        Counters.CountSent();
        _host.SendControl(_sendBuffer.AsSpan(0, length));
    }

    private void Teardown(PptpTeardownReason reason, bool closeTransport)
    {
        if (State == PptpControlState.Closed)
        {
            return;
        }
        ClearAllCalls();
        State = PptpControlState.Closed;
        TeardownReason = reason;
        _controlTimer.Stop();
        _echoTimer.Stop();
        if (closeTransport && !_transportClosed)
        {
            _transportClosed = true;
            _host.CloseTransport();
        }
        _host.OnClosed(this, reason);
    }
}
