using System.Net;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Ppp.Ipcp;
using Firmware.Protocol.Ppp.Ipv6cp;
using Firmware.Protocol.Ppp.Lcp;

namespace Firmware.Protocol.Ppp;

/// <summary>The link phases of RFC 1661 3.2.</summary>
public enum PppPhase
{
    /// <summary>Link Dead.</summary>
    Dead,
    /// <summary>Link Establishment: LCP negotiating.</summary>
    Establish,
    /// <summary>Authentication.</summary>
    Authenticate,
    /// <summary>Network-Layer Protocol: CCP and NCPs.</summary>
    Network,
    /// <summary>Link Termination.</summary>
    Terminate,
}

/// <summary>Which end of the PPTP call this session is; it picks the default authentication policy.</summary>
public enum PppSessionRole
{
    /// <summary>PPTP Network Server: demands authentication, assigns addresses.</summary>
    Server,
    /// <summary>PPTP Access Concentrator side dialing out: proves itself, accepts an address.</summary>
    Client,
}

/// <summary>
/// Creates authentication exchanges for the session's Authenticate phase. The host passes one that knows
/// its users (authenticator) or its credentials (peer); the Auth helpers' classes implement the exchange.
/// </summary>
public interface IPppAuthFactory
{
    /// <summary>An exchange of <paramref name="method"/> on <paramref name="role"/>'s side, not yet started.</summary>
    IAuthProtocol Create(AuthMethod method, AuthRole role);
}

/// <summary>Everything a session sends out or reports.</summary>
public interface IPppSessionOutput
{
    /// <summary>
    /// One PPP frame for GRE, at <c>buffer[frameOffset..frameOffset+frameLength]</c>; the bytes before
    /// <paramref name="frameOffset"/> are free header room for the GRE header. Valid only during the call.
    /// </summary>
    void SendFrame(Span<byte> buffer, int frameOffset, int frameLength);

    /// <summary>One IPv4 or IPv6 packet received from the peer, for the TUN device. Valid only during the call.</summary>
    void DeliverPacket(PppProtocol protocol, Span<byte> packet);

    /// <summary>A state change a user or the status command should see.</summary>
    void OnEvent(PppSessionEvent sessionEvent);
}

/// <summary>Kinds of <see cref="PppSessionEvent"/>.</summary>
public enum PppSessionEventKind
{
    /// <summary>The phase changed.</summary>
    PhaseChanged,
    /// <summary>LCP reached Opened.</summary>
    LinkUp,
    /// <summary>Authentication succeeded in every required direction.</summary>
    Authenticated,
    /// <summary>Authentication failed or timed out; the reason says why.</summary>
    AuthenticationFailed,
    /// <summary>The encryption/compression layer (CCP) came up.</summary>
    EncryptionUp,
    /// <summary>An NCP reached Opened (<see cref="PppSessionEvent.Protocol"/> tells which).</summary>
    NetworkUp,
    /// <summary>An NCP left Opened or gave up.</summary>
    NetworkDown,
    /// <summary>LCP left Opened.</summary>
    LinkDown,
    /// <summary>LCP finished: the link is dead; the reason says why.</summary>
    Finished,
}

/// <summary>A state change with a reason a person can act on.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Phase">The phase after it happened.</param>
/// <param name="Reason">Why, for failures and downs ("peer refused MS-CHAPv2 …").</param>
/// <param name="Protocol">The control protocol concerned, when one is.</param>
public sealed record PppSessionEvent(PppSessionEventKind Kind, PppPhase Phase, string? Reason, PppProtocol? Protocol = null);

/// <summary>What the link agreed on so far.</summary>
public sealed record PppNegotiatedParameters
{
    /// <summary>The largest packet we may send (the peer's MRU).</summary>
    public int PeerMru { get; init; }

    /// <summary>The MRU the peer agreed we receive.</summary>
    public int LocalMru { get; init; }

    /// <summary>The method the peer authenticated with (None when we did not demand one).</summary>
    public AuthMethod AuthenticatorMethod { get; init; }

    /// <summary>The method we authenticated ourselves with (None when the peer did not demand one).</summary>
    public AuthMethod PeerMethod { get; init; }

    /// <summary>The authenticated user name (the peer's when we authenticate, ours otherwise).</summary>
    public string? UserName { get; init; }

    /// <summary>Header compressions used on frames we send.</summary>
    public PppFraming TransmitFraming { get; init; }

    /// <summary>Our IPv4 address.</summary>
    public IPAddress? LocalAddress { get; init; }

    /// <summary>The peer's IPv4 address.</summary>
    public IPAddress? PeerAddress { get; init; }

    /// <summary>Primary DNS (received or handed out).</summary>
    public IPAddress? PrimaryDns { get; init; }

    /// <summary>Secondary DNS.</summary>
    public IPAddress? SecondaryDns { get; init; }

    /// <summary>Primary NBNS.</summary>
    public IPAddress? PrimaryNbns { get; init; }

    /// <summary>Secondary NBNS.</summary>
    public IPAddress? SecondaryNbns { get; init; }

    /// <summary>Our IPv6 interface identifier, when IPv6CP is Opened.</summary>
    public ulong? LocalInterfaceId { get; init; }

    /// <summary>The peer's IPv6 interface identifier, when IPv6CP is Opened.</summary>
    public ulong? PeerInterfaceId { get; init; }

    /// <summary>IPCP is Opened.</summary>
    public bool Ipv4Up { get; init; }

    /// <summary>IPv6CP is Opened.</summary>
    public bool Ipv6Up { get; init; }

    /// <summary>Data is encrypted: the encryption layer is Opened with an active transform.</summary>
    public bool EncryptionUp { get; init; }
}

/// <summary>Settings of one PPP session.</summary>
public sealed record PppSessionOptions
{
    /// <summary>Server or client; picks the default <see cref="Auth"/> policy.</summary>
    public PppSessionRole Role { get; init; } = PppSessionRole.Server;

    /// <summary>LCP options.</summary>
    public LcpSettings Lcp { get; init; } = new();

    /// <summary>Authentication policy; null takes the role's default (MS-CHAPv2 only).</summary>
    public AuthPolicy? Auth { get; init; }

    /// <summary>Restart timer and counters for every control protocol.</summary>
    public PppAutomatonSettings Automaton { get; init; } = new();

    /// <summary>IPCP settings; null disables IPv4 (IPCP packets are then Protocol-Rejected).</summary>
    public IpcpSettings? Ipcp { get; init; } = new();

    /// <summary>IPv6CP settings.</summary>
    public Ipv6cpSettings Ipv6cp { get; init; } = new();

    /// <summary>Longest the Authenticate phase may take.</summary>
    public TimeSpan AuthenticationTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The authentication policy in force.</summary>
    public AuthPolicy EffectiveAuth => Auth ?? (Role == PppSessionRole.Server ? AuthPolicy.ServerDefault : AuthPolicy.ClientDefault);
}

/// <summary>What a session gives a layer it hosts (the CCP/MPPE layer) to build its control protocol.</summary>
/// <param name="Time">Time source.</param>
/// <param name="Output">Where control packets go (framed by the session).</param>
/// <param name="Automaton">Restart timer and counters.</param>
/// <param name="Random">Random source.</param>
/// <param name="Dispatch">Posts timer expiries into the session's loop.</param>
public sealed record PppLayerContext(TimeProvider Time, IPppControlOutput Output, PppAutomatonSettings Automaton, PppRandomFill Random, Action<Action>? Dispatch);

/// <summary>
/// An in-place transform of data frames (MPPE). Outbound input at <c>buffer[offset..offset+length]</c> is the
/// uncompressed inner protocol field (2 bytes) followed by the packet; at most <see cref="HeaderRoom"/> bytes in
/// front of it are free. The result replaces it (offset/length updated) and travels as protocol 0x00FD.
/// Inbound is the reverse: a 0x00FD payload in, inner protocol field + packet out.
/// </summary>
public interface IPppDataTransform
{
    /// <summary>Bytes the transform may write in front of the inner protocol field.</summary>
    int HeaderRoom { get; }

    /// <summary>Encrypts/compresses in place; false drops the packet.</summary>
    bool TryEncode(Span<byte> buffer, ref int offset, ref int length);

    /// <summary>Decrypts/decompresses in place; false drops the packet.</summary>
    bool TryDecode(Span<byte> buffer, ref int offset, ref int length);
}

/// <summary>
/// The hook where CCP/MPPE slots in between authentication and IP. The session starts
/// <see cref="ControlProtocol"/> (Up + Open) after authentication succeeds, after handing over the
/// authentication results; when <see cref="Required"/> the NCPs start only once it is Opened and the link
/// is closed if it finishes without opening. While it is Opened, data frames go through <see cref="Transform"/>;
/// unencrypted IP frames are dropped while a transform is active, and always when the layer is required.
/// </summary>
public interface IPppEncryptionLayer : IDisposable
{
    /// <summary>The layer's control protocol (CCP), routed and driven by the session.</summary>
    ControlProtocol ControlProtocol { get; }

    /// <summary>IP may not flow before the layer is up.</summary>
    bool Required { get; }

    /// <summary>The data transform, valid while <see cref="ControlProtocol"/> is Opened.</summary>
    IPppDataTransform? Transform { get; }

    /// <summary>Why the layer could not come up, for the user.</summary>
    string? FailureReason { get; }

    /// <summary>Set when the layer came up but must not carry data (e.g. keys would repeat): the link must close.</summary>
    string? FatalReason { get; }

    /// <summary>What is in force ("MPPE-128 stateless"), for status; reported as the EncryptionUp event's reason.</summary>
    string? Description { get; }

    /// <summary>Authentication succeeded: the exchanges (either may be null) carry the MPPE key material.</summary>
    void OnAuthenticated(IAuthProtocol? authenticator, IAuthProtocol? peer);

    /// <summary>
    /// The peer Protocol-Rejected a protocol we never send: it decrypted one of our packets to garbage, a sign
    /// that its keys and ours differ.
    /// </summary>
    void OnPeerRejectedUnknownProtocol(PppProtocol protocol);

    /// <summary>Raised (once) when the layer, already up, can no longer carry data: the link must close with this reason.</summary>
    event Action<string>? Failed;
}
