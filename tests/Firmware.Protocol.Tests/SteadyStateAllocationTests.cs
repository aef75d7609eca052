using Firmware.Protocol.Auth;
using Firmware.Protocol.Ccp;
using Firmware.Protocol.Gre;
using Firmware.Protocol.Ppp;
using Firmware.Protocol.Ppp.Lcp;
using Firmware.Protocol.Tests.Ccp;
using Firmware.Protocol.Tests.Ppp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests;

/// <summary>
/// The whole pure data path, both ways, as a tunnel runs it: an IP packet into PPP, MPPE-128 stateless, the GRE
/// window's header in place, the GRE codec, the peer's window, MPPE, PPP and out as an IP packet, with MS-CHAPv2
/// and CCP brought up for real first. Once it is up, a packet allocates nothing.
/// </summary>
public sealed class SteadyStateAllocationTests
{
    private const int HeaderRoom = 64;
    private const int PacketLength = 1400;

    [Fact]
    public void A_packet_through_PPP_MPPE_and_the_GRE_window_allocates_nothing_once_the_link_is_up()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var pool = new Stack<byte[]>();
        for (var i = 0; i < 512; i++)
        {
            pool.Push(new byte[2048]);
        }
        var packets = Enumerable.Range(0, 16).Select(i => MppeLink.Packet(i, fromClient: i % 2 == 0, PacketLength)).ToArray();
        var server = new Side(pool, packets, time);
        var client = new Side(pool, packets, time);
        server.Peer = client;
        client.Peer = server;

        var users = new InMemoryUserStore();
        users.Set(MppeLink.UserName, UserSecret.FromPassword(MppeLink.Password));
        var serverAuth = new RealAuthFactory(new AuthEnvironment { Time = time, Random = new Random(11).NextBytes }, users, null);
        var clientAuth = new RealAuthFactory(new AuthEnvironment { Time = time, Random = new Random(12).NextBytes },
            null, PeerCredentials.FromPassword(MppeLink.UserName, MppeLink.Password));
        var policy = MppeNegotiationPolicy.Default;
        using var serverSession = server.Session = new PppSession(
            PppSettings.Server(o => o with { Auth = new AuthPolicy { Demand = [AuthMethod.MsChapV2] } }), server, serverAuth, time,
            new TestRandom(1).Fill, null, MppeEncryptionLayer.Factory(policy, isServer: true));
        using var clientSession = client.Session = new PppSession(
            PppSettings.Client(o => o with { Auth = new AuthPolicy { Accept = [AuthMethod.MsChapV2] } }), client, clientAuth, time,
            new TestRandom(2).Fill, null, MppeEncryptionLayer.Factory(policy, isServer: false));
        using var serverWindow = server.Window = new GreWindow<byte[]>(server, 2, new GreWindowOptions { EnforceSendWindow = false }, time);
        using var clientWindow = client.Window = new GreWindow<byte[]>(client, 1, new GreWindowOptions { EnforceSendWindow = false }, time);

        serverSession.Start();
        clientSession.Start();
        for (var step = 0; step < 40 && !(serverSession.Negotiated is { Ipv4Up: true, EncryptionUp: true } && clientSession.Negotiated is { Ipv4Up: true, EncryptionUp: true }); step++)
        {
            Pump(server, client);
            time.Advance(TimeSpan.FromMilliseconds(250));
        }
        Pump(server, client);
        Assert.True(serverSession.Negotiated is { Ipv4Up: true, EncryptionUp: true }, "the server's link did not come up");
        Assert.True(clientSession.Negotiated is { Ipv4Up: true, EncryptionUp: true }, "the client's link did not come up");
        Assert.Equal("MPPE-128 stateless", server.Encryption);

        // Warm up (first-use allocations: lazily made tables, the timers' first arming), then count.
        Exchange(server, client, 200);
        var deliveredBefore = (server.Delivered, client.Delivered);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Exchange(server, client, 2000);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(deliveredBefore.Item1 + 2000, server.Delivered);
        Assert.Equal(deliveredBefore.Item2 + 2000, client.Delivered);
        Assert.Equal(0, server.Mismatched + client.Mismatched);
        Assert.Equal(0, server.Failures + client.Failures);
        Assert.Equal(0, allocated);
    }

    private static void Exchange(Side server, Side client, int count)
    {
        for (var i = 0; i < count; i++)
        {
            client.Send();
            server.Send();
            Pump(server, client);
        }
    }

    private static void Pump(Side server, Side client)
    {
        while (server.Inbox.Count > 0 || client.Inbox.Count > 0)
        {
            server.ReceiveAll();
            client.ReceiveAll();
        }
    }

    /// <summary>One end of the wire: the TUN (Send, DeliverPacket) and the GRE socket (a queue to the peer).</summary>
    private sealed class Side(Stack<byte[]> pool, byte[][] packets, TimeProvider time) : IPppSessionOutput, IGreWindowHost<byte[]>
    {
        private readonly TimeProvider _time = time;

        public PppSession Session { get; set; } = null!;
        public GreWindow<byte[]> Window { get; set; } = null!;
        public Side Peer { get; set; } = null!;
        public Queue<(byte[] Buffer, int Length)> Inbox { get; } = new(1024);
        public int Delivered { get; private set; }
        public int Mismatched { get; private set; }

        /// <summary>Sends refused, GRE that did not decode: none expected.</summary>
        public int Failures { get; private set; }
        private int _expected;

        private int _sent;

        /// <summary>From the TUN: the next packet into a pooled buffer behind the header room.</summary>
        public void Send()
        {
            var buffer = pool.Pop();
            var packet = packets[_sent++ % packets.Length];
            packet.CopyTo(buffer, HeaderRoom);
            // No xunit assertions on the measured path: they allocate. Failures are counted and asserted after.
            if (!Session.TrySendPacket(PppProtocol.Ipv4, buffer, HeaderRoom, packet.Length))
            {
                Failures++;
            }
            pool.Push(buffer);
        }

        public void ReceiveAll()
        {
            while (Inbox.TryDequeue(out var datagram))
            {
                if (!GreCodec.TryDecode(datagram.Buffer.AsSpan(0, datagram.Length), out var packet, out _))
                {
                    Failures++;
                    pool.Push(datagram.Buffer);
                    continue;
                }
                Window.OnPacket(packet, datagram.Buffer);
            }
        }

        private void ToPeer(ReadOnlySpan<byte> grePacket)
        {
            var copy = pool.Pop();
            grePacket.CopyTo(copy);
            Peer.Inbox.Enqueue((copy, grePacket.Length));
        }

        public void SendFrame(Span<byte> buffer, int frameOffset, int frameLength)
        {
            if (Window.TryPrepareSend(buffer, frameOffset, frameLength, out var offset, out var length) != GreSendStatus.Ready)
            {
                Failures++;
                return;
            }
            ToPeer(buffer.Slice(offset, length));
        }

        public void DeliverPacket(PppProtocol protocol, Span<byte> packet)
        {
            if (!packet.SequenceEqual(packets[_expected++ % packets.Length]))
            {
                Mismatched++;
            }
            Delivered++;
        }

        public string? Encryption { get; private set; }

        public void OnEvent(PppSessionEvent sessionEvent)
        {
            if (sessionEvent.Kind == PppSessionEventKind.EncryptionUp)
            {
                Encryption = sessionEvent.Reason;
            }
        }

        public void Deliver(byte[] buffer, int offset, int length)
        {
            Session.ReceiveFrame(buffer.AsSpan(offset, length));
            pool.Push(buffer);
        }

        public void Release(byte[] buffer) => pool.Push(buffer);

        public void SendAckOnly(ReadOnlySpan<byte> packet) => ToPeer(packet);
    }
}
