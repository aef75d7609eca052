using System.Text;
using CsCheck;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Ppp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Auth;

/// <summary>Malformed and hostile packets: bounded names (the CVE-2020-8597 class), random and mutated bytes.</summary>
public sealed class AuthParserTests
{
    private const byte Response = 2;

    private sealed class CapturingOutput : IAuthOutput
    {
        public List<byte[]> Packets { get; } = [];

        public void Send(PppProtocol protocol, ReadOnlySpan<byte> packet) => Packets.Add(packet.ToArray());
    }

    internal static InMemoryUserStore Users()
    {
        var users = new InMemoryUserStore();
        users.Set("alice", UserSecret.FromPassword("s3cret!"));
        users.Set("", UserSecret.FromPassword("empty-name-user"));
        return users;
    }

    private static (IAuthProtocol Authenticator, CapturingOutput Output, byte Identifier) StartedAuthenticator(AuthMethod method)
    {
        var environment = new AuthEnvironment { Time = new FakeTimeProvider(), Random = new Random(5).NextBytes };
        var authenticator = AuthProtocolFactory.CreateAuthenticator(method, Users(), environment);
        var output = new CapturingOutput();
        authenticator.Start(output);
        var identifier = method == AuthMethod.Pap ? (byte)0 : output.Packets[0][1];
        return (authenticator, output, identifier);
    }

    internal static byte[] Packet(byte code, byte identifier, int lengthField, params byte[][] parts)
    {
        var body = parts.SelectMany(p => p).ToArray();
        return [code, identifier, (byte)(lengthField >> 8), (byte)lengthField, .. body];
    }

    [Fact]
    public void Chap_name_ends_at_the_length_field_not_at_the_end_of_the_buffer()
    {
        // CVE-2020-8597 class: the name must be bounded by the packet's Length. Here Length stops right
        // after the value, and "alice" follows as link padding: the name is empty, not "alice".
        var (authenticator, output, id) = StartedAuthenticator(AuthMethod.ChapMd5);
        var value = new byte[16];
        var packet = Packet(Response, id, 4 + 1 + 16, [16], value, "alice"u8.ToArray());
        authenticator.Receive(packet);

        Assert.Equal(AuthStatus.Failed, authenticator.Status);
        Assert.Equal("", authenticator.UserName);
        Assert.DoesNotContain("alice", authenticator.FailureReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Length_field_beyond_the_received_bytes_is_dropped()
    {
        var (authenticator, _, id) = StartedAuthenticator(AuthMethod.MsChapV2);
        var packet = Packet(Response, id, 4 + 1 + 49 + 5 + 100, [49], new byte[49], "alice"u8.ToArray());
        authenticator.Receive(packet);
        Assert.Equal(AuthStatus.InProgress, authenticator.Status);
        Assert.Equal(1, authenticator.DroppedPackets);
    }

    [Fact]
    public void Value_size_beyond_the_packet_is_dropped()
    {
        var (authenticator, _, id) = StartedAuthenticator(AuthMethod.MsChapV2);
        authenticator.Receive(Packet(Response, id, 4 + 1 + 10, [200], new byte[10]));
        authenticator.Receive(Packet(Response, id, 4 + 1, [0]));
        authenticator.Receive(Packet(Response, id, 4));
        Assert.Equal(AuthStatus.InProgress, authenticator.Status);
        Assert.Equal(3, authenticator.DroppedPackets);
    }

    [Fact]
    public void Overlong_names_are_dropped()
    {
        var (authenticator, _, id) = StartedAuthenticator(AuthMethod.ChapMd5);
        var name = Encoding.ASCII.GetBytes(new string('a', 256));
        authenticator.Receive(Packet(Response, id, 4 + 1 + 16 + 256, [16], new byte[16], name));
        Assert.Equal(AuthStatus.InProgress, authenticator.Status);
        Assert.Equal(1, authenticator.DroppedPackets);
    }

    [Fact]
    public void Pap_lengths_inside_the_packet_are_checked()
    {
        var (authenticator, _, _) = StartedAuthenticator(AuthMethod.Pap);
        authenticator.Receive(Packet(1, 1, 4 + 1 + 5, [50], "alice"u8.ToArray()));          // Peer-ID length too big
        authenticator.Receive(Packet(1, 1, 4 + 1 + 5 + 1, [5], "alice"u8.ToArray(), [9]));   // password length too big
        authenticator.Receive(Packet(1, 1, 4 + 1 + 5, [5], "alice"u8.ToArray()));           // no Passwd-Length
        Assert.Equal(AuthStatus.InProgress, authenticator.Status);
        Assert.Equal(3, authenticator.DroppedPackets);
    }

    [Fact]
    public void Packets_before_start_or_after_dispose_are_dropped()
    {
        var environment = new AuthEnvironment { Time = new FakeTimeProvider(), Random = new Random(5).NextBytes };
        var authenticator = AuthProtocolFactory.CreateAuthenticator(AuthMethod.MsChapV2, Users(), environment);
        authenticator.Receive([2, 1, 0, 4]);
        Assert.Equal(1, authenticator.DroppedPackets);
        Assert.Equal(AuthStatus.Idle, authenticator.Status);
        authenticator.Dispose();
        authenticator.Receive([2, 1, 0, 4]);
        Assert.Equal(2, authenticator.DroppedPackets);
    }

    public static TheoryData<AuthMethod, AuthRole> Every() => new()
    {
        { AuthMethod.Pap, AuthRole.Authenticator }, { AuthMethod.Pap, AuthRole.Peer },
        { AuthMethod.ChapMd5, AuthRole.Authenticator }, { AuthMethod.ChapMd5, AuthRole.Peer },
        { AuthMethod.MsChapV1, AuthRole.Authenticator }, { AuthMethod.MsChapV1, AuthRole.Peer },
        { AuthMethod.MsChapV2, AuthRole.Authenticator }, { AuthMethod.MsChapV2, AuthRole.Peer },
    };

    private static IAuthProtocol Started(AuthMethod method, AuthRole role, int seed)
    {
        var environment = new AuthEnvironment
        {
            Time = new FakeTimeProvider(),
            Random = new Random(seed).NextBytes,
            Options = new AuthOptions { MsChapAuthenticatorRetries = 2, MsChapPeerRetries = 2 },
        };
        var protocol = AuthProtocolFactory.Create(method, role, environment, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        protocol.Start(new CapturingOutput());
        return protocol;
    }

    [Theory]
    [MemberData(nameof(Every))]
    public void Random_bytes_never_throw(AuthMethod method, AuthRole role)
    {
        // Each input is a slice of a larger buffer: a read past the slice would throw, not pass silently.
        Gen.Byte.Array[0, 400].Select(Gen.Int[0, 255], Gen.Int[1, 4]).Sample((bytes, firstByteCode, repeats) =>
        {
            using var protocol = Started(method, role, bytes.Length);
            var buffer = new byte[bytes.Length + 64];
            bytes.CopyTo(buffer, 0);
            if (bytes.Length > 0)
            {
                buffer[0] = (byte)(firstByteCode % 8);
            }
            for (var i = 0; i < repeats; i++)
            {
                protocol.Receive(buffer.AsSpan(0, bytes.Length));
            }
        }, iter: 2000);
    }

    [Theory]
    [MemberData(nameof(Every))]
    public void Mutated_real_packets_never_throw(AuthMethod method, AuthRole role)
    {
        // Record a real exchange, then feed the side under test mutated copies of what it would receive.
        using var link = new AuthLink(method, Users(), PeerCredentials.FromPassword("alice", "s3cret!"));
        link.Start();
        var from = role == AuthRole.Authenticator ? "peer" : "authenticator";
        var real = link.Sent.Where(s => s.From == from).Select(s => s.Packet).ToArray();
        Assert.NotEmpty(real);

        Gen.Int[0, real.Length - 1].Select(Gen.Int[0, 3], Gen.Int[0, 1000], Gen.Byte).Sample((which, mutation, position, value) =>
        {
            using var protocol = Started(method, role, which);
            var packet = real[which].ToList();
            switch (mutation)
            {
                case 0 when packet.Count > 0:
                    packet[position % packet.Count] = value;
                    break;
                case 1:
                    packet = packet.Take(position % (packet.Count + 1)).ToList();
                    break;
                case 2:
                    packet.Insert(position % (packet.Count + 1), value);
                    break;
                default:
                    if (packet.Count > 3)
                    {
                        packet[2] = value;
                        packet[3] = (byte)position;
                    }
                    break;
            }
            var buffer = packet.Concat(new byte[32]).ToArray();
            protocol.Receive(buffer.AsSpan(0, packet.Count));
            // Also after the identifier matches what the protocol sent (so deeper parsing is reached).
            protocol.Receive(buffer.AsSpan(0, packet.Count));
        }, iter: 2000);
    }
}
