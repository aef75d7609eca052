using Firmware.Protocol.Auth;

namespace Firmware.Protocol.Ppp.Lcp;

/// <summary>What our LCP asks for and accepts.</summary>
public sealed record LcpSettings
{
    /// <summary>The default MRU (RFC 1661 6.1); not requested explicitly.</summary>
    public const int DefaultMru = 1500;

    /// <summary>The MRU we request (the largest packet we take in). Requested only when not 1500.</summary>
    public int Mru { get; init; } = DefaultMru;

    /// <summary>The smallest MRU we accept from the peer; smaller requests are Nak'd with this value.</summary>
    public int MinimumMru { get; init; } = 128;

    /// <summary>Ask the peer to compress the protocol field of frames it sends us.</summary>
    public bool RequestProtocolCompression { get; init; } = true;

    /// <summary>Ask the peer to leave out address/control bytes.</summary>
    public bool RequestAddressControlCompression { get; init; } = true;

    /// <summary>Agree when the peer asks us to compress protocol fields.</summary>
    public bool AllowProtocolCompression { get; init; } = true;

    /// <summary>Agree when the peer asks us to leave out address/control bytes.</summary>
    public bool AllowAddressControlCompression { get; init; } = true;

    /// <summary>Negotiate a Magic-Number (loop-back detection, echo).</summary>
    public bool UseMagicNumber { get; init; } = true;

    /// <summary>Magic-Number collisions that prove a looped-back link.</summary>
    public int LoopbackLimit { get; init; } = 3;

    /// <summary>Time between LCP Echo-Requests once Opened; zero disables the keepalive.</summary>
    public TimeSpan EchoInterval { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Unanswered Echo-Requests after which the link is closed.</summary>
    public int EchoFailureLimit { get; init; } = 3;
}

/// <summary>
/// Which authentication methods we demand from the peer (as authenticator, in order of preference) and
/// which we are willing to use to prove ourselves (as authenticatee, in order of preference).
/// </summary>
public sealed record AuthPolicy
{
    /// <summary>Methods the peer must authenticate with; empty = we do not authenticate the peer.</summary>
    public IReadOnlyList<AuthMethod> Demand { get; init; } = [];

    /// <summary>Methods we accept when the peer asks us to authenticate; empty = we refuse to authenticate.</summary>
    public IReadOnlyList<AuthMethod> Accept { get; init; } = [];

    /// <summary>The server default: demand MS-CHAPv2, do not authenticate ourselves.</summary>
    public static AuthPolicy ServerDefault { get; } = new() { Demand = [AuthMethod.MsChapV2] };

    /// <summary>The client default: prove ourselves with MS-CHAPv2 only, do not authenticate the server.</summary>
    public static AuthPolicy ClientDefault { get; } = new() { Accept = [AuthMethod.MsChapV2] };
}
