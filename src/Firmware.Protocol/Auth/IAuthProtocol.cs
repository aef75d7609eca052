using Firmware.Protocol.Ppp;

namespace Firmware.Protocol.Auth;

/// <summary>The authentication methods PPTP peers use, with their LCP Authentication-Protocol encoding.</summary>
public enum AuthMethod
{
    /// <summary>No authentication.</summary>
    None,
    /// <summary>PAP, RFC 1334 (protocol c023).</summary>
    Pap,
    /// <summary>CHAP with MD5, RFC 1994 (protocol c223, algorithm 5).</summary>
    ChapMd5,
    /// <summary>MS-CHAP, RFC 2433 (protocol c223, algorithm 0x80).</summary>
    MsChapV1,
    /// <summary>MS-CHAPv2, RFC 2759 (protocol c223, algorithm 0x81).</summary>
    MsChapV2,
}

/// <summary>Where one side of an authentication exchange stands.</summary>
public enum AuthStatus
{
    /// <summary>Not started yet.</summary>
    Idle,
    /// <summary>Exchange in progress.</summary>
    InProgress,
    /// <summary>The peer is authenticated (authenticator) or we were accepted (peer).</summary>
    Succeeded,
    /// <summary>Failed for good; <see cref="IAuthProtocol.FailureReason"/> says why.</summary>
    Failed,
}

/// <summary>Where an authentication exchange sends its packets; the session frames them as PPP.</summary>
public interface IAuthOutput
{
    /// <summary>Sends one packet (Code, Identifier, Length, Data) under <paramref name="protocol"/>.</summary>
    void Send(PppProtocol protocol, ReadOnlySpan<byte> packet);
}

/// <summary>
/// One side (authenticator or peer) of one authentication method: a pure state machine that the PPP
/// session drives in its Authenticate phase. Retransmission timers run on the <see cref="TimeProvider"/>
/// given at construction (see <see cref="ProtocolTimer"/>), dispatched into the session's loop.
/// </summary>
public interface IAuthProtocol : IDisposable
{
    /// <summary>The method this exchange implements.</summary>
    AuthMethod Method { get; }

    /// <summary>The PPP protocol number its packets travel under.</summary>
    PppProtocol Protocol { get; }

    /// <summary>Where the exchange stands.</summary>
    AuthStatus Status { get; }

    /// <summary>A reason a person can act on when <see cref="Status"/> is Failed.</summary>
    string? FailureReason { get; }

    /// <summary>The authenticated user name (authenticator side: the peer's name; peer side: ours).</summary>
    string? UserName { get; }

    /// <summary>
    /// Authenticator side: the account the verifier checked ("alice" for a peer that sent "DOMAIN\alice"),
    /// once it matched one (also on failure: a wrong password for a known account); null otherwise.
    /// </summary>
    string? Account { get; }

    /// <summary>Authenticator side, after success: what the verifier says applies to the session (address, timeouts).</summary>
    SessionAuthorization Authorization { get; }

    /// <summary>Raised once when <see cref="Status"/> becomes Succeeded or Failed.</summary>
    event Action<IAuthProtocol>? Completed;

    /// <summary>
    /// What MPPE derives its keys from (RFC 3079) once an MS-CHAP exchange succeeded; null for PAP and
    /// CHAP-MD5, and before success.
    /// </summary>
    MppeKeyMaterial? KeyMaterial { get; }

    /// <summary>
    /// Begins the exchange: the authenticator sends its challenge, a PAP peer its request. The output is
    /// kept for retransmissions and replies.
    /// </summary>
    void Start(IAuthOutput output);

    /// <summary>One packet of <see cref="Protocol"/> from the peer. Malformed packets are dropped and counted.</summary>
    void Receive(ReadOnlySpan<byte> packet);

    /// <summary>Packets dropped as malformed or unexpected.</summary>
    long DroppedPackets { get; }
}
