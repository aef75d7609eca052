using System.Diagnostics.CodeAnalysis;
using System.Text;
using Firmware.Gateway.Server;
using Firmware.Protocol.Auth;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Gateway.Tests.Server;

/// <summary>
/// Lockout in front of whoever judges logins: a locked source or account is refused before anyone is asked (a
/// guesser gets no work out of the RADIUS server either), every spelling of an account shares its lock, and a
/// refusal for a lock looks to the peer like one for a wrong password.
/// </summary>
public sealed class LockoutVerifierTests
{
    private const string Source = "192.0.2.7";
    private readonly FakeTimeProvider _time = new();
    private readonly LoginLockout _lockout;
    private readonly CountingStore _users = new();

    public LockoutVerifierTests()
    {
        _lockout = new LoginLockout(_time, maxFailures: 2, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15));
        _users.Inner.Set("alice", UserSecret.FromPassword("right"));
    }

    private LockoutVerifier NewVerifier(string source = Source) => new(LoginJudges.Local(() => _users), _lockout, source);

    private static CredentialCheck Pap(string name, string password) => new()
    {
        Method = AuthMethod.Pap,
        UserName = name,
        UserNameBytes = Encoding.UTF8.GetBytes(name),
        Response = Encoding.UTF8.GetBytes(password),
    };

    private static CredentialVerdict Judge(LockoutVerifier verifier, CredentialCheck check)
    {
        CredentialVerdict? verdict = null;
        using (verifier.Verify(check, v => verdict = v))
        {
            return Assert.IsType<CredentialVerdict>(verdict); // the local store answers at once
        }
    }

    [Fact]
    public void An_unlocked_login_is_judged_and_its_account_kept()
    {
        var verifier = NewVerifier();

        var verdict = Judge(verifier, Pap("alice", "right"));

        Assert.Equal(CredentialOutcome.Accepted, verdict.Outcome);
        Assert.Equal("alice", verifier.Account);
        Assert.False(verifier.LockedOut);
        Assert.Equal(1, _users.Lookups);
    }

    [Fact]
    public void A_locked_account_is_refused_as_a_wrong_password_is_without_asking_the_judge()
    {
        _lockout.RecordFailure("alice", "198.51.100.1");
        _lockout.RecordFailure("alice", "198.51.100.2");
        var verifier = NewVerifier();

        var verdict = Judge(verifier, Pap("alice", "right"));

        Assert.Equal(CredentialOutcome.Refused, verdict.Outcome);
        Assert.True(verifier.LockedOut);
        Assert.Equal("alice", verifier.Account);
        Assert.Equal(0, _users.Lookups);
        var wrong = Judge(NewVerifier("203.0.113.1"), Pap("bob", "whatever"));
        Assert.Equal(wrong.MsChapError, verdict.MsChapError);
        Assert.Equal(wrong.RetryAllowed, verdict.RetryAllowed);
    }

    [Fact]
    public void A_locked_account_stays_locked_under_a_domain_spelling()
    {
        _lockout.RecordFailure("alice", "198.51.100.1");
        _lockout.RecordFailure("alice", "198.51.100.2");
        var verifier = NewVerifier();

        var verdict = Judge(verifier, Pap("CORP\\alice", "right"));

        Assert.Equal(CredentialOutcome.Refused, verdict.Outcome);
        Assert.True(verifier.LockedOut);
        Assert.Equal("alice", verifier.Account);
        Assert.Equal(0, _users.Lookups);
    }

    [Fact]
    public void A_locked_source_is_refused_for_every_name_and_names_no_account()
    {
        _lockout.RecordFailure(null, Source);
        _lockout.RecordFailure(null, Source);
        var verifier = NewVerifier();

        var verdict = Judge(verifier, Pap("alice", "right"));

        Assert.Equal(CredentialOutcome.Refused, verdict.Outcome);
        Assert.True(verifier.LockedOut);
        Assert.Null(verifier.Account);
        Assert.Equal(0, _users.Lookups);
        Assert.Equal(CredentialOutcome.Accepted, Judge(NewVerifier("203.0.113.1"), Pap("alice", "right")).Outcome);
    }

    [Fact]
    public void A_lock_that_ends_lets_the_account_in_again()
    {
        _lockout.RecordFailure("alice", "198.51.100.1");
        _lockout.RecordFailure("alice", "198.51.100.2");
        _time.Advance(TimeSpan.FromMinutes(15));

        Assert.Equal(CredentialOutcome.Accepted, Judge(NewVerifier(), Pap("alice", "right")).Outcome);
    }

    private sealed class CountingStore : IUserStore
    {
        public InMemoryUserStore Inner { get; } = new();

        public int Lookups { get; private set; }

        public bool TryGetSecret(string userName, [NotNullWhen(true)] out UserSecret? secret)
        {
            Lookups++;
            return Inner.TryGetSecret(userName, out secret);
        }
    }
}
