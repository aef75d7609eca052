using System.Buffers.Binary;
using Firmware.Protocol.Auth;

namespace Firmware.Protocol.Ppp.Lcp;

/// <summary>
/// The Link Control Protocol (RFC 1661): MRU, ACCM (ignored), Authentication-Protocol, Magic-Number, PFC and
/// ACFC options; Echo keepalive; Discard-Request; Protocol-Reject sent and received; Identification and
/// Time-Remaining (RFC 1570) accepted silently.
/// </summary>
public sealed class LcpProtocol : ControlProtocol
{
    private readonly LcpSettings _settings;
    private readonly LcpMruOption _mru;
    private readonly LcpAuthenticationOption _auth;
    private readonly LcpMagicNumberOption _magic;
    private readonly LcpCompressionFlagOption _pfc;
    private readonly LcpCompressionFlagOption _acfc;
    private readonly ProtocolTimer _echoTimer;
    private int _echoOutstanding;

    /// <param name="settings">Options we ask for and accept.</param>
    /// <param name="authPolicy">Authentication methods demanded and accepted.</param>
    /// <param name="automaton">Restart timer and counters.</param>
    /// <param name="time">Time source for the restart and echo timers.</param>
    /// <param name="output">Where packets go.</param>
    /// <param name="random">Source of magic numbers.</param>
    /// <param name="dispatch">Posts timer expiries into the session's loop.</param>
    public LcpProtocol(LcpSettings settings, AuthPolicy authPolicy, PppAutomatonSettings automaton, TimeProvider time, IPppControlOutput output, PppRandomFill random, Action<Action>? dispatch = null)
        : base(PppProtocol.Lcp, "LCP", automaton, time, output, dispatch)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(authPolicy);
        ArgumentNullException.ThrowIfNull(random);
        _settings = settings;
        _mru = new LcpMruOption(settings);
        _auth = new LcpAuthenticationOption(authPolicy);
        _magic = new LcpMagicNumberOption(settings, random);
        _pfc = new LcpCompressionFlagOption(7, "Protocol-Field-Compression", settings.RequestProtocolCompression, settings.AllowProtocolCompression);
        _acfc = new LcpCompressionFlagOption(8, "Address-and-Control-Field-Compression", settings.RequestAddressControlCompression, settings.AllowAddressControlCompression);
        AddOption(_mru);
        AddOption(new LcpAccmOption());
        AddOption(_auth);
        AddOption(_magic);
        AddOption(_pfc);
        AddOption(_acfc);
        _echoTimer = new ProtocolTimer(time, OnEchoTimer, dispatch);
    }

    /// <summary>The largest packet we may send: the peer's MRU.</summary>
    public int PeerMru => _mru.PeerMru;

    /// <summary>The MRU the peer agreed we receive.</summary>
    public int LocalMru => _mru.LocalMru;

    /// <summary>The method the peer must authenticate itself with (we are authenticator); None if none.</summary>
    public AuthMethod AuthenticatorMethod => _auth.Demanded;

    /// <summary>The method we authenticate ourselves with (we are the peer); None if none.</summary>
    public AuthMethod PeerMethod => _auth.Accepted;

    /// <summary>Our Magic-Number (0 when not negotiated).</summary>
    public uint LocalMagic => _magic.LocalMagic;

    /// <summary>The peer's Magic-Number (0 when not negotiated).</summary>
    public uint PeerMagic => _magic.PeerMagic;

    /// <summary>How we frame what we send: the compressions the peer asked for and we acked.</summary>
    public PppFraming TransmitFraming => new(_acfc.PeerRequested, _pfc.PeerRequested);

    /// <summary>Whether the peer agreed to send us compressed protocol fields / no address-control.</summary>
    public PppFraming ReceiveFraming => new(_acfc.LocalAgreed, _pfc.LocalAgreed);

    /// <summary>Why we refused the peer's authentication demand during the current negotiation, if we did.</summary>
    public string? AuthDisagreement => _auth.Disagreement;

    /// <summary>Echo-Requests sent without a reply since the last reply.</summary>
    public int EchoOutstanding => _echoOutstanding;

    /// <summary>The link was closed because the peer stopped answering Echo-Requests (the carrier is lost).</summary>
    public bool EchoFailed { get; private set; }

    /// <summary>The peer sent a Protocol-Reject for this (non-LCP) protocol: stop using it.</summary>
    public event Action<PppProtocol>? ProtocolRejected;

    /// <summary>Sends a Protocol-Reject for a frame of an unknown protocol (only when Opened, RFC 1661 5.7).</summary>
    public void SendProtocolReject(PppProtocol protocol, ReadOnlySpan<byte> information)
    {
        if (State != PppState.Opened)
        {
            return;
        }

        // The rejected information is cut so the packet fits the peer's MRU.
        var room = Math.Min(PeerMru, PppAutomaton.MaxPacketLength) - PppControlPacket.HeaderLength - 2;
        var length = Math.Min(information.Length, Math.Max(room, 0));
        Span<byte> packet = stackalloc byte[PppAutomaton.MaxPacketLength];
        BinaryPrimitives.WriteUInt16BigEndian(packet, (ushort)protocol);
        information[..length].CopyTo(packet[2..]);
        Automaton.SendPacket(PppCode.ProtocolReject, null, packet[..(2 + length)]);
    }

    /// <inheritdoc />
    protected internal override ExtendedCodeResult ReceiveExtendedCode(byte code, byte identifier, ReadOnlySpan<byte> data)
    {
        switch ((PppCode)code)
        {
            case PppCode.ProtocolReject:
                ReceiveProtocolReject(data);
                return ExtendedCodeResult.Handled;
            case PppCode.EchoRequest:
            case PppCode.EchoReply:
            case PppCode.DiscardRequest:
                return ExtendedCodeResult.EchoOrDiscard;
            case PppCode.Identification:
            case PppCode.TimeRemaining:
                // RFC 1570 1.1/1.2: information for the peer's operator, no reply expected. Windows sends both
                // right after its Configure-Ack (before Opened) and again on every renegotiation; a Code-Reject of
                // each would be noise it ignores anyway.
                return ExtendedCodeResult.Handled;
            default:
                return ExtendedCodeResult.Unknown;
        }
    }

    private void ReceiveProtocolReject(ReadOnlySpan<byte> data)
    {
        // RFC 1661 5.7: only meaningful in Opened; a short packet carries no protocol to stop.
        if (State != PppState.Opened || data.Length < 2)
        {
            return;
        }

        var protocol = (PppProtocol)BinaryPrimitives.ReadUInt16BigEndian(data);
        if (protocol == PppProtocol.Lcp)
        {
            Automaton.RxjMinus("peer rejected LCP itself");
            return;
        }

        ProtocolRejected?.Invoke(protocol);
        Automaton.RxjPlus();
    }

    /// <inheritdoc />
    protected internal override void OnEchoOrDiscard(byte code, byte identifier, ReadOnlySpan<byte> data)
    {
        if (data.Length < 4)
        {
            return;
        }

        var magic = BinaryPrimitives.ReadUInt32BigEndian(data);
        if (magic != 0 && magic == LocalMagic)
        {
            // Our own echo came back: a looped link, not an answer.
            return;
        }

        if (code == (byte)PppCode.EchoRequest)
        {
            var room = Math.Min(PeerMru, PppAutomaton.MaxPacketLength) - PppControlPacket.HeaderLength;
            var length = Math.Clamp(data.Length, 4, Math.Max(room, 4));
            Span<byte> packet = stackalloc byte[PppAutomaton.MaxPacketLength];
            BinaryPrimitives.WriteUInt32BigEndian(packet, LocalMagic);
            data[4..length].CopyTo(packet[4..]);
            Automaton.SendPacket(PppCode.EchoReply, identifier, packet[..length]);
        }
        else if (code == (byte)PppCode.EchoReply)
        {
            _echoOutstanding = 0;
        }
    }

    /// <inheritdoc />
    protected internal override void OnCodeRejected(byte code)
    {
        if (code == (byte)PppCode.EchoRequest)
        {
            // A peer without echo support cannot be probed; do not count its silence against it.
            _echoTimer.Stop();
            _echoOutstanding = 0;
        }
    }

    /// <inheritdoc />
    protected internal override void OnTerminateRequest(PppState state, ReadOnlySpan<byte> data)
    {
        // The peer gave up negotiating after we refused its authentication demand: finish now, with the reason,
        // rather than retrying until Max-Configure.
        if (state is PppState.RequestSent or PppState.AckReceived or PppState.AckSent && _auth.Disagreement is { } disagreement)
        {
            Fail(disagreement);
        }
    }

    /// <inheritdoc />
    protected internal override void OnThisLayerUp()
    {
        _auth.ClearDisagreement();
        _magic.ResetLoopDetection();
        _echoOutstanding = 0;
        if (_settings.EchoInterval > TimeSpan.Zero && _settings.EchoFailureLimit > 0)
        {
            _echoTimer.Start(_settings.EchoInterval);
        }
    }

    /// <inheritdoc />
    protected internal override void OnThisLayerDown() => _echoTimer.Stop();

    /// <inheritdoc />
    protected internal override void OnThisLayerFinished() => _echoTimer.Stop();

    private void OnEchoTimer()
    {
        if (State != PppState.Opened)
        {
            return;
        }

        if (_echoOutstanding >= _settings.EchoFailureLimit)
        {
            EchoFailed = true;
            Automaton.Close($"peer did not answer LCP echo {_settings.EchoFailureLimit} times");
            return;
        }

        _echoOutstanding++;
        Span<byte> magic = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(magic, LocalMagic);
        Automaton.SendPacket(PppCode.EchoRequest, null, magic);
        _echoTimer.Start(_settings.EchoInterval);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _echoTimer.Dispose();
        }

        base.Dispose(disposing);
    }
}
