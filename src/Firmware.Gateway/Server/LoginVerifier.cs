using Firmware.Protocol.Auth;
using Firmware.Protocol.Radius;

namespace Firmware.Gateway.Server;

/// <summary>
/// Where the server's logins are judged: RADIUS for the methods it is configured for (with the configured users
/// as a fallback when no server answers, if allowed), the configured users for the rest. Shared by every session.
/// </summary>
internal sealed class LoginJudges(Func<IUserStore> users, RadiusClient? radius, IReadOnlyCollection<AuthMethod> radiusMethods, bool fallbackToLocal, bool mppeRequired)
{
    /// <summary>Only the configured users.</summary>
    public static LoginJudges Local(Func<IUserStore> users) => new(users, null, [], false, false);

    /// <summary>Judges <paramref name="check"/> for a peer at <paramref name="callingStationId"/>.</summary>
    public IDisposable Verify(CredentialCheck check, string callingStationId, Action<CredentialVerdict> done)
    {
        if (radius is null || !radiusMethods.Contains(check.Method) || !RadiusVerdicts.CanCheck(check.Method))
        {
            return new UserStoreVerifier(users()).Verify(check, done);
        }
        return radius.Authenticate(check, callingStationId, result =>
        {
            if (result.Answer is { } answer)
            {
                done(RadiusVerdicts.FromAnswer(check, answer, mppeRequired, result.Server.ToString()));
            }
            else if (fallbackToLocal)
            {
                new UserStoreVerifier(users()).Verify(check, verdict => done(WithReason(verdict, $"{result.Problem}; checked against the configured users instead")));
            }
            else
            {
                done(CredentialVerdict.Unavailable($"{AuthMethods.Describe(check.Method)}: user '{check.UserName}': {result.Problem}."));
            }
        });
    }

    private static CredentialVerdict WithReason(CredentialVerdict verdict, string note) => verdict.Outcome switch
    {
        CredentialOutcome.Accepted => CredentialVerdict.Accept(verdict.Account!, $"{verdict.Reason} ({note})", verdict.KeyMaterial, verdict.AuthenticatorResponse, verdict.Authorization),
        CredentialOutcome.Refused => CredentialVerdict.Refuse($"{verdict.Reason} ({note})", verdict.Account, verdict.RetryAllowed, verdict.MsChapError),
        _ => verdict,
    };
}

/// <summary>
/// One session's verifier: lockout first (a locked source or account is refused without asking anyone, so a
/// guesser cannot load the RADIUS server either), then <see cref="LoginJudges"/>, then lockout again for the
/// account the judge matched ("DOMAIN\alice" is "alice"). A locked login fails the ordinary way (E=691, as for a
/// wrong password, so a guesser learns nothing); <see cref="LockedOut"/> tells our log the real reason. It keeps
/// the last verdict's account and authorization for the server runtime.
/// </summary>
internal sealed class LockoutVerifier(LoginJudges judges, LoginLockout lockout, string source) : ICredentialVerifier
{
    /// <summary>The account the last verdict named; null while none matched.</summary>
    public string? Account { get; private set; }

    /// <summary>True when the last attempt was refused because its account or source is locked.</summary>
    public bool LockedOut { get; private set; }

    /// <summary>True when nobody could judge the last attempt (no RADIUS server answered): not the peer's failure,
    /// so lockout does not count it (an outage must not lock everyone out once it ends).</summary>
    public bool Unjudged { get; private set; }

    /// <summary>Why the last verdict went as it did (who judged), for our log.</summary>
    public string? Reason { get; private set; }

    /// <summary>What the last accepting verdict applies to the session (RADIUS attributes).</summary>
    public SessionAuthorization Authorization { get; private set; } = SessionAuthorization.None;

    public IDisposable Verify(CredentialCheck check, Action<CredentialVerdict> done)
    {
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(done);
        var method = AuthMethods.Describe(check.Method);
        var slash = check.UserName.LastIndexOf('\\');
        var bare = slash >= 0 ? check.UserName[(slash + 1)..] : null;
        var lockedAccount = lockout.AccountLockedUntil(check.UserName) is not null ? check.UserName
            : bare is not null && lockout.AccountLockedUntil(bare) is not null ? bare : null;
        if (lockedAccount is not null || lockout.SourceLockedUntil(source) is not null)
        {
            Account = lockedAccount;
            Unjudged = false;
            LockedOut = true;
            Reason = "locked out";
            done(CredentialVerdict.Refuse($"{method}: '{check.UserName}' from {source} is locked out.", lockedAccount, retryAllowed: true));
            return Nothing.Instance;
        }
        return judges.Verify(check, source, verdict =>
        {
            Account = verdict.Account;
            Reason = verdict.Reason;
            Unjudged = verdict.Outcome == CredentialOutcome.Unavailable;
            LockedOut = verdict.Account is not null && lockout.LockedUntil(verdict.Account, source) is not null;
            if (LockedOut)
            {
                done(CredentialVerdict.Refuse($"{method}: account '{verdict.Account}' from {source} is locked out ({verdict.Reason}).", verdict.Account, retryAllowed: true));
                return;
            }
            if (verdict.Outcome == CredentialOutcome.Accepted)
            {
                Authorization = verdict.Authorization;
            }
            done(verdict);
        });
    }

    private sealed class Nothing : IDisposable
    {
        public static Nothing Instance { get; } = new();

        public void Dispose()
        {
        }
    }
}
