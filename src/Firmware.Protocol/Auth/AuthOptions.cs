namespace Firmware.Protocol.Auth;

/// <summary>Timers, limits and names for the authentication exchanges; the defaults follow pppd.</summary>
public sealed record AuthOptions
{
    /// <summary>Retransmission interval for CHAP Challenges and PAP Authenticate-Requests (pppd: 3 s).</summary>
    public TimeSpan RestartInterval { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Transmissions of one Challenge or Authenticate-Request before giving up (pppd: 10).</summary>
    public int MaxTransmissions { get; init; } = 10;

    /// <summary>
    /// How long a side that waits (PAP authenticator for a request, CHAP peer for a challenge or a result,
    /// MS-CHAP authenticator for a retry) waits before failing (pppd's pap-timeout: 30 s).
    /// </summary>
    public TimeSpan WaitTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// CHAP-family authenticator: challenge the peer again this often after success (pppd chap-interval);
    /// null (default) never. A failed or unanswered re-challenge fails the exchange, and the link.
    /// </summary>
    public TimeSpan? RechallengeInterval { get; init; }

    /// <summary>
    /// Authenticator: how long a verifier (the user store, a RADIUS server) may take to judge one Response
    /// before the attempt fails as unanswered. RADIUS gives up sooner on its own (its retries and servers).
    /// </summary>
    public TimeSpan VerifyTimeout { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>Authenticator: the name sent in our CHAP Challenges.</summary>
    public string AuthenticatorName { get; init; } = "pptp-gateway";

    /// <summary>Authenticator, CHAP-MD5: challenge length in bytes (16 to 64).</summary>
    public int ChapMd5ChallengeLength { get; init; } = 16;

    /// <summary>
    /// MS-CHAP authenticator: further attempts granted after a wrong password, by sending "E=691 R=1" with a
    /// new challenge. Default 0: a wrong password ends the exchange ("R=0").
    /// </summary>
    public int MsChapAuthenticatorRetries { get; init; }

    /// <summary>
    /// MS-CHAP peer: how many times to answer "E=691 R=1" with a new Response (same password, new
    /// challenge). Default 0: the first failure is final.
    /// </summary>
    public int MsChapPeerRetries { get; init; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RestartInterval, TimeSpan.Zero, nameof(RestartInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTransmissions, 1, nameof(MaxTransmissions));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(WaitTimeout, TimeSpan.Zero, nameof(WaitTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(VerifyTimeout, TimeSpan.Zero, nameof(VerifyTimeout));
        if (RechallengeInterval is { } interval)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero, nameof(RechallengeInterval));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(ChapMd5ChallengeLength, 16, nameof(ChapMd5ChallengeLength));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ChapMd5ChallengeLength, 64, nameof(ChapMd5ChallengeLength));
        ArgumentOutOfRangeException.ThrowIfNegative(MsChapAuthenticatorRetries, nameof(MsChapAuthenticatorRetries));
        ArgumentOutOfRangeException.ThrowIfNegative(MsChapPeerRetries, nameof(MsChapPeerRetries));
        ArgumentNullException.ThrowIfNull(AuthenticatorName, nameof(AuthenticatorName));
    }
}

/// <summary>What every exchange takes from its host: time, randomness, the session's loop, options.</summary>
public sealed class AuthEnvironment
{
    /// <summary>The clock for retransmission and wait timers.</summary>
    public required TimeProvider Time { get; init; }

    /// <summary>Random bytes for challenges and identifiers.</summary>
    public required RandomFill Random { get; init; }

    /// <summary>Posts timer expiries into the session's serialized loop; null runs them inline.</summary>
    public Action<Action>? Dispatch { get; init; }

    /// <summary>Timers and limits.</summary>
    public AuthOptions Options { get; init; } = new();
}
