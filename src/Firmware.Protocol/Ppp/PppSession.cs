using System.Buffers;
using System.Buffers.Binary;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Ppp.Ipcp;
using Firmware.Protocol.Ppp.Ipv6cp;
using Firmware.Protocol.Ppp.Lcp;

namespace Firmware.Protocol.Ppp;

/// <summary>
/// One PPP link over one PPTP call: phases Dead → Establish → Authenticate → Network → Terminate (RFC 1661 3).
/// Owns LCP, the NCPs (IPCP, IPv6CP) and an optional encryption layer (CCP/MPPE); drives the authentication
/// exchanges the factory creates. Pure: frames, commands and time in; frames, packets and events out. One
/// session loop calls it; outputs must not call back into it synchronously.
/// </summary>
public sealed class PppSession : IPppControlOutput, IAuthOutput, IDisposable
{
    /// <summary>Header room the session leaves in front of control frames for the GRE header.</summary>
    public const int ControlFrameHeaderRoom = 64;

    private const int InnerProtocolLength = 2;

    private readonly PppSessionOptions _options;
    private readonly IPppSessionOutput _output;
    private readonly IPppAuthFactory? _authFactory;
    private readonly LcpProtocol _lcp;
    private readonly IpcpProtocol? _ipcp;
    private readonly Ipv6cpProtocol? _ipv6cp;
    private readonly IPppEncryptionLayer? _encryption;
    private readonly ProtocolTimer _authTimer;
    private IAuthProtocol? _authenticator;
    private IAuthProtocol? _authPeer;
    private bool _networkStarted;
    private bool _ncpsStarted;
    private bool _disposed;
    private string? _userName;

    /// <param name="options">Session settings.</param>
    /// <param name="output">Frames, packets and events out.</param>
    /// <param name="authFactory">Creates authentication exchanges; null when the policy needs none.</param>
    /// <param name="time">Time source for every timer.</param>
    /// <param name="random">Random source (magic numbers, interface identifiers).</param>
    /// <param name="dispatch">Posts timer expiries into the session's loop; null runs them inline.</param>
    /// <param name="encryptionLayer">Builds the CCP/MPPE layer, when the host wants one.</param>
    public PppSession(
        PppSessionOptions options,
        IPppSessionOutput output,
        IPppAuthFactory? authFactory,
        TimeProvider time,
        PppRandomFill random,
        Action<Action>? dispatch = null,
        Func<PppLayerContext, IPppEncryptionLayer>? encryptionLayer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(random);
        _options = options;
        _output = output;
        _authFactory = authFactory;

        _lcp = new LcpProtocol(options.Lcp, options.EffectiveAuth, options.Automaton, time, this, random, dispatch);
        _lcp.Automaton.LayerUp += _ => OnLinkUp();
        _lcp.Automaton.LayerDown += _ => OnLinkDown();
        _lcp.Automaton.LayerFinished += _ => OnLinkFinished();
        _lcp.Automaton.StateChanged += (_, _) => UpdatePhaseFromLcp();
        _lcp.ProtocolRejected += OnProtocolRejected;

        if (options.Ipcp is not null)
        {
            _ipcp = new IpcpProtocol(options.Ipcp, options.Automaton, time, this, dispatch);
            WireNcp(_ipcp);
        }

        if (options.Ipv6cp.Enabled)
        {
            _ipv6cp = new Ipv6cpProtocol(options.Ipv6cp, options.Automaton, time, this, random, dispatch);
            WireNcp(_ipv6cp);
        }

        if (encryptionLayer is not null)
        {
            _encryption = encryptionLayer(new PppLayerContext(time, this, options.Automaton, random, dispatch));
            _encryption.ControlProtocol.Automaton.LayerUp += _ => OnEncryptionUp();
            _encryption.ControlProtocol.Automaton.LayerDown += _ => Report(PppSessionEventKind.NetworkDown, _encryption.ControlProtocol.Automaton.LastReason, _encryption.ControlProtocol.Protocol);
            _encryption.ControlProtocol.Automaton.LayerFinished += _ => OnEncryptionFinished();
            _encryption.Failed += reason => FailLink(reason, PppSessionEventKind.NetworkDown);
        }

        _authTimer = new ProtocolTimer(time, OnAuthenticationTimeout, dispatch);
    }

    /// <summary>The current phase.</summary>
    public PppPhase Phase { get; private set; }

    /// <summary>LCP, for status and tests.</summary>
    public LcpProtocol Lcp => _lcp;

    /// <summary>IPCP, when enabled.</summary>
    public IpcpProtocol? Ipcp => _ipcp;

    /// <summary>IPv6CP, when enabled.</summary>
    public Ipv6cpProtocol? Ipv6cp => _ipv6cp;

    /// <summary>Why the link last went down or finished.</summary>
    public string? LastReason { get; private set; }

    /// <summary>The peer ended the link with an LCP Terminate-Request.</summary>
    public bool TerminatedByPeer => _lcp.Automaton.TerminatedByPeer;

    /// <summary>The link ended because the peer stopped answering LCP Echo-Requests.</summary>
    public bool EchoFailed => _lcp.EchoFailed;

    /// <summary>Frames dropped: malformed, wrong phase, protocol not up, transform refused.</summary>
    public long DroppedFrames { get; private set; }

    /// <summary>Protocol-Rejects sent for frames of protocols we do not run.</summary>
    public long ProtocolRejectsSent { get; private set; }

    /// <summary>Outbound packets refused (protocol not up, no header room, transform refused).</summary>
    public long DroppedOutboundPackets { get; private set; }

    /// <summary>
    /// Bytes a caller must leave free in front of an outbound packet for <see cref="TrySendPacket"/>: the PPP
    /// header, plus the inner protocol field and the transform's header when an encryption layer is present.
    /// </summary>
    public int RequiredHeaderRoom => PppFrame.MaxHeaderLength + (_encryption is null ? 0 : InnerProtocolLength + MaxTransformRoom);

    private const int MaxTransformRoom = 16;

    /// <summary>
    /// The name the peer gave while we authenticated it, accepted or not: a server's lockout counts failed
    /// logins per claimed name, and <see cref="PppNegotiatedParameters.UserName"/> is set only on success.
    /// Valid while the <see cref="PppSessionEventKind.AuthenticationFailed"/> event is reported.
    /// </summary>
    public string? ClaimedUserName => _authenticator?.UserName ?? _userName;

    /// <summary>What has been agreed so far.</summary>
    public PppNegotiatedParameters Negotiated => new()
    {
        PeerMru = _lcp.PeerMru,
        LocalMru = _lcp.LocalMru,
        AuthenticatorMethod = _lcp.State == PppState.Opened ? _lcp.AuthenticatorMethod : AuthMethod.None,
        PeerMethod = _lcp.State == PppState.Opened ? _lcp.PeerMethod : AuthMethod.None,
        UserName = _userName,
        TransmitFraming = _lcp.TransmitFraming,
        LocalAddress = IsOpened(_ipcp) ? _ipcp!.LocalAddress : null,
        PeerAddress = IsOpened(_ipcp) ? _ipcp!.PeerAddress : null,
        PrimaryDns = IsOpened(_ipcp) ? _ipcp!.PrimaryDns : null,
        SecondaryDns = IsOpened(_ipcp) ? _ipcp!.SecondaryDns : null,
        PrimaryNbns = IsOpened(_ipcp) ? _ipcp!.PrimaryNbns : null,
        SecondaryNbns = IsOpened(_ipcp) ? _ipcp!.SecondaryNbns : null,
        LocalInterfaceId = IsOpened(_ipv6cp) ? _ipv6cp!.LocalInterfaceId : null,
        PeerInterfaceId = IsOpened(_ipv6cp) ? _ipv6cp!.PeerInterfaceId : null,
        Ipv4Up = IsOpened(_ipcp),
        Ipv6Up = IsOpened(_ipv6cp),
        EncryptionUp = ActiveTransform is not null,
    };

    // ---- Commands -------------------------------------------------------------------------------------

    /// <summary>Administrative Open and lower layer Up: a PPTP call carries frames as soon as it exists.</summary>
    public void Start()
    {
        Open();
        LowerUp();
    }

    /// <summary>Administrative Open (RFC 1661 Open event for LCP).</summary>
    public void Open() => _lcp.Automaton.Open();

    /// <summary>The lower layer (the PPTP call) is up.</summary>
    public void LowerUp() => _lcp.Automaton.Up();

    /// <summary>Administrative Close: terminates the link politely with <paramref name="reason"/>.</summary>
    public void Close(string reason) => _lcp.Automaton.Close(reason);

    // ---- Input ----------------------------------------------------------------------------------------

    /// <summary>
    /// One PPP frame from GRE. Data frames are decrypted in place, hence the writable span. Malformed or
    /// unexpected frames are dropped and counted; nothing throws for any byte string.
    /// </summary>
    public void ReceiveFrame(Span<byte> frame)
    {
        if (_disposed || !PppFrame.TryDecodeHeader(frame, out var protocol, out var headerLength))
        {
            DroppedFrames++;
            return;
        }

        var payload = frame[headerLength..];
        switch (protocol)
        {
            case PppProtocol.Lcp:
                _lcp.Receive(payload);
                break;
            case PppProtocol.Ipv4:
            case PppProtocol.Ipv6:
                ReceivePlainData(protocol, payload);
                break;
            case PppProtocol.CompressedDatagram:
                ReceiveTransformedData(frame, headerLength);
                break;
            case PppProtocol.Pap:
            case PppProtocol.Chap:
                ReceiveAuthentication(protocol, payload);
                break;
            default:
                ReceiveOtherControl(protocol, payload);
                break;
        }
    }

    private void ReceiveAuthentication(PppProtocol protocol, ReadOnlySpan<byte> packet)
    {
        var target = RouteAuthentication(protocol, packet);
        if (target is null || _lcp.State != PppState.Opened)
        {
            DroppedFrames++;
            return;
        }

        target.Receive(packet);
    }

    private IAuthProtocol? RouteAuthentication(PppProtocol protocol, ReadOnlySpan<byte> packet)
    {
        var forAuthenticator = _authenticator?.Protocol == protocol ? _authenticator : null;
        var forPeer = _authPeer?.Protocol == protocol ? _authPeer : null;
        if (forAuthenticator is null || forPeer is null || packet.IsEmpty)
        {
            return forAuthenticator ?? forPeer;
        }

        // Both directions use the same protocol: requests/responses go to the authenticator, the rest to
        // the peer side (PAP: 1 = Authenticate-Request; CHAP: 2 = Response).
        var code = packet[0];
        var toAuthenticator = protocol == PppProtocol.Pap ? code == 1 : code == 2;
        return toAuthenticator ? forAuthenticator : forPeer;
    }

    private void ReceiveOtherControl(PppProtocol protocol, ReadOnlySpan<byte> payload)
    {
        var target = FindNetworkControl(protocol);
        if (target is null)
        {
            if (_lcp.State == PppState.Opened)
            {
                // RFC 1661 5.7: unknown protocols are rejected once LCP is Opened.
                ProtocolRejectsSent++;
                _lcp.SendProtocolReject(protocol, payload);
            }
            else
            {
                DroppedFrames++;
            }

            return;
        }

        if (Phase != PppPhase.Network || !_networkStarted)
        {
            // NCP packets before the Network phase are silently discarded (RFC 1661 3.5).
            DroppedFrames++;
            return;
        }

        target.Receive(payload);
    }

    private ControlProtocol? FindNetworkControl(PppProtocol protocol)
    {
        if (_ipcp?.Protocol == protocol)
        {
            return _ipcp;
        }

        if (_ipv6cp?.Protocol == protocol)
        {
            return _ipv6cp;
        }

        return _encryption?.ControlProtocol.Protocol == protocol ? _encryption.ControlProtocol : null;
    }

    private void ReceivePlainData(PppProtocol protocol, Span<byte> packet)
    {
        // Once a transform is active (RFC 3078: MPPE negotiated), plain IP from the peer is refused, as Linux does.
        if (!NetworkOpen(protocol) || EncryptionRequired || ActiveTransform is not null)
        {
            DroppedFrames++;
            return;
        }

        _output.DeliverPacket(protocol, packet);
    }

    private void ReceiveTransformedData(Span<byte> frame, int payloadOffset)
    {
        var transform = ActiveTransform;
        var offset = payloadOffset;
        var length = frame.Length - payloadOffset;
        if (transform is null || !transform.TryDecode(frame, ref offset, ref length) || offset < 0 || length < 0 || offset + length > frame.Length)
        {
            DroppedFrames++;
            return;
        }

        var inner = frame.Slice(offset, length);
        if (!PppFrame.TryDecodeHeader(inner, out var protocol, out var innerHeader) || innerHeader > InnerProtocolLength
            || protocol is not (PppProtocol.Ipv4 or PppProtocol.Ipv6) || !NetworkOpen(protocol))
        {
            DroppedFrames++;
            return;
        }

        _output.DeliverPacket(protocol, inner[innerHeader..]);
    }

    private bool NetworkOpen(PppProtocol dataProtocol) => dataProtocol == PppProtocol.Ipv4 ? IsOpened(_ipcp) : IsOpened(_ipv6cp);

    private bool EncryptionRequired => _encryption is { Required: true };

    private IPppDataTransform? ActiveTransform =>
        _encryption is not null && IsOpened(_encryption.ControlProtocol) ? _encryption.Transform : null;

    // ---- Output ---------------------------------------------------------------------------------------

    /// <summary>
    /// Sends one IPv4 or IPv6 packet from the TUN device. The packet is at
    /// <c>buffer[payloadOffset..payloadOffset+payloadLength]</c> with at least <see cref="RequiredHeaderRoom"/>
    /// free bytes before it: headers are written in place, nothing is copied. False (and counted) when the
    /// protocol is not up or the packet cannot be framed. An empty packet is refused: it would go out as a
    /// frame of the protocol field alone, which peers read past (CVE-2025-38574's class).
    /// </summary>
    public bool TrySendPacket(PppProtocol protocol, Span<byte> buffer, int payloadOffset, int payloadLength)
    {
        if (_disposed || protocol is not (PppProtocol.Ipv4 or PppProtocol.Ipv6) || !NetworkOpen(protocol)
            || payloadOffset < 0 || payloadLength <= 0 || payloadOffset + payloadLength > buffer.Length)
        {
            DroppedOutboundPackets++;
            return false;
        }

        var offset = payloadOffset;
        var length = payloadLength;
        var outer = protocol;
        var transform = ActiveTransform;
        if (transform is not null)
        {
            if (offset < InnerProtocolLength)
            {
                DroppedOutboundPackets++;
                return false;
            }

            offset -= InnerProtocolLength;
            length += InnerProtocolLength;
            BinaryPrimitives.WriteUInt16BigEndian(buffer[offset..], (ushort)protocol);
            if (!transform.TryEncode(buffer, ref offset, ref length) || offset < 0 || offset + length > buffer.Length)
            {
                DroppedOutboundPackets++;
                return false;
            }

            outer = PppProtocol.CompressedDatagram;
        }
        else if (EncryptionRequired)
        {
            DroppedOutboundPackets++;
            return false;
        }

        if (!PppFrame.TryWriteHeader(buffer, offset, outer, _lcp.TransmitFraming, out var frameOffset))
        {
            DroppedOutboundPackets++;
            return false;
        }

        _output.SendFrame(buffer, frameOffset, offset + length - frameOffset);
        return true;
    }

    void IPppControlOutput.SendControl(PppProtocol protocol, ReadOnlySpan<byte> packet) => SendControlFrame(protocol, packet);

    void IAuthOutput.Send(PppProtocol protocol, ReadOnlySpan<byte> packet) => SendControlFrame(protocol, packet);

    private void SendControlFrame(PppProtocol protocol, ReadOnlySpan<byte> packet)
    {
        var payloadOffset = ControlFrameHeaderRoom + PppFrame.MaxHeaderLength;
        if (_disposed || packet.Length > ushort.MaxValue)
        {
            return;
        }

        // Rented per packet, not held per session: a control packet may be as long as an MRU allows (64 kB), and
        // a buffer that size in every session was most of a session's memory; control packets are a few a minute.
        var frame = ArrayPool<byte>.Shared.Rent(payloadOffset + packet.Length);
        try
        {
            packet.CopyTo(frame.AsSpan(payloadOffset));
            var framing = protocol == PppProtocol.Lcp ? PppFraming.Uncompressed : _lcp.TransmitFraming;
            PppFrame.TryWriteHeader(frame, payloadOffset, protocol, framing, out var frameOffset);
            _output.SendFrame(frame, frameOffset, payloadOffset + packet.Length - frameOffset);
        }
        finally
        {
            // Cleared: a PAP request carries a password, a CHAP response what a dictionary attack needs.
            ArrayPool<byte>.Shared.Return(frame, clearArray: true);
        }
    }

    // ---- Phase orchestration --------------------------------------------------------------------------

    private void WireNcp(ControlProtocol ncp)
    {
        ncp.Automaton.LayerUp += a => Report(PppSessionEventKind.NetworkUp, null, a.Protocol.Protocol);
        ncp.Automaton.LayerDown += a => Report(PppSessionEventKind.NetworkDown, a.LastReason, a.Protocol.Protocol);
        ncp.Automaton.LayerFinished += OnNcpFinished;
    }

    private void UpdatePhaseFromLcp()
    {
        var phase = _lcp.State switch
        {
            PppState.Starting or PppState.RequestSent or PppState.AckReceived or PppState.AckSent => PppPhase.Establish,
            PppState.Closing or PppState.Stopping => PppPhase.Terminate,
            PppState.Opened => Phase,
            _ => PppPhase.Dead,
        };
        SetPhase(phase);
    }

    private void SetPhase(PppPhase phase)
    {
        if (phase == Phase)
        {
            return;
        }

        Phase = phase;
        Report(PppSessionEventKind.PhaseChanged, null);
    }

    private void OnLinkUp()
    {
        _userName = null;
        Report(PppSessionEventKind.LinkUp, null, PppProtocol.Lcp);
        var demanded = _lcp.AuthenticatorMethod;
        var proving = _lcp.PeerMethod;
        if (demanded == AuthMethod.None && proving == AuthMethod.None)
        {
            BeginNetwork();
            return;
        }

        SetPhase(PppPhase.Authenticate);
        if (_authFactory is null)
        {
            FailLink("no authentication implementation is configured", PppSessionEventKind.AuthenticationFailed);
            return;
        }

        _authTimer.Start(_options.AuthenticationTimeout);
        try
        {
            _authenticator = demanded == AuthMethod.None ? null : _authFactory.Create(demanded, AuthRole.Authenticator);
            _authPeer = proving == AuthMethod.None ? null : _authFactory.Create(proving, AuthRole.Peer);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            FailLink($"cannot start authentication: {e.Message}", PppSessionEventKind.AuthenticationFailed);
            return;
        }

        // Subscribe both before starting either: a start may complete synchronously.
        if (_authenticator is not null)
        {
            _authenticator.Completed += OnAuthCompleted;
        }

        if (_authPeer is not null)
        {
            _authPeer.Completed += OnAuthCompleted;
        }

        _authenticator?.Start(this);
        _authPeer?.Start(this);
    }

    private void OnAuthCompleted(IAuthProtocol exchange)
    {
        if (Phase != PppPhase.Authenticate || _lcp.State != PppState.Opened)
        {
            return;
        }

        if (exchange.Status == AuthStatus.Failed)
        {
            var reason = exchange.FailureReason ?? (ReferenceEquals(exchange, _authenticator)
                ? $"authentication failed for user '{exchange.UserName}'"
                : $"the peer rejected our {AuthProtocolCodec.Describe(exchange.Method)} credentials");
            FailLink(reason, PppSessionEventKind.AuthenticationFailed);
            return;
        }

        if (IsDone(_authenticator) && IsDone(_authPeer))
        {
            _authTimer.Stop();
            _userName = _authenticator?.UserName ?? _authPeer?.UserName;
            Report(PppSessionEventKind.Authenticated, _userName is null ? null : $"user '{_userName}'");
            BeginNetwork();
        }
    }

    private static bool IsDone(IAuthProtocol? exchange) => exchange is null || exchange.Status == AuthStatus.Succeeded;

    private void OnAuthenticationTimeout()
    {
        if (Phase == PppPhase.Authenticate)
        {
            FailLink($"authentication did not complete within {_options.AuthenticationTimeout.TotalSeconds:0} s", PppSessionEventKind.AuthenticationFailed);
        }
    }

    private void BeginNetwork()
    {
        SetPhase(PppPhase.Network);
        _networkStarted = true;
        if (_encryption is not null)
        {
            _encryption.OnAuthenticated(_authenticator, _authPeer);
            _encryption.ControlProtocol.Automaton.Up();
            _encryption.ControlProtocol.Automaton.Open();
            if (_encryption.Required)
            {
                return;
            }
        }

        StartNcps();
    }

    private void StartNcps()
    {
        if (_ncpsStarted || _lcp.State != PppState.Opened)
        {
            return;
        }

        _ncpsStarted = true;
        foreach (var ncp in Ncps())
        {
            ncp.Automaton.Up();
            ncp.Automaton.Open();
        }

        if (_ipcp is null && _ipv6cp is null)
        {
            FailLink("no network protocol is enabled", PppSessionEventKind.NetworkDown);
        }
    }

    private IEnumerable<ControlProtocol> Ncps()
    {
        if (_ipcp is not null)
        {
            yield return _ipcp;
        }

        if (_ipv6cp is not null)
        {
            yield return _ipv6cp;
        }
    }

    private void OnEncryptionUp()
    {
        if (_encryption!.FatalReason is { } fatal)
        {
            FailLink(fatal, PppSessionEventKind.NetworkDown);
            return;
        }
        Report(PppSessionEventKind.EncryptionUp, _encryption!.Description, _encryption.ControlProtocol.Protocol);
        StartNcps();
    }

    private void OnEncryptionFinished()
    {
        if (_encryption!.Required && _lcp.State == PppState.Opened)
        {
            FailLink(_encryption.FailureReason ?? _encryption.ControlProtocol.Automaton.LastReason ?? "encryption could not be negotiated", PppSessionEventKind.NetworkDown);
        }
    }

    private void OnNcpFinished(PppAutomaton ncp)
    {
        Report(PppSessionEventKind.NetworkDown, ncp.LastReason ?? $"{ncp.Protocol.Name} finished", ncp.Protocol.Protocol);
        if (_lcp.State != PppState.Opened || !_ncpsStarted)
        {
            return;
        }

        // RFC 1661 3.5 leaves it to us; pppd closes the link once no network protocol can run.
        foreach (var other in Ncps())
        {
            if (other.State is not (PppState.Initial or PppState.Starting or PppState.Closed or PppState.Stopped))
            {
                return;
            }
        }

        FailLink($"no network protocol could be negotiated ({ncp.LastReason ?? ncp.Protocol.Name + " finished"})", PppSessionEventKind.NetworkDown);
    }

    private void OnProtocolRejected(PppProtocol protocol)
    {
        // The peer does not run this protocol: stop it for good (RXJ- for that NCP).
        var target = FindNetworkControl(protocol);
        target?.Automaton.RxjMinus($"peer does not support {target.Name} (Protocol-Reject)");
        if (target is null && !Enum.IsDefined(protocol))
        {
            // We never send it: the peer took garbage for a protocol field (its decryption is off).
            _encryption?.OnPeerRejectedUnknownProtocol(protocol);
        }
    }

    private void FailLink(string reason, PppSessionEventKind kind)
    {
        LastReason = reason;
        Report(kind, reason);
        _lcp.Automaton.Close(reason);
    }

    private void OnLinkDown()
    {
        LastReason = _lcp.Automaton.LastReason ?? LastReason;
        StopUpperLayers();
        Report(PppSessionEventKind.LinkDown, LastReason, PppProtocol.Lcp);
    }

    private void OnLinkFinished()
    {
        StopUpperLayers();
        LastReason = _lcp.Automaton.LastReason ?? LastReason ?? "link finished";
        Report(PppSessionEventKind.Finished, LastReason, PppProtocol.Lcp);
    }

    private void StopUpperLayers()
    {
        _authTimer.Stop();
        DisposeAuth();
        _networkStarted = false;
        _ncpsStarted = false;
        foreach (var ncp in Ncps())
        {
            ncp.Automaton.Down();
            ncp.Automaton.Close("link down");
        }

        if (_encryption is not null)
        {
            _encryption.ControlProtocol.Automaton.Down();
            _encryption.ControlProtocol.Automaton.Close("link down");
        }
    }

    private void DisposeAuth()
    {
        if (_authenticator is not null)
        {
            _authenticator.Completed -= OnAuthCompleted;
            _authenticator.Dispose();
            _authenticator = null;
        }

        if (_authPeer is not null)
        {
            _authPeer.Completed -= OnAuthCompleted;
            _authPeer.Dispose();
            _authPeer = null;
        }
    }

    private static bool IsOpened(ControlProtocol? protocol) => protocol?.State == PppState.Opened;

    private void Report(PppSessionEventKind kind, string? reason, PppProtocol? protocol = null) =>
        _output.OnEvent(new PppSessionEvent(kind, Phase, reason, protocol));

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _authTimer.Dispose();
        DisposeAuth();
        _lcp.Dispose();
        _ipcp?.Dispose();
        _ipv6cp?.Dispose();
        _encryption?.Dispose();
    }
}
