using System.Buffers.Binary;
using System.Text;

namespace Firmware.Protocol.Ppp;

/// <summary>
/// The one option-negotiation automaton of RFC 1661 section 4, shared by LCP and every NCP. Event methods
/// are named after the RFC's events (Up, Down, Open, Close, TO+ = <see cref="TimeoutPlus"/> …) and actions
/// after its actions (tlu, scr …, private methods of the same names). <see cref="Receive"/> turns packets
/// into events; option handling is delegated to the <see cref="ControlProtocol"/>'s <see cref="PppOption"/>s.
/// Not thread-safe: one session loop drives it; the restart timer expiry is posted through the dispatch
/// given at construction.
/// </summary>
public sealed class PppAutomaton : IDisposable
{
    /// <summary>Largest Configure packet we build or answer; longer requests are dropped.</summary>
    public const int MaxPacketLength = 1500;

    private const int MaxReasonBytes = 64;
    private const int DeferredCapacity = 8;
    private const int InitialPacketCapacity = 64;

    private readonly ControlProtocol _protocol;
    private readonly PppAutomatonSettings _settings;
    private readonly IPppControlOutput _output;
    private readonly ProtocolTimer _restartTimer;
    private readonly PppEvent[] _deferred = new PppEvent[DeferredCapacity];
    // Our last Configure-Request (kept for retransmission) and the answer being sent, each grown to the size it
    // needs (a few dozen bytes): packets are built on the stack, so a session holds no 1500-byte buffers per protocol.
    private byte[] _request = new byte[InitialPacketCapacity];
    private byte[] _response = new byte[InitialPacketCapacity];
    private int _deferredCount;
    private int _requestLength;
    private int _responseLength;
    private int _restartCounter;
    private int _failureCounter;
    private byte _nextIdentifier;
    private byte _requestIdentifier;
    private bool _awaitingReply;
    private bool _firing;
    private bool _inReceive;
    private PppState _stateBeforeEvent;
    private PppEvent _currentEvent;
    private string? _pendingFailure;
    private string _closeReason = "administrative close";

    internal PppAutomaton(ControlProtocol protocol, PppAutomatonSettings settings, TimeProvider time, IPppControlOutput output, Action<Action>? dispatch)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(output);
        _protocol = protocol;
        _settings = settings;
        _output = output;
        _restartTimer = new ProtocolTimer(time, OnRestartTimerExpired, dispatch);
    }

    /// <summary>The current state.</summary>
    public PppState State { get; private set; }

    /// <summary>Why the layer last went down or finished, in words a user can act on.</summary>
    public string? LastReason { get; private set; }

    /// <summary>The peer sent a Terminate-Request: it ended the layer, not we or a failure.</summary>
    public bool TerminatedByPeer { get; private set; }

    /// <summary>Packets dropped: malformed, stale replies, wrong state.</summary>
    public long DroppedPackets { get; private set; }

    /// <summary>Events that cannot occur in the current state ("-" in the RFC table) and were ignored.</summary>
    public long IgnoredEvents { get; private set; }

    /// <summary>Configure-Naks converted to Configure-Rejects after Max-Failure.</summary>
    public long NaksConvertedToRejects { get; private set; }

    /// <summary>The current Restart counter (for tests and status).</summary>
    public int RestartCounter => _restartCounter;

    /// <summary>This-Layer-Up.</summary>
    public event Action<PppAutomaton>? LayerUp;

    /// <summary>This-Layer-Down.</summary>
    public event Action<PppAutomaton>? LayerDown;

    /// <summary>This-Layer-Started.</summary>
    public event Action<PppAutomaton>? LayerStarted;

    /// <summary>This-Layer-Finished.</summary>
    public event Action<PppAutomaton>? LayerFinished;

    /// <summary>The state changed (old state given); raised after the transition's actions.</summary>
    public event Action<PppAutomaton, PppState>? StateChanged;

    /// <summary>Every action executed, in order (for tracing and the transition-table tests).</summary>
    public event Action<PppAutomaton, PppAction>? ActionExecuted;

    /// <summary>The owning protocol.</summary>
    public ControlProtocol Protocol => _protocol;

    // ---- Events (RFC 1661 4.3) ------------------------------------------------------------------------

    /// <summary>Up: the lower layer is ready to carry packets.</summary>
    public void Up() => Fire(PppEvent.Up, 0, default);

    /// <summary>Down: the lower layer is gone.</summary>
    public void Down()
    {
        LastReason ??= "lower layer down";
        Fire(PppEvent.Down, 0, default);
    }

    /// <summary>Open: the administrator allows the link.</summary>
    public void Open() => Fire(PppEvent.Open, 0, default);

    /// <summary>Close: the administrator wants the link down; <paramref name="reason"/> goes into the Terminate-Request.</summary>
    public void Close(string reason)
    {
        _closeReason = reason;
        LastReason = reason;
        Fire(PppEvent.Close, 0, default);
    }

    /// <summary>TO+: the restart timer expired with the counter above zero.</summary>
    public void TimeoutPlus() => Fire(PppEvent.TimeoutPlus, 0, default);

    /// <summary>TO-: the restart timer expired with the counter at zero.</summary>
    public void TimeoutMinus()
    {
        if (State is PppState.RequestSent or PppState.AckReceived or PppState.AckSent)
        {
            LastReason = $"{_protocol.Name} negotiation timed out: no agreement after {_settings.MaxConfigure} Configure-Requests";
        }

        Fire(PppEvent.TimeoutMinus, 0, default);
    }

    /// <summary>RCR+: a Configure-Request we acknowledge; the Ack was prepared by the judgement.</summary>
    public void RcrPlus(byte identifier) => Fire(PppEvent.RcrPlus, identifier, default);

    /// <summary>RCR-: a Configure-Request we Nak or Reject; the answer was prepared by the judgement.</summary>
    public void RcrMinus(byte identifier) => Fire(PppEvent.RcrMinus, identifier, default);

    /// <summary>RCA: a valid Configure-Ack for our last request.</summary>
    public void Rca() => Fire(PppEvent.Rca, 0, default);

    /// <summary>RCN: a valid Configure-Nak or Configure-Reject, already applied to our options.</summary>
    public void Rcn() => Fire(PppEvent.Rcn, 0, default);

    /// <summary>RTR: Terminate-Request.</summary>
    public void Rtr(byte identifier) => Fire(PppEvent.Rtr, identifier, default);

    /// <summary>RTA: Terminate-Ack.</summary>
    public void Rta() => Fire(PppEvent.Rta, 0, default);

    /// <summary>RUC: a packet with a code this protocol does not know; it is Code-Rejected.</summary>
    public void Ruc(ReadOnlySpan<byte> packet) => Fire(PppEvent.Ruc, 0, packet);

    /// <summary>RXJ+: a Code-Reject or Protocol-Reject we can live with.</summary>
    public void RxjPlus() => Fire(PppEvent.RxjPlus, 0, default);

    /// <summary>RXJ-: a Code-Reject or Protocol-Reject that makes this protocol unusable.</summary>
    public void RxjMinus(string reason)
    {
        LastReason = reason;
        Fire(PppEvent.RxjMinus, 0, default);
    }

    /// <summary>RXR: Echo-Request, Echo-Reply or Discard-Request (whole packet).</summary>
    public void Rxr(ReadOnlySpan<byte> packet) => Fire(PppEvent.Rxr, 0, packet);

    // ---- Packets to events ----------------------------------------------------------------------------

    /// <summary>
    /// One packet of this protocol. Malformed or stale packets are dropped and counted; nothing throws.
    /// </summary>
    public void Receive(ReadOnlySpan<byte> packet)
    {
        if (State is PppState.Initial or PppState.Starting || _firing)
        {
            // Lower layer not up (RFC 1661 4.2: "no packets") or re-entered from our own output.
            DroppedPackets++;
            return;
        }

        if (!PppControlPacket.TryParse(packet, out var code, out var identifier, out var data))
        {
            DroppedPackets++;
            return;
        }

        _inReceive = true;
        try
        {
            Dispatch(packet[..(PppControlPacket.HeaderLength + data.Length)], code, identifier, data);
        }
        finally
        {
            _inReceive = false;
        }

        if (_pendingFailure is { } failure)
        {
            _pendingFailure = null;
            Close(failure);
        }
    }

    private void Dispatch(ReadOnlySpan<byte> whole, byte code, byte identifier, ReadOnlySpan<byte> data)
    {
        switch ((PppCode)code)
        {
            case PppCode.ConfigureRequest:
                ReceiveConfigureRequest(identifier, data);
                break;
            case PppCode.ConfigureAck:
                ReceiveConfigureAck(identifier, data);
                break;
            case PppCode.ConfigureNak:
            case PppCode.ConfigureReject:
                ReceiveConfigureNakOrReject((PppCode)code, identifier, data);
                break;
            case PppCode.TerminateRequest:
                LastReason = DescribePeerTermination(data);
                TerminatedByPeer = true;
                _protocol.OnTerminateRequest(State, data);
                Rtr(identifier);
                break;
            case PppCode.TerminateAck:
                Rta();
                break;
            case PppCode.CodeReject:
                ReceiveCodeReject(data);
                break;
            default:
                switch (_protocol.ReceiveExtendedCode(code, identifier, data))
                {
                    case ExtendedCodeResult.EchoOrDiscard:
                        Rxr(whole);
                        break;
                    case ExtendedCodeResult.Handled:
                        break;
                    default:
                        Ruc(whole);
                        break;
                }

                break;
        }
    }

    /// <summary>Asks the automaton to Close with a reason after the current packet (used by option handlers).</summary>
    internal void RequestFailure(string reason)
    {
        if (_firing || _inReceive || _pendingFailure is not null)
        {
            _pendingFailure ??= reason;
            return;
        }

        Close(reason);
    }

    private void ReceiveConfigureRequest(byte identifier, ReadOnlySpan<byte> options)
    {
        // Only states that answer a request with sca/scn need a judgement; the others answer sta or nothing.
        if (State is not (PppState.Stopped or PppState.RequestSent or PppState.AckReceived or PppState.AckSent or PppState.Opened))
        {
            RcrPlus(identifier);
            return;
        }

        var verdict = JudgeRequest(identifier, options);
        if (verdict is null)
        {
            DroppedPackets++;
            return;
        }

        if (_pendingFailure is not null)
        {
            // An option gave up (e.g. loop-back detected): Receive closes once this packet is done.
            return;
        }

        if (verdict.Value)
        {
            RcrPlus(identifier);
        }
        else
        {
            RcrMinus(identifier);
        }
    }

    /// <summary>Builds the Ack, Nak or Reject into the response buffer; null when the request is malformed.</summary>
    private bool? JudgeRequest(byte identifier, ReadOnlySpan<byte> options)
    {
        if (!PppOptionReader.IsWellFormed(options) || options.Length > MaxPacketLength - PppControlPacket.HeaderLength)
        {
            return null;
        }

        foreach (var option in _protocol.Options)
        {
            option.ResetPeer();
        }

        Span<bool> seenTypes = stackalloc bool[256];
        Span<byte> response = stackalloc byte[MaxPacketLength];
        var rejectOut = response[PppControlPacket.HeaderLength..];
        Span<byte> nakOut = stackalloc byte[MaxPacketLength];
        int rejectLength = 0, nakLength = 0;
        var convertNaks = _failureCounter >= _settings.MaxFailure;
        Span<byte> hint = stackalloc byte[PppOption.MaxValueLength];

        var reader = new PppOptionReader(options);
        while (reader.TryRead(out var type, out var value, out var whole))
        {
            var handler = _protocol.FindOption(type);
            var verdict = OptionVerdict.Reject;
            var hintLength = 0;
            if (handler is not null && !seenTypes[type])
            {
                verdict = handler.JudgePeer(value, hint, out hintLength);
            }

            seenTypes[type] = true;
            if (verdict == OptionVerdict.Nak && convertNaks)
            {
                NaksConvertedToRejects++;
                verdict = OptionVerdict.Reject;
            }

            if (verdict == OptionVerdict.Reject)
            {
                whole.CopyTo(rejectOut[rejectLength..]);
                rejectLength += whole.Length;
            }
            else if (verdict == OptionVerdict.Nak)
            {
                nakLength += WriteOption(nakOut[nakLength..], type, hint[..Math.Clamp(hintLength, 0, PppOption.MaxValueLength)]);
            }
        }

        if (rejectLength == 0 && !convertNaks)
        {
            foreach (var option in _protocol.Options)
            {
                if (seenTypes[option.Type])
                {
                    continue;
                }

                var hintLength = option.NakWhenMissing(hint);
                if (hintLength >= 0)
                {
                    nakLength += WriteOption(nakOut[nakLength..], option.Type, hint[..Math.Min(hintLength, PppOption.MaxValueLength)]);
                }
            }
        }

        if (rejectLength > 0)
        {
            KeepResponse(response[..PppControlPacket.WriteHeader(response, (byte)PppCode.ConfigureReject, identifier, rejectLength)]);
            return false;
        }

        if (nakLength > 0)
        {
            KeepResponse(response[..PppControlPacket.Write(response, (byte)PppCode.ConfigureNak, identifier, nakOut[..nakLength])]);
            return false;
        }

        KeepResponse(response[..PppControlPacket.Write(response, (byte)PppCode.ConfigureAck, identifier, options)]);
        return true;
    }

    private void KeepResponse(ReadOnlySpan<byte> packet) => _responseLength = Keep(ref _response, packet);

    /// <summary>Copies <paramref name="packet"/> into <paramref name="buffer"/>, growing it first if it is too small.</summary>
    private static int Keep(ref byte[] buffer, ReadOnlySpan<byte> packet)
    {
        if (buffer.Length < packet.Length)
        {
            buffer = new byte[packet.Length];
        }

        packet.CopyTo(buffer);
        return packet.Length;
    }

    private static int WriteOption(Span<byte> destination, byte type, ReadOnlySpan<byte> value)
    {
        // A Nak list longer than one packet is cut: the peer will hear about the rest next round.
        if (destination.Length < value.Length + 2 || destination.Length - (value.Length + 2) < PppControlPacket.HeaderLength)
        {
            return 0;
        }

        destination[0] = type;
        destination[1] = (byte)(value.Length + 2);
        value.CopyTo(destination[2..]);
        return value.Length + 2;
    }

    private bool IsReplyToLastRequest(byte identifier)
    {
        if (!_awaitingReply || identifier != _requestIdentifier)
        {
            // A reply to an older request (or a duplicate): RFC 1661 5.2–5.4 say silently discard.
            DroppedPackets++;
            return false;
        }

        return true;
    }

    private void ReceiveConfigureAck(byte identifier, ReadOnlySpan<byte> options)
    {
        if (State is PppState.Closed or PppState.Stopped)
        {
            Rca();
            return;
        }

        if (!IsReplyToLastRequest(identifier))
        {
            return;
        }

        if (!options.SequenceEqual(_request.AsSpan(PppControlPacket.HeaderLength, _requestLength - PppControlPacket.HeaderLength)))
        {
            // An Ack must repeat our options exactly (RFC 1661 5.2).
            DroppedPackets++;
            return;
        }

        _awaitingReply = false;
        Rca();
    }

    private void ReceiveConfigureNakOrReject(PppCode code, byte identifier, ReadOnlySpan<byte> options)
    {
        if (State is PppState.Closed or PppState.Stopped)
        {
            Rcn();
            return;
        }

        if (!IsReplyToLastRequest(identifier))
        {
            return;
        }

        if (!PppOptionReader.IsWellFormed(options))
        {
            DroppedPackets++;
            return;
        }

        if (State is PppState.Closing or PppState.Stopping)
        {
            _awaitingReply = false;
            Rcn();
            return;
        }

        if (code == PppCode.ConfigureReject && !RejectListsOnlyOurOptions(options))
        {
            DroppedPackets++;
            return;
        }

        _awaitingReply = false;
        var reader = new PppOptionReader(options);
        while (reader.TryRead(out var type, out var value, out _))
        {
            var handler = _protocol.FindOption(type);
            if (handler is null)
            {
                continue;
            }

            if (code == PppCode.ConfigureReject)
            {
                handler.ApplyReject();
            }
            else if (WasRequested(type))
            {
                handler.ApplyNak(value);
            }
            else
            {
                handler.ApplyUnrequestedNak(value);
            }
        }

        if (_pendingFailure is not null)
        {
            return;
        }

        Rcn();
    }

    private bool WasRequested(byte type)
    {
        var reader = new PppOptionReader(_request.AsSpan(PppControlPacket.HeaderLength, _requestLength - PppControlPacket.HeaderLength));
        while (reader.TryRead(out var sent, out _, out _))
        {
            if (sent == type)
            {
                return true;
            }
        }

        return false;
    }

    private bool RejectListsOnlyOurOptions(ReadOnlySpan<byte> options)
    {
        // RFC 1661 5.4: rejected options must be ones we sent, unmodified.
        var ours = _request.AsSpan(PppControlPacket.HeaderLength, _requestLength - PppControlPacket.HeaderLength);
        var reader = new PppOptionReader(options);
        while (reader.TryRead(out _, out _, out var whole))
        {
            var found = false;
            var sent = new PppOptionReader(ours);
            while (sent.TryRead(out _, out _, out var candidate))
            {
                if (candidate.SequenceEqual(whole))
                {
                    found = true;
                    break;
                }
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }

    private void ReceiveCodeReject(ReadOnlySpan<byte> rejected)
    {
        if (rejected.Length < 1)
        {
            DroppedPackets++;
            return;
        }

        var code = rejected[0];
        if (code is >= (byte)PppCode.ConfigureRequest and <= (byte)PppCode.CodeReject)
        {
            // Without Configure, Terminate or Code-Reject the protocol cannot work at all (RFC 1661 5.6).
            RxjMinus($"peer does not understand {_protocol.Name} code {code}");
            return;
        }

        _protocol.OnCodeRejected(code);
        RxjPlus();
    }

    private static string DescribePeerTermination(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return "peer closed the link";
        }

        var text = new StringBuilder("peer closed the link: ");
        foreach (var b in data[..Math.Min(data.Length, MaxReasonBytes)])
        {
            text.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        }

        return text.ToString();
    }

    // ---- The automaton proper -------------------------------------------------------------------------

    private void Fire(PppEvent e, byte identifier, ReadOnlySpan<byte> packet)
    {
        if (_firing)
        {
            // Re-entered from an action callback (e.g. tlu handler calling Close): run it after this event.
            if (packet.IsEmpty && _deferredCount < DeferredCapacity)
            {
                _deferred[_deferredCount++] = e;
            }
            else
            {
                IgnoredEvents++;
            }

            return;
        }

        _firing = true;
        try
        {
            Step(e, identifier, packet);
            for (var i = 0; i < _deferredCount; i++)
            {
                Step(_deferred[i], 0, default);
            }
        }
        finally
        {
            _deferredCount = 0;
            _firing = false;
        }

        if (_pendingFailure is { } failure)
        {
            _pendingFailure = null;
            Close(failure);
        }
    }

    private void Step(PppEvent e, byte identifier, ReadOnlySpan<byte> packet)
    {
        if (PppTransitions.Lookup(State, e) is not { } transition)
        {
            IgnoredEvents++;
            return;
        }

        _stateBeforeEvent = State;
        _currentEvent = e;
        State = transition.Next;
        var sendsTerminate = Array.IndexOf(transition.Actions, PppAction.Str) >= 0;
        foreach (var action in transition.Actions)
        {
            Execute(action, sendsTerminate, identifier, packet);
        }

        if (State is not (PppState.Closing or PppState.Stopping or PppState.RequestSent or PppState.AckReceived or PppState.AckSent))
        {
            _restartTimer.Stop();
        }

        if (State != _stateBeforeEvent)
        {
            StateChanged?.Invoke(this, _stateBeforeEvent);
        }
    }

    private void Execute(PppAction action, bool sendsTerminate, byte identifier, ReadOnlySpan<byte> packet)
    {
        ActionExecuted?.Invoke(this, action);
        switch (action)
        {
            case PppAction.Tlu:
                LastReason = null;
                _protocol.OnThisLayerUp();
                LayerUp?.Invoke(this);
                break;
            case PppAction.Tld:
                if (_currentEvent is PppEvent.RcrPlus or PppEvent.RcrMinus or PppEvent.Rca or PppEvent.Rcn or PppEvent.Rta)
                {
                    LastReason = "peer is renegotiating";
                }

                _protocol.OnThisLayerDown();
                LayerDown?.Invoke(this);
                break;
            case PppAction.Tls:
                _protocol.OnThisLayerStarted();
                LayerStarted?.Invoke(this);
                break;
            case PppAction.Tlf:
                _protocol.OnThisLayerFinished();
                LayerFinished?.Invoke(this);
                break;
            case PppAction.Irc:
                _restartCounter = sendsTerminate ? _settings.MaxTerminate : _settings.MaxConfigure;
                break;
            case PppAction.Zrc:
                _restartCounter = 0;
                _restartTimer.Start(_settings.RestartInterval);
                break;
            case PppAction.Scr:
                Scr();
                break;
            case PppAction.Sca:
                if (_responseLength > 0 && _response[0] == (byte)PppCode.ConfigureAck)
                {
                    _failureCounter = 0;
                    _output.SendControl(_protocol.Protocol, _response.AsSpan(0, _responseLength));
                }

                break;
            case PppAction.Scn:
                if (_responseLength > 0 && _response[0] is (byte)PppCode.ConfigureNak or (byte)PppCode.ConfigureReject)
                {
                    if (_response[0] == (byte)PppCode.ConfigureNak)
                    {
                        _failureCounter++;
                    }

                    _output.SendControl(_protocol.Protocol, _response.AsSpan(0, _responseLength));
                }

                break;
            case PppAction.Str:
                Str();
                break;
            case PppAction.Sta:
                Send(PppCode.TerminateAck, identifier, default);
                break;
            case PppAction.Scj:
                // The rejected packet goes back as data, cut to fit one packet (RFC 1661 5.6).
                Send(PppCode.CodeReject, ++_nextIdentifier, packet[..Math.Min(packet.Length, MaxPacketLength - PppControlPacket.HeaderLength)]);
                break;
            case PppAction.Ser:
                if (PppControlPacket.TryParse(packet, out var code, out var id, out var data))
                {
                    _protocol.OnEchoOrDiscard(code, id, data);
                }

                break;
        }
    }

    private void Scr()
    {
        var fresh = _stateBeforeEvent is not (PppState.RequestSent or PppState.AckReceived or PppState.AckSent);
        if (fresh)
        {
            // A new negotiation starts from what we want by configuration (pppd resetci).
            _failureCounter = 0;
            foreach (var option in _protocol.Options)
            {
                option.ResetLocal();
            }
        }

        // A retransmission after a timeout keeps its identifier; any other request gets a new one (RFC 1661 5.1).
        if (!(_currentEvent == PppEvent.TimeoutPlus && _awaitingReply))
        {
            _requestIdentifier = ++_nextIdentifier;
            _requestLength = BuildRequest(_requestIdentifier);
        }

        _awaitingReply = true;
        _restartCounter--;
        _output.SendControl(_protocol.Protocol, _request.AsSpan(0, _requestLength));
        _restartTimer.Start(_settings.RestartInterval);
    }

    private int BuildRequest(byte identifier)
    {
        Span<byte> request = stackalloc byte[MaxPacketLength];
        var body = request[PppControlPacket.HeaderLength..];
        var length = 0;
        Span<byte> value = stackalloc byte[PppOption.MaxValueLength];
        foreach (var option in _protocol.Options)
        {
            var valueLength = option.WriteRequest(value);
            if (valueLength >= 0)
            {
                length += WriteOption(body[length..], option.Type, value[..Math.Min(valueLength, PppOption.MaxValueLength)]);
            }
        }

        return Keep(ref _request, request[..PppControlPacket.WriteHeader(request, (byte)PppCode.ConfigureRequest, identifier, length)]);
    }

    private void Str()
    {
        // The reason travels in the Terminate-Request's data so the peer can log it (as pppd does).
        var reason = _closeReason;
        var length = Math.Min(reason.Length, MaxReasonBytes);
        Span<byte> text = stackalloc byte[MaxReasonBytes];
        for (var i = 0; i < length; i++)
        {
            text[i] = reason[i] is >= ' ' and < (char)0x7F ? (byte)reason[i] : (byte)'?';
        }

        _restartCounter--;
        Send(PppCode.TerminateRequest, ++_nextIdentifier, text[..length]);
        _restartTimer.Start(_settings.RestartInterval);
    }

    private void Send(PppCode code, byte identifier, ReadOnlySpan<byte> data)
    {
        Span<byte> packet = stackalloc byte[MaxPacketLength];
        var length = PppControlPacket.Write(packet, (byte)code, identifier, data);
        if (length > 0)
        {
            _output.SendControl(_protocol.Protocol, packet[..length]);
        }
    }

    /// <summary>Sends a protocol-specific packet (Echo-Request, Protocol-Reject …) with a fresh or given identifier.</summary>
    internal void SendPacket(PppCode code, byte? identifier, ReadOnlySpan<byte> data) =>
        Send(code, identifier ?? ++_nextIdentifier, data);

    private void OnRestartTimerExpired()
    {
        if (_restartCounter > 0)
        {
            TimeoutPlus();
        }
        else
        {
            TimeoutMinus();
        }
    }

    /// <summary>Forces a state without actions; for the transition-table tests only.</summary>
    internal void ForceStateForTest(PppState state) => State = state;

    /// <inheritdoc />
    public void Dispose() => _restartTimer.Dispose();

    /// <summary>Shorthand used by protocols to read a big-endian value from an option.</summary>
    internal static uint ReadUInt32(ReadOnlySpan<byte> value) => BinaryPrimitives.ReadUInt32BigEndian(value);
}
