using System.Net;

namespace Firmware.Protocol.Auth;

/// <summary>
/// One login attempt as the authenticator received it, for a verifier to judge: the peer's name, and for
/// CHAP the Identifier, our challenge and the peer's Response value; for PAP the password. The arrays belong
/// to the check; the verifier may keep it until it answers.
/// </summary>
public sealed class CredentialCheck
{
    /// <summary>PAP, CHAP-MD5, MS-CHAP or MS-CHAPv2.</summary>
    public required AuthMethod Method { get; init; }

    /// <summary>The name the peer sent, made printable (for logs, the local user store, RADIUS User-Name).</summary>
    public required string UserName { get; init; }

    /// <summary>The name exactly as sent: MS-CHAPv2 hashes these bytes.</summary>
    public required byte[] UserNameBytes { get; init; }

    /// <summary>CHAP: the Identifier of the Challenge/Response (CHAP-MD5 hashes it).</summary>
    public byte ChapIdentifier { get; init; }

    /// <summary>CHAP: our challenge (16 bytes or more for CHAP-MD5, 8 for MS-CHAP, 16 for MS-CHAPv2); PAP: empty.</summary>
    public byte[] Challenge { get; init; } = [];

    /// <summary>
    /// CHAP: the Response's value (16 bytes for CHAP-MD5; 49 for MS-CHAP: LM, NT response, flag; 49 for
    /// MS-CHAPv2: peer challenge, reserved, NT-Response, flags). PAP: the password as sent.
    /// </summary>
    public required byte[] Response { get; init; }

    /// <summary>Secrets stay out of logs.</summary>
    public override string ToString() => $"CredentialCheck {{ Method = {Method}, UserName = {UserName} }}";
}

/// <summary>How a verifier judged a login attempt.</summary>
public enum CredentialOutcome
{
    /// <summary>The credentials are right and the account may log in.</summary>
    Accepted,
    /// <summary>Wrong, unknown, disabled, locked: the login is refused.</summary>
    Refused,
    /// <summary>No judgement could be made (no RADIUS server answered): the login fails, and says so.</summary>
    Unavailable,
}

/// <summary>
/// What the authenticator applies to a session a verifier accepted, beyond the login itself (RADIUS
/// Access-Accept attributes; the local store gives none of these).
/// </summary>
/// <param name="FramedAddress">The peer's IPv4 address, instead of one from the pool.</param>
/// <param name="SessionTimeout">The session ends this long after it came up.</param>
/// <param name="IdleTimeout">The session ends after this long without a data packet either way.</param>
/// <param name="Classes">RADIUS Class attributes, echoed in accounting.</param>
/// <param name="InterimInterval">Acct-Interim-Interval: send an Interim-Update this often, instead of the configured interval.</param>
public sealed record SessionAuthorization(IPAddress? FramedAddress, TimeSpan? SessionTimeout, TimeSpan? IdleTimeout, IReadOnlyList<byte[]> Classes, TimeSpan? InterimInterval = null)
{
    /// <summary>Nothing beyond the login.</summary>
    public static SessionAuthorization None { get; } = new(null, null, null, []);

    /// <summary>A RADIUS server accepted the login (accounting says Acct-Authentic RADIUS, not Local).</summary>
    public bool FromRadius { get; init; }

    /// <summary>MS-MPPE-Encryption-Policy "required": this session must be encrypted even where the config allows clear.</summary>
    public bool EncryptionRequired { get; init; }

    /// <summary>MS-MPPE-Encryption-Types as key lengths (40, 56, 128) this session may use; null: whatever the config allows.</summary>
    public IReadOnlyList<int>? MppeKeyLengths { get; init; }
}

/// <summary>A verifier's answer to one <see cref="CredentialCheck"/>.</summary>
public sealed class CredentialVerdict
{
    private CredentialVerdict(CredentialOutcome outcome, string reason)
    {
        Outcome = outcome;
        Reason = reason;
    }

    /// <summary>Accepted, refused, or no answer.</summary>
    public CredentialOutcome Outcome { get; }

    /// <summary>Why, for our log (never sent to the peer: a guesser must not tell "unknown" from "wrong").</summary>
    public string Reason { get; }

    /// <summary>
    /// The account the verifier checked, as it knows it ("alice" for a peer that sent "DOMAIN\alice"); null
    /// when no account matched. Lockout and per-user limits count this, not the peer's spelling.
    /// </summary>
    public string? Account { get; private init; }

    /// <summary>MS-CHAPv2 accepted: the 20-byte authenticator response for the Success packet's S= field.</summary>
    public byte[]? AuthenticatorResponse { get; private init; }

    /// <summary>MS-CHAP and MS-CHAPv2 accepted: what MPPE keys come from.</summary>
    public MppeKeyMaterial? KeyMaterial { get; private init; }

    /// <summary>Accepted: what else applies to the session.</summary>
    public SessionAuthorization Authorization { get; private init; } = SessionAuthorization.None;

    /// <summary>Refused, MS-CHAP: the E= code for the Failure packet (691 unless the verifier knows better).</summary>
    public int MsChapError { get; private init; } = MsChapFailure.AuthenticationFailure;

    /// <summary>Refused, MS-CHAP: the peer may try again with a new challenge (when the authenticator still grants retries).</summary>
    public bool RetryAllowed { get; private init; }

    /// <summary>The credentials are right.</summary>
    public static CredentialVerdict Accept(string account, string reason, MppeKeyMaterial? keyMaterial = null, byte[]? authenticatorResponse = null, SessionAuthorization? authorization = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        if (authenticatorResponse is not null && authenticatorResponse.Length != 20)
        {
            throw new ArgumentException("An MS-CHAPv2 authenticator response is 20 bytes.", nameof(authenticatorResponse));
        }
        return new CredentialVerdict(CredentialOutcome.Accepted, reason)
        {
            Account = account,
            KeyMaterial = keyMaterial,
            AuthenticatorResponse = authenticatorResponse,
            Authorization = authorization ?? SessionAuthorization.None,
        };
    }

    /// <summary>The login is refused; <paramref name="account"/> is the account that was checked, if one matched.</summary>
    public static CredentialVerdict Refuse(string reason, string? account = null, bool retryAllowed = false, int msChapError = MsChapFailure.AuthenticationFailure) =>
        new(CredentialOutcome.Refused, reason) { Account = account, RetryAllowed = retryAllowed, MsChapError = msChapError };

    /// <summary>Nobody could judge the attempt.</summary>
    public static CredentialVerdict Unavailable(string reason) => new(CredentialOutcome.Unavailable, reason);

    /// <summary>No secrets in logs.</summary>
    public override string ToString() => $"CredentialVerdict {{ {Outcome}: {Reason} }}";
}

/// <summary>
/// Judges login attempts: the configured users (<see cref="UserStoreVerifier"/>) or a RADIUS server. The
/// authenticators ask and go on with their loop; the answer may come at once or seconds later.
/// </summary>
public interface ICredentialVerifier
{
    /// <summary>
    /// Starts judging <paramref name="check"/>. <paramref name="done"/> is called exactly once, unless the
    /// returned handle is disposed first (then perhaps never): before this returns (a local store) or later on
    /// any thread (a RADIUS answer). The authenticator moves the answer into its own loop.
    /// </summary>
    IDisposable Verify(CredentialCheck check, Action<CredentialVerdict> done);
}
