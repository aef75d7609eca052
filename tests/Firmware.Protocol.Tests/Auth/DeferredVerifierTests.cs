using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Mppe;

namespace Firmware.Protocol.Tests.Auth;

/// <summary>
/// The authenticators with a verifier that answers later (as RADIUS does): the exchange waits without
/// answering, repeats from the peer are answered once, a verifier that never answers fails the attempt
/// after the verify timeout, a late answer after teardown does nothing, and what a remote verifier says
/// (keys, error codes, the session's address and timeouts) reaches the exchange's results.
/// </summary>
public sealed class DeferredVerifierTests
{
    private const byte Success = 3;
    private const byte Failure = 4;

    public static TheoryData<AuthMethod> AllMethods() => new() { AuthMethod.Pap, AuthMethod.ChapMd5, AuthMethod.MsChapV1, AuthMethod.MsChapV2 };

    public static TheoryData<AuthMethod> MsChapMethods() => new() { AuthMethod.MsChapV1, AuthMethod.MsChapV2 };

    /// <summary>PAP answers Ack 2 / Nak 3; CHAP Success 3 / Failure 4.</summary>
    private static byte SuccessCode(AuthMethod method) => method == AuthMethod.Pap ? (byte)2 : Success;

    private static byte FailureCode(AuthMethod method) => method == AuthMethod.Pap ? (byte)3 : Failure;

    private static bool IsAnswer(AuthMethod method, (string From, byte[] Packet) sent) =>
        sent.From == "authenticator" && (sent.Packet[0] == SuccessCode(method) || sent.Packet[0] == FailureCode(method));

    private static PeerCredentials Alice => PeerCredentials.FromPassword("alice", "s3cret!");

    private static UserStoreVerifier Local()
    {
        var users = new InMemoryUserStore();
        users.Set("alice", UserSecret.FromPassword("s3cret!"));
        return new UserStoreVerifier(users);
    }

    /// <summary>Judges with the local store but holds each verdict until the test releases it, optionally rewritten.</summary>
    private sealed class DeferredVerifier(ICredentialVerifier inner, Func<CredentialCheck, CredentialVerdict, CredentialVerdict>? rewrite = null) : ICredentialVerifier
    {
        private readonly List<(CredentialVerdict Verdict, Action<CredentialVerdict> Done)> _held = [];

        public List<CredentialCheck> Checks { get; } = [];

        public int Cancelled { get; private set; }

        public int Held => _held.Count;

        public IDisposable Verify(CredentialCheck check, Action<CredentialVerdict> done)
        {
            Checks.Add(check);
            CredentialVerdict? verdict = null;
            inner.Verify(check, v => verdict = v);
            var entry = (rewrite?.Invoke(check, verdict!) ?? verdict!, done);
            _held.Add(entry);
            return new Handle(this, entry);
        }

        /// <summary>Answers every held check, on this thread or on <paramref name="onThread"/>'s.</summary>
        public void ReleaseAll(Action<Action>? onThread = null)
        {
            var held = _held.ToList();
            _held.Clear();
            foreach (var (verdict, done) in held)
            {
                (onThread ?? (a => a()))(() => done(verdict));
            }
        }

        private sealed class Handle(DeferredVerifier owner, (CredentialVerdict, Action<CredentialVerdict>) entry) : IDisposable
        {
            public void Dispose()
            {
                if (owner._held.Remove(entry))
                {
                    owner.Cancelled++;
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void The_exchange_waits_for_a_late_verdict_and_answers_a_repeated_request_once(AuthMethod method)
    {
        var verifier = new DeferredVerifier(Local());
        using var link = new AuthLink(method, verifier, Alice);
        link.Start();

        Assert.Equal(1, verifier.Held);
        Assert.Equal(AuthStatus.InProgress, link.Authenticator.Status);
        // The peer repeats (PAP every restart interval; a CHAP peer only answers challenges, and the
        // authenticator stopped re-sending its challenge once a Response came): nothing is answered yet.
        link.Advance(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(link.Sent, s => IsAnswer(method, s));
        Assert.Single(verifier.Checks);

        verifier.ReleaseAll();
        link.Pump();
        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
        Assert.Single(link.Sent, s => IsAnswer(method, s));
        Assert.Single(link.Sent, s => s.From == "authenticator" && s.Packet[0] == SuccessCode(method));
        Assert.Equal("alice", link.Authenticator.Account);
        if (method == AuthMethod.Pap)
        {
            // The Ack answers the last request the peer sent.
            var lastRequest = link.Sent.Last(s => s.From == "peer");
            var ack = link.Sent.Single(s => s.From == "authenticator");
            Assert.Equal(lastRequest.Packet[1], ack.Packet[1]);
            Assert.True(link.Sent.Count(s => s.From == "peer") > 1, "the PAP peer did not repeat its request while waiting");
        }
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void A_verifier_that_never_answers_fails_the_attempt_after_the_verify_timeout(AuthMethod method)
    {
        var verifier = new DeferredVerifier(Local());
        var options = new AuthOptions { VerifyTimeout = TimeSpan.FromSeconds(5), WaitTimeout = TimeSpan.FromMinutes(5) };
        using var link = new AuthLink(method, verifier, Alice, options);
        link.Start();

        link.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(AuthStatus.InProgress, link.Authenticator.Status);
        link.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(AuthStatus.Failed, link.Authenticator.Status);
        Assert.Contains("no verdict on the credentials within 5 s", link.Authenticator.FailureReason, StringComparison.Ordinal);
        Assert.Equal(1, verifier.Cancelled);
        Assert.Single(link.Sent, s => IsAnswer(method, s));
        Assert.Single(link.Sent, s => s.From == "authenticator" && s.Packet[0] == FailureCode(method));
        Assert.Equal(AuthStatus.Failed, link.Peer.Status);
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void A_verdict_after_teardown_does_nothing(AuthMethod method)
    {
        var verifier = new DeferredVerifier(Local());
        var link = new AuthLink(method, verifier, Alice);
        link.Start();
        var sent = link.Sent.Count;

        link.Dispose();
        Assert.Equal(1, verifier.Cancelled);
        Assert.Equal(0, verifier.Held);

        // A verifier that answers anyway (it ignores its handle): the answer is ignored.
        var stubborn = new StubbornVerifier();
        var link2 = new AuthLink(method, stubborn, Alice);
        link2.Start();
        var before = link2.Sent.Count;
        link2.Dispose();
        stubborn.Done!(CredentialVerdict.Accept("alice", "late"));
        link2.Pump();
        Assert.Equal(before, link2.Sent.Count);
        Assert.NotEqual(AuthStatus.Succeeded, link2.Authenticator.Status);
        Assert.Equal(sent, link.Sent.Count);
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void A_verdict_after_the_verify_timeout_changes_nothing(AuthMethod method)
    {
        var stubborn = new StubbornVerifier();
        var options = new AuthOptions { VerifyTimeout = TimeSpan.FromSeconds(5) };
        using var link = new AuthLink(method, stubborn, Alice, options);
        link.Start();
        link.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(AuthStatus.Failed, link.Authenticator.Status);
        var sent = link.Sent.Count;

        stubborn.Done!(CredentialVerdict.Accept("alice", "too late"));
        link.Pump();
        Assert.Equal(sent, link.Sent.Count);
        Assert.Equal(AuthStatus.Failed, link.Authenticator.Status);
        Assert.DoesNotContain(link.Sent, s => s.From == "authenticator" && s.Packet[0] == SuccessCode(method));
    }

    private sealed class StubbornVerifier : ICredentialVerifier, IDisposable
    {
        public Action<CredentialVerdict>? Done { get; private set; }

        public IDisposable Verify(CredentialCheck check, Action<CredentialVerdict> done)
        {
            Done = done;
            return this;
        }

        public void Dispose()
        {
        }
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void A_verdict_from_another_thread_is_handled_in_the_loop_it_is_dispatched_to(AuthMethod method)
    {
        var loop = new ConcurrentQueue<Action>();
        var verifier = new DeferredVerifier(Local());
        using var link = new AuthLink(method, verifier, Alice, dispatch: loop.Enqueue);
        link.Start();

        var answering = new Thread(() => verifier.ReleaseAll());
        answering.Start();
        answering.Join();
        // Nothing happened on the verifier's thread: the answer waits in the loop's queue.
        Assert.Equal(AuthStatus.InProgress, link.Authenticator.Status);
        Assert.Single(loop);

        while (loop.TryDequeue(out var work))
        {
            work();
        }
        link.Pump();
        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
    }

    [Fact]
    public void Ms_chap_v2_start_keys_from_a_remote_verifier_are_used_as_sent_and_match_the_peers()
    {
        // What FreeRADIUS does: it judges the Response and sends the server's start keys (MS-MPPE-Send/Recv-Key)
        // and S=; we never see the password hash.
        var verifier = new DeferredVerifier(Local(), (check, local) =>
        {
            var derived = MppeKeyDerivation.DeriveStartKeys(local.KeyMaterial!, isAuthenticator: true, MppeKeyStrength.Bits128);
            var material = MppeKeyMaterial.FromStartKeys(derived.Send, derived.Receive, check.Response.AsSpan(24, 24));
            return CredentialVerdict.Accept("alice", "remote", material, local.AuthenticatorResponse);
        });
        using var link = new AuthLink(AuthMethod.MsChapV2, verifier, Alice);
        link.Start();
        verifier.ReleaseAll();
        link.Pump();

        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
        Assert.Empty(link.Authenticator.KeyMaterial!.NtPasswordHash);
        var server = MppeKeyDerivation.DeriveStartKeys(link.Authenticator.KeyMaterial!, isAuthenticator: true, MppeKeyStrength.Bits128);
        var client = MppeKeyDerivation.DeriveStartKeys(link.Peer.KeyMaterial!, isAuthenticator: false, MppeKeyStrength.Bits128);
        Assert.Equal(client.Send, server.Receive);
        Assert.Equal(client.Receive, server.Send);
    }

    [Fact]
    public void Ms_chap_v1_keys_from_a_remote_verifier_give_the_peers_start_key()
    {
        var verifier = new DeferredVerifier(Local(), (check, local) =>
        {
            var lm = local.KeyMaterial!.LmPasswordHash!;
            var material = MppeKeyMaterial.FromMsChapV1Keys(lm.AsSpan(0, 8), local.KeyMaterial.NtPasswordHashHash, check.Challenge, check.Response.AsSpan(24, 24));
            return CredentialVerdict.Accept("alice", "remote", material);
        });
        using var link = new AuthLink(AuthMethod.MsChapV1, verifier, Alice);
        link.Start();
        verifier.ReleaseAll();
        link.Pump();

        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
        foreach (var strength in new[] { MppeKeyStrength.Bits40, MppeKeyStrength.Bits128 })
        {
            var server = MppeKeyDerivation.DeriveStartKeys(link.Authenticator.KeyMaterial!, isAuthenticator: true, strength, MsChapV1KeySource.LmPasswordHash);
            var client = MppeKeyDerivation.DeriveStartKeys(link.Peer.KeyMaterial!, isAuthenticator: false, strength, MsChapV1KeySource.LmPasswordHash);
            Assert.Equal(client.Send.AsSpan(0, strength.KeyLength()).ToArray(), server.Receive.AsSpan(0, strength.KeyLength()).ToArray());
        }
    }

    [Fact]
    public void An_ms_chap_v2_accept_without_an_authenticator_response_is_refused()
    {
        var verifier = new DeferredVerifier(Local(), (_, local) => CredentialVerdict.Accept("alice", "remote", local.KeyMaterial));
        using var link = new AuthLink(AuthMethod.MsChapV2, verifier, Alice);
        link.Start();
        verifier.ReleaseAll();
        link.Pump();

        Assert.Equal(AuthStatus.Failed, link.Authenticator.Status);
        Assert.Contains("without an authenticator response", link.Authenticator.FailureReason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(MsChapMethods))]
    public void A_remote_refusal_gives_the_peer_its_error_code_and_retry(AuthMethod method)
    {
        var verifier = new DeferredVerifier(Local(), (_, _) => CredentialVerdict.Refuse("RADIUS: password expired", "alice", retryAllowed: false, msChapError: MsChapFailure.PasswordExpired));
        using var link = new AuthLink(method, verifier, Alice);
        link.Start();
        verifier.ReleaseAll();
        link.Pump();

        var failure = link.Sent.Single(s => s.From == "authenticator" && s.Packet[0] == Failure).Packet;
        Assert.StartsWith("E=648 R=0", Encoding.ASCII.GetString(failure, 4, failure.Length - 4), StringComparison.Ordinal);
        Assert.Equal("RADIUS: password expired", link.Authenticator.FailureReason);
        Assert.Contains("E=648", link.Peer.FailureReason, StringComparison.Ordinal);
        Assert.Equal("alice", link.Authenticator.Account);
    }

    [Theory]
    [MemberData(nameof(MsChapMethods))]
    public void A_remote_refusal_that_allows_a_retry_asks_the_verifier_again_with_the_new_challenge(AuthMethod method)
    {
        var attempts = 0;
        var verifier = new DeferredVerifier(Local(), (_, local) => ++attempts == 1 ? CredentialVerdict.Refuse("first try refused", "alice", retryAllowed: true) : local);
        var options = new AuthOptions { MsChapAuthenticatorRetries = 1, MsChapPeerRetries = 1 };
        using var link = new AuthLink(method, verifier, Alice, options);
        link.Start();
        verifier.ReleaseAll();
        link.Pump();
        Assert.Equal(2, verifier.Checks.Count);
        Assert.NotEqual(verifier.Checks[0].Challenge, verifier.Checks[1].Challenge);
        verifier.ReleaseAll();
        link.Pump();

        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void What_the_verifier_authorizes_is_the_exchanges_result(AuthMethod method)
    {
        var authorization = new SessionAuthorization(IPAddress.Parse("10.9.8.7"), TimeSpan.FromHours(1), TimeSpan.FromMinutes(10), [[1, 2, 3]]);
        var verifier = new DeferredVerifier(Local(), (_, local) => CredentialVerdict.Accept("alice", "remote", local.KeyMaterial, local.AuthenticatorResponse, authorization));
        using var link = new AuthLink(method, verifier, Alice);
        link.Start();
        Assert.Same(SessionAuthorization.None, link.Authenticator.Authorization);
        verifier.ReleaseAll();
        link.Pump();

        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Same(authorization, link.Authenticator.Authorization);
    }

    [Fact]
    public void The_local_verifier_tells_unknown_disabled_and_wrong_apart_only_in_its_reason()
    {
        var users = new InMemoryUserStore();
        users.Set("alice", UserSecret.FromPassword("s3cret!"));
        users.Set("bob", UserSecret.FromPassword("pw", isDisabled: true));
        var verifier = new UserStoreVerifier(users);
        CredentialVerdict Judge(string name, string password)
        {
            CredentialVerdict? verdict = null;
            verifier.Verify(new CredentialCheck { Method = AuthMethod.Pap, UserName = name, UserNameBytes = Encoding.UTF8.GetBytes(name), Response = Encoding.UTF8.GetBytes(password) }, v => verdict = v);
            return verdict!;
        }

        Assert.Equal(CredentialOutcome.Accepted, Judge("alice", "s3cret!").Outcome);
        var wrong = Judge("alice", "nope");
        var unknown = Judge("carol", "s3cret!");
        var disabled = Judge("bob", "pw");
        Assert.All(new[] { wrong, unknown, disabled }, v => Assert.Equal(CredentialOutcome.Refused, v.Outcome));
        Assert.All(new[] { wrong, unknown, disabled }, v => Assert.Equal(MsChapFailure.AuthenticationFailure, v.MsChapError));
        Assert.Contains("wrong password", wrong.Reason, StringComparison.Ordinal);
        Assert.Contains("unknown user", unknown.Reason, StringComparison.Ordinal);
        Assert.Contains("disabled", disabled.Reason, StringComparison.Ordinal);
        Assert.Equal("alice", wrong.Account);
        Assert.Null(unknown.Account);
        Assert.DoesNotContain("s3cret", wrong.ToString(), StringComparison.Ordinal);
    }
}
