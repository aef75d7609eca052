using System.Text;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Mppe;
using Firmware.Protocol.Ppp;

namespace Firmware.Protocol.Tests.Auth;

/// <summary>Authenticator and peer back to back for every method: success, failures, loss, retries.</summary>
public sealed class AuthExchangeTests
{
    private const byte Challenge = 1;
    private const byte Response = 2;
    private const byte Success = 3;
    private const byte Failure = 4;

    public static TheoryData<AuthMethod> AllMethods() => new() { AuthMethod.Pap, AuthMethod.ChapMd5, AuthMethod.MsChapV1, AuthMethod.MsChapV2 };

    public static TheoryData<AuthMethod> ChapMethods() => new() { AuthMethod.ChapMd5, AuthMethod.MsChapV1, AuthMethod.MsChapV2 };

    public static TheoryData<AuthMethod> MsChapMethods() => new() { AuthMethod.MsChapV1, AuthMethod.MsChapV2 };

    private static InMemoryUserStore Users(string name = "alice", string password = "s3cret!")
    {
        var users = new InMemoryUserStore();
        users.Set(name, UserSecret.FromPassword(password));
        return users;
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void Right_password_succeeds_on_both_sides(AuthMethod method)
    {
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        link.Start();

        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
        Assert.Equal("alice", link.Authenticator.UserName);
        Assert.Equal("alice", link.Peer.UserName);
        Assert.Equal([AuthStatus.Succeeded], link.AuthenticatorCompletions);
        Assert.Equal([AuthStatus.Succeeded], link.PeerCompletions);
        Assert.Equal(method == AuthMethod.Pap ? PppProtocol.Pap : PppProtocol.Chap, link.Peer.Protocol);
        Assert.Null(link.Authenticator.FailureReason);
        Assert.Equal(0, link.Authenticator.DroppedPackets + link.Peer.DroppedPackets);

        // Nothing more happens: no stray retransmissions after success.
        var sent = link.Sent.Count;
        link.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(sent, link.Sent.Count);
    }

    [Theory]
    [MemberData(nameof(MsChapMethods))]
    public void Ms_chap_success_gives_both_sides_the_same_key_material(AuthMethod method)
    {
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        link.Start();

        var server = link.Authenticator.KeyMaterial;
        var client = link.Peer.KeyMaterial;
        Assert.NotNull(server);
        Assert.NotNull(client);
        Assert.Equal(method, server.Method);
        Assert.Equal(server.NtResponse, client.NtResponse);
        Assert.Equal(server.NtPasswordHashHash, client.NtPasswordHashHash);
        Assert.Equal(server.Challenge, client.Challenge);
        Assert.Equal(method == AuthMethod.MsChapV1 ? 8 : 0, server.Challenge.Length);

        // The keys derived on each side pair up: server send = client receive and the reverse.
        var serverKeys = MppeKeyDerivation.DeriveStartKeys(server, isAuthenticator: true, MppeKeyStrength.Bits128);
        var clientKeys = MppeKeyDerivation.DeriveStartKeys(client, isAuthenticator: false, MppeKeyStrength.Bits128);
        Assert.Equal(serverKeys.Send, clientKeys.Receive);
        Assert.Equal(serverKeys.Receive, clientKeys.Send);
    }

    [Theory]
    [InlineData(AuthMethod.Pap)]
    [InlineData(AuthMethod.ChapMd5)]
    public void Pap_and_chap_md5_have_no_key_material(AuthMethod method)
    {
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        link.Start();
        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
        Assert.Null(link.Authenticator.KeyMaterial);
        Assert.Null(link.Peer.KeyMaterial);
    }

    [Theory]
    [MemberData(nameof(MsChapMethods))]
    public void Nt_hash_only_user_and_peer_succeed_with_ms_chap(AuthMethod method)
    {
        var users = new InMemoryUserStore();
        users.Set("bob", UserSecret.FromNtHash(MsChapCrypto.NtPasswordHash("hunter2")));
        using var link = new AuthLink(method, users, PeerCredentials.FromNtHash("bob", MsChapCrypto.NtPasswordHash("hunter2")));
        link.Start();
        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
        Assert.NotNull(link.Peer.KeyMaterial);
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void Wrong_password_fails_both_sides_with_a_clear_reason(AuthMethod method)
    {
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "wrong"));
        link.Start();

        Assert.Equal(AuthStatus.Failed, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Failed, link.Peer.Status);
        Assert.Contains("wrong password for user 'alice'", link.Authenticator.FailureReason, StringComparison.Ordinal);
        Assert.Contains("refused", link.Peer.FailureReason, StringComparison.Ordinal);
        Assert.Equal("alice", link.Authenticator.UserName);
        Assert.Null(link.Authenticator.KeyMaterial);
        Assert.Null(link.Peer.KeyMaterial);
        Assert.Equal([AuthStatus.Failed], link.AuthenticatorCompletions);
        Assert.Equal([AuthStatus.Failed], link.PeerCompletions);
        // The password never appears in a reason.
        Assert.DoesNotContain("s3cret", link.Authenticator.FailureReason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void Unknown_and_disabled_users_fail(AuthMethod method)
    {
        using (var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("mallory", "s3cret!")))
        {
            link.Start();
            Assert.Equal(AuthStatus.Failed, link.Peer.Status);
            Assert.Contains("unknown user 'mallory'", link.Authenticator.FailureReason, StringComparison.Ordinal);
        }

        var users = new InMemoryUserStore();
        users.Set("alice", UserSecret.FromPassword("s3cret!", isDisabled: true));
        using (var link = new AuthLink(method, users, PeerCredentials.FromPassword("alice", "s3cret!")))
        {
            link.Start();
            Assert.Equal(AuthStatus.Failed, link.Peer.Status);
            Assert.Contains("disabled", link.Authenticator.FailureReason, StringComparison.Ordinal);
            if (method is AuthMethod.MsChapV1 or AuthMethod.MsChapV2)
            {
                // The same answer as for a wrong password or an unknown name: nothing tells a guesser it exists.
                Assert.Contains("E=691", link.Peer.FailureReason, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData(AuthMethod.Pap)]
    [InlineData(AuthMethod.ChapMd5)]
    public void Nt_hash_only_user_fails_clearly_with_pap_and_chap_md5(AuthMethod method)
    {
        var users = new InMemoryUserStore();
        users.Set("alice", UserSecret.FromNtHash(MsChapCrypto.NtPasswordHash("s3cret!")));
        using var link = new AuthLink(method, users, PeerCredentials.FromPassword("alice", "s3cret!"));
        link.Start();
        Assert.Equal(AuthStatus.Failed, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Failed, link.Peer.Status);
        Assert.Contains("stored only as an NT hash", link.Authenticator.FailureReason, StringComparison.Ordinal);
        Assert.Contains("plaintext", link.Authenticator.FailureReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(AuthMethod.Pap)]
    [InlineData(AuthMethod.ChapMd5)]
    public void Nt_hash_only_peer_cannot_use_pap_or_chap_md5(AuthMethod method)
    {
        using var link = new AuthLink(method, Users(), PeerCredentials.FromNtHash("alice", MsChapCrypto.NtPasswordHash("s3cret!")));
        link.Start();
        Assert.Equal(AuthStatus.Failed, link.Peer.Status);
        Assert.Contains("only an NT hash", link.Peer.FailureReason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void First_packets_lost_are_retransmitted(AuthMethod method)
    {
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        var lost = 0;
        // Lose the first two packets the first sender sends (PAP request / CHAP challenge).
        link.Filter = (from, packet) => lost++ < 2 ? null : packet;
        link.Start();
        Assert.Equal(AuthStatus.InProgress, link.Peer.Status);

        link.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
    }

    [Theory]
    [MemberData(nameof(ChapMethods))]
    public void Lost_response_and_lost_success_recover(AuthMethod method)
    {
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        var responsesLost = 0;
        var successesLost = 0;
        link.Filter = (from, packet) =>
        {
            if (packet[0] == Response && responsesLost++ < 1)
            {
                return null;
            }
            if (packet[0] == Success && successesLost++ < 1)
            {
                return null;
            }
            return packet;
        };
        link.Start();
        link.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
        // The challenge was retransmitted with the same identifier and value, and answered with the same response.
        var challenges = link.Sent.Where(s => s.Packet[0] == Challenge).Select(s => Convert.ToHexString(s.Packet)).Distinct().ToList();
        Assert.Single(challenges);
        var responses = link.Sent.Where(s => s.Packet[0] == Response).Select(s => Convert.ToHexString(s.Packet)).ToList();
        Assert.True(responses.Count >= 2);
        Assert.Single(responses.Distinct());
    }

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void Silent_peer_or_authenticator_makes_the_other_side_give_up(AuthMethod method)
    {
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        link.Filter = (_, _) => null;
        link.Start();
        link.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(AuthStatus.Failed, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Failed, link.Peer.Status);
        Assert.Contains(method == AuthMethod.Pap ? "no Authenticate-Request" : "no Response to 10 Challenges", link.Authenticator.FailureReason, StringComparison.Ordinal);
        Assert.Contains(method == AuthMethod.Pap ? "no answer" : "no Challenge", link.Peer.FailureReason, StringComparison.Ordinal);
        if (method == AuthMethod.Pap)
        {
            Assert.Equal(10, link.Sent.Count(s => s.From == "peer"));
        }
        else
        {
            Assert.Equal(10, link.Sent.Count(s => s.From == "authenticator"));
        }
    }

    [Theory]
    [MemberData(nameof(ChapMethods))]
    public void Peer_repeats_its_response_then_gives_up_when_no_result_arrives(AuthMethod method)
    {
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        // Everything the authenticator sends after its first Challenge is lost.
        var fromAuthenticator = 0;
        link.Filter = (from, packet) => from == "authenticator" && fromAuthenticator++ > 0 ? null : packet;
        link.Start();
        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Equal(AuthStatus.InProgress, link.Peer.Status);

        link.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(AuthStatus.Failed, link.Peer.Status);
        Assert.Contains("no Success or Failure from the authenticator after 10 Responses", link.Peer.FailureReason, StringComparison.Ordinal);
        Assert.Equal(10, link.Sent.Count(s => s.Packet[0] == Response));
        // Every repeated Response was answered again with the same Success.
        Assert.Equal(10, link.Sent.Count(s => s.Packet[0] == Success));
        Assert.Single(link.Sent.Where(s => s.Packet[0] == Success).Select(s => Convert.ToHexString(s.Packet)).Distinct());
    }

    [Theory]
    [MemberData(nameof(MsChapMethods))]
    public void Ms_chap_retry_with_a_new_challenge_when_both_sides_allow_it(AuthMethod method)
    {
        var options = new AuthOptions { MsChapAuthenticatorRetries = 2, MsChapPeerRetries = 1 };
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "wrong"), options);
        link.Start();

        var failures = link.Sent.Where(s => s.Packet[0] == Failure).Select(s => Encoding.ASCII.GetString(s.Packet, 4, s.Packet.Length - 4)).ToList();
        Assert.Equal(2, failures.Count);
        var hexDigits = method == AuthMethod.MsChapV1 ? 16 : 32;
        Assert.Matches($"^E=691 R=1 C=[0-9A-F]{{{hexDigits}}} V={(method == AuthMethod.MsChapV2 ? "3 M=.+" : "0")}$", failures[0]);
        // The peer used its one retry; the authenticator had one left but the peer gave up: R=1 again, then peer fails.
        Assert.StartsWith("E=691 R=1", failures[1], StringComparison.Ordinal);
        Assert.Equal(AuthStatus.Failed, link.Peer.Status);

        // The retried Response used the next identifier and answered the C= challenge.
        var responses = link.Sent.Where(s => s.Packet[0] == Response).ToList();
        Assert.Equal(2, responses.Count);
        Assert.Equal((byte)(responses[0].Packet[1] + 1), responses[1].Packet[1]);

        // The authenticator waits for the retry that never comes, then fails.
        link.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(AuthStatus.Failed, link.Authenticator.Status);
        Assert.Contains("did not retry", link.Authenticator.FailureReason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(MsChapMethods))]
    public void Ms_chap_retry_can_succeed(AuthMethod method)
    {
        // The first Response is corrupted in flight; the retry (new challenge) goes through.
        var options = new AuthOptions { MsChapAuthenticatorRetries = 1, MsChapPeerRetries = 1 };
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "s3cret!"), options);
        var corrupted = false;
        link.Filter = (from, packet) =>
        {
            if (packet[0] == Response && !corrupted)
            {
                corrupted = true;
                packet[4 + 1 + 30] ^= 0xFF;
            }
            return packet;
        };
        link.Start();
        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
        Assert.Equal(1, link.Sent.Count(s => s.Packet[0] == Failure));
    }

    [Theory]
    [MemberData(nameof(MsChapMethods))]
    public void By_default_there_are_no_retries(AuthMethod method)
    {
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "wrong"));
        link.Start();
        var failure = link.Sent.Single(s => s.Packet[0] == Failure).Packet;
        Assert.StartsWith("E=691 R=0", Encoding.ASCII.GetString(failure, 4, failure.Length - 4), StringComparison.Ordinal);
        Assert.Equal(AuthStatus.Failed, link.Authenticator.Status);
        Assert.Contains("E=691 authentication failure", link.Peer.FailureReason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(MsChapMethods))]
    public void Peer_does_not_retry_unless_configured_even_when_offered(AuthMethod method)
    {
        var options = new AuthOptions { MsChapAuthenticatorRetries = 3 };
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "wrong"), options, peerOptions: new AuthOptions());
        link.Start();
        Assert.Equal(1, link.Sent.Count(s => s.Packet[0] == Response));
        Assert.Equal(AuthStatus.Failed, link.Peer.Status);
    }

    [Fact]
    public void Ms_chap_v2_peer_refuses_a_wrong_authenticator_response()
    {
        using var link = new AuthLink(AuthMethod.MsChapV2, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        link.Filter = (from, packet) =>
        {
            if (packet[0] == Success)
            {
                packet[4 + 2] = packet[4 + 2] == (byte)'0' ? (byte)'1' : (byte)'0';
            }
            return packet;
        };
        link.Start();
        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Failed, link.Peer.Status);
        Assert.Contains("mutual authentication failed", link.Peer.FailureReason, StringComparison.Ordinal);
        Assert.Null(link.Peer.KeyMaterial);
    }

    [Theory]
    [InlineData("")]
    [InlineData("M=Access granted")]
    [InlineData("S=407A5589115FD0D6209F510FE9C04566932CDA5")]
    [InlineData("S=407A5589115FD0D6209F510FE9C04566932CDA56X")]
    public void Ms_chap_v2_peer_refuses_a_success_without_a_valid_S_field(string message)
    {
        using var link = new AuthLink(AuthMethod.MsChapV2, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        link.Filter = (from, packet) => packet[0] == Success ? [.. packet[..2], 0, (byte)(4 + message.Length), .. Encoding.ASCII.GetBytes(message)] : packet;
        link.Start();
        Assert.Equal(AuthStatus.Failed, link.Peer.Status);
        Assert.Contains("S=", link.Peer.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Ms_chap_v2_impostor_authenticator_that_does_not_know_the_password_is_detected()
    {
        // An authenticator whose store has a different password for alice, but which "accepts" anyway,
        // cannot produce the right S= value.
        var impostorUsers = Users(password: "not-the-real-one");
        using var link = new AuthLink(AuthMethod.MsChapV2, impostorUsers, PeerCredentials.FromPassword("alice", "s3cret!"));
        byte[]? forgedSuccess = null;
        link.Filter = (from, packet) =>
        {
            if (packet[0] == Failure)
            {
                // Replace the honest Failure by a Success with an S= computed from the wrong password.
                var hash = MsChapCrypto.NtPasswordHash("not-the-real-one");
                var response = link.Sent.Last(s => s.Packet[0] == Response).Packet;
                var challenge = link.Sent.First(s => s.Packet[0] == Challenge).Packet.AsSpan(5, 16).ToArray();
                var value = response.AsSpan(5, 49);
                var digest = new byte[20];
                MsChapCrypto.GenerateAuthenticatorResponse(hash, value.Slice(24, 24), value[..16], challenge, "alice"u8, digest);
                var text = Encoding.ASCII.GetBytes(MsChapCrypto.FormatAuthenticatorResponse(digest) + " M=ok");
                forgedSuccess = [Success, packet[1], 0, (byte)(4 + text.Length), .. text];
                return forgedSuccess;
            }
            return packet;
        };
        link.Start();
        Assert.NotNull(forgedSuccess);
        Assert.Equal(AuthStatus.Failed, link.Peer.Status);
        Assert.Contains("mutual authentication failed", link.Peer.FailureReason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(MsChapMethods))]
    public void Password_expired_failure_is_final_with_a_clear_reason(AuthMethod method)
    {
        var options = new AuthOptions { MsChapPeerRetries = 3 };
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "wrong"), options);
        link.Filter = (from, packet) =>
        {
            if (packet[0] == Failure)
            {
                var text = Encoding.ASCII.GetBytes("E=648 R=1 C=" + new string('A', method == AuthMethod.MsChapV1 ? 16 : 32) + " V=3 M=Password expired");
                return [Failure, packet[1], 0, (byte)(4 + text.Length), .. text];
            }
            return packet;
        };
        link.Start();
        Assert.Equal(AuthStatus.Failed, link.Peer.Status);
        Assert.Contains("E=648", link.Peer.FailureReason, StringComparison.Ordinal);
        Assert.Contains("changing passwords is not supported", link.Peer.FailureReason, StringComparison.Ordinal);
        Assert.Equal(1, link.Sent.Count(s => s.Packet[0] == Response));
    }

    [Theory]
    [InlineData(AuthMethod.MsChapV1, 5)]
    [InlineData(AuthMethod.MsChapV1, 6)]
    [InlineData(AuthMethod.MsChapV2, 7)]
    public void Change_password_packets_are_refused(AuthMethod method, byte code)
    {
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        link.Filter = (from, packet) => packet[0] == Response ? [code, packet[1], 0, 8, 1, 2, 3, 4] : packet;
        link.Start();
        Assert.Equal(AuthStatus.Failed, link.Authenticator.Status);
        Assert.Contains("Change-Password", link.Authenticator.FailureReason, StringComparison.Ordinal);
        Assert.Contains("not supported", link.Authenticator.FailureReason, StringComparison.Ordinal);
        var failure = link.Sent.Single(s => s.From == "authenticator" && s.Packet[0] == Failure).Packet;
        Assert.StartsWith("E=709 R=0", Encoding.ASCII.GetString(failure, 4, failure.Length - 4), StringComparison.Ordinal);
    }

    [Fact]
    public void Ms_chap_v1_lm_only_response_is_refused()
    {
        using var link = new AuthLink(AuthMethod.MsChapV1, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        link.Filter = (from, packet) =>
        {
            if (packet[0] == Response)
            {
                packet[4 + 1 + 48] = 0;
            }
            return packet;
        };
        link.Start();
        Assert.Equal(AuthStatus.Failed, link.Authenticator.Status);
        Assert.Contains("LAN Manager", link.Authenticator.FailureReason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ChapMethods))]
    public void Periodic_rechallenge_is_passed_silently(AuthMethod method)
    {
        var options = new AuthOptions { RechallengeInterval = TimeSpan.FromMinutes(1) };
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "s3cret!"), options);
        link.Start();
        var keys = link.Peer.KeyMaterial;

        link.Advance(TimeSpan.FromMinutes(3.5));
        Assert.Equal(4, link.Sent.Count(s => s.Packet[0] == Challenge));
        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
        Assert.Equal([AuthStatus.Succeeded], link.AuthenticatorCompletions);
        // Keys stay those of the first exchange.
        Assert.Same(keys, link.Peer.KeyMaterial);
        // Each re-challenge is new: new identifier and value.
        Assert.Equal(4, link.Sent.Where(s => s.Packet[0] == Challenge).Select(s => Convert.ToHexString(s.Packet)).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(ChapMethods))]
    public void A_failed_or_unanswered_rechallenge_fails_the_link(AuthMethod method)
    {
        var options = new AuthOptions { RechallengeInterval = TimeSpan.FromMinutes(1) };
        using (var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "s3cret!"), options))
        {
            link.Start();
            var challenges = 0;
            link.Filter = (from, packet) =>
            {
                if (packet[0] == Response)
                {
                    packet[4 + 1 + (method == AuthMethod.ChapMd5 ? 5 : 30)] ^= 0x55; // corrupt the (NT) response
                }
                return packet;
            };
            link.Advance(TimeSpan.FromSeconds(61));
            challenges = link.Sent.Count(s => s.Packet[0] == Challenge);
            Assert.Equal(2, challenges);
            Assert.Equal(AuthStatus.Failed, link.Authenticator.Status);
            Assert.Equal([AuthStatus.Succeeded, AuthStatus.Failed], link.AuthenticatorCompletions);
            Assert.Equal(AuthStatus.Failed, link.Peer.Status);
        }

        using (var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "s3cret!"), options))
        {
            link.Start();
            link.Filter = (_, _) => null;
            link.Advance(TimeSpan.FromMinutes(2));
            Assert.Equal(AuthStatus.Failed, link.Authenticator.Status);
            Assert.Contains("(re-challenge)", link.Authenticator.FailureReason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Domain_prefixed_ms_chap_name_finds_the_plain_user()
    {
        using var link = new AuthLink(AuthMethod.MsChapV2, Users(), PeerCredentials.FromPassword("CORP\\alice", "s3cret!"));
        link.Start();
        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
        Assert.Equal("CORP\\alice", link.Authenticator.UserName);
    }

    [Fact]
    public void Pap_exchange_bytes_are_as_rfc1334_describes()
    {
        using var link = new AuthLink(AuthMethod.Pap, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        link.Start();
        var request = link.Sent[0].Packet;
        // Code 1, Identifier, Length 4+1+5+1+7=18, Peer-ID Length 5 "alice", Passwd-Length 7 "s3cret!".
        Assert.Equal(1, request[0]);
        Assert.Equal([0, 18, 5, .. "alice"u8.ToArray(), 7, .. "s3cret!"u8.ToArray()], request[2..]);
        var ack = link.Sent[1].Packet;
        Assert.Equal(2, ack[0]);
        Assert.Equal(request[1], ack[1]);
        Assert.Equal(ack.Length, (ack[2] << 8) | ack[3]);
        Assert.Equal(ack.Length - 5, ack[4]);
    }

    [Fact]
    public void Pap_retransmitted_request_after_ack_is_acked_again()
    {
        using var link = new AuthLink(AuthMethod.Pap, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        var acks = 0;
        link.Filter = (from, packet) => packet[0] == 2 && acks++ == 0 ? null : packet;
        link.Start();
        Assert.Equal(AuthStatus.Succeeded, link.Authenticator.Status);
        Assert.Equal(AuthStatus.InProgress, link.Peer.Status);
        link.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(AuthStatus.Succeeded, link.Peer.Status);
        Assert.Equal(2, link.Sent.Count(s => s.Packet[0] == 1));
        Assert.NotEqual(link.Sent.First(s => s.Packet[0] == 1).Packet[1], link.Sent.Last(s => s.Packet[0] == 1).Packet[1]);
    }

    [Fact]
    public void Start_twice_is_a_programming_error_and_unknown_methods_are_refused()
    {
        using var link = new AuthLink(AuthMethod.Pap, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        link.Start();
        Assert.Throws<InvalidOperationException>(() => link.Peer.Start(link.ToAuthenticator));
        var environment = new AuthEnvironment { Time = link.Time, Random = _ => { } };
        Assert.Throws<ArgumentOutOfRangeException>(() => AuthProtocolFactory.CreateAuthenticator(AuthMethod.None, Users(), environment));
        Assert.Throws<ArgumentOutOfRangeException>(() => AuthProtocolFactory.CreatePeer(AuthMethod.None, PeerCredentials.FromPassword("a", "b"), environment));
    }

    [Fact]
    public void Secrets_are_not_printed()
    {
        Assert.DoesNotContain("s3cret", UserSecret.FromPassword("s3cret!").ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", PeerCredentials.FromPassword("alice", "s3cret!").ToString(), StringComparison.Ordinal);
    }
}
