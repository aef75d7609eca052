using System.Net;
using Firmware.Gateway.Runtime;
using Firmware.Platform.Gre.Testing;
using Firmware.Platform.Netlink;
using Firmware.Platform.Netlink.Testing;
using Firmware.Platform.Tun.Testing;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.InProcess;

/// <summary>
/// Two whole gateways in this process, over in-memory TUNs and GRE, with real TCP for the control connection:
/// what the namespace integration tests check through the binary, here without root and in seconds.
/// </summary>
public sealed class InProcessTunnelTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PacketTimeout = TimeSpan.FromMilliseconds(GatewayPair.Timeout);

    [Fact]
    public async Task Ping_goes_through_the_tunnel_both_ways()
    {
        await using var pair = GatewayPair.StartUp(output);
        var negotiated = pair.ClientSession.Negotiated!;
        var clientAddress = negotiated.LocalAddress!;
        var serverAddress = negotiated.PeerAddress!;
        Assert.Equal(IPAddress.Parse("10.77.0.1"), serverAddress);
        Assert.Equal(IPAddress.Loopback, pair.ServerSession.Peer);

        var request = IpPackets.Echo(clientAddress, serverAddress, type: 8, identifier: 7, sequence: 1);
        Assert.True(pair.ClientTunDevice.InjectFromKernel(request));
        Assert.True(pair.ServerTunDevice.TryTakeDelivered(PacketTimeout, out var arrived), "the echo request reached the server's TUN");
        Assert.Equal(request, arrived);

        var reply = IpPackets.Echo(serverAddress, clientAddress, type: 0, identifier: 7, sequence: 1);
        Assert.True(pair.ServerTunDevice.InjectFromKernel(reply));
        Assert.True(pair.ClientTunDevice.TryTakeDelivered(PacketTimeout, out var answered), "the echo reply reached the client's TUN");
        Assert.Equal(reply, answered);

        // What the client configured on its side: the negotiated point-to-point pair, link up, the configured route.
        var tunIndex = pair.Client.Routes.GetInterfaceIndex(GatewayPair.ClientTun);
        Assert.Contains(new FakeAddress(tunIndex, clientAddress, serverAddress, 32), pair.Client.Routes.Addresses);
        Assert.True(pair.Client.Routes.Link(GatewayPair.ClientTun)!.IsUp);
        Assert.Contains(pair.Client.Routes.Routes, r => r.Destination == IPNetwork.Parse("10.77.0.0/24") && r.InterfaceIndex == tunIndex);
    }

    [Fact]
    public async Task Two_thousand_packets_each_way_arrive_intact_and_in_order_with_MPPE()
    {
        await using var pair = GatewayPair.StartUp(output);
        Assert.Equal("MPPE-128 stateless", pair.ClientSession.EncryptionDescription);
        var negotiated = pair.ClientSession.Negotiated!;
        var mtu = Math.Min(pair.ClientSession.EffectiveMtu, pair.ServerSession.EffectiveMtu);
        const int Count = 2000;

        var up = Task.Run(() => Transfer(pair.ClientTunDevice, pair.ServerTunDevice, negotiated.LocalAddress!, negotiated.PeerAddress!, Count, mtu));
        var down = Task.Run(() => Transfer(pair.ServerTunDevice, pair.ClientTunDevice, negotiated.PeerAddress!, negotiated.LocalAddress!, Count, mtu));
        await Task.WhenAll(up, down);

        Assert.Equal(0, pair.Network.Dropped + pair.Network.Overflow + pair.Network.Unreachable);
        Assert.True(pair.ClientSession.PacketsSent >= Count && pair.ServerSession.PacketsReceived >= Count);
    }

    [Fact]
    public async Task A_burst_of_one_tcp_stream_reaches_the_tun_joined_into_super_packets_that_cut_back_into_the_same_segments()
    {
        await using var pair = GatewayPair.StartUp(output);
        var negotiated = pair.ClientSession.Negotiated!;
        var segmentSize = Math.Min(pair.ClientSession.EffectiveMtu, pair.ServerSession.EffectiveMtu) - 40;
        const int Count = 1000;
        var sent = Enumerable.Range(0, Count)
            .Select(i => IpPackets.StreamSegment(negotiated.LocalAddress!, negotiated.PeerAddress!, i, segmentSize)).ToList();

        // All at once, as a sender's TCP does with a full window: the tunnel's batches carry many segments each.
        foreach (var segment in sent)
        {
            Assert.True(pair.ClientTunDevice.InjectFromKernel(segment));
        }
        for (var i = 0; i < Count; i++)
        {
            Assert.True(pair.ServerTunDevice.TryTakeDelivered(PacketTimeout, out var arrived), $"segment {i} of {Count} arrived");
            Assert.Equal(sent[i], arrived); // the in-memory TUN cuts each super-packet with the kernel's rules
        }

        var written = pair.ServerTunDevice.OffloadCounts.SuperPacketsWritten;
        output.WriteLine($"{Count} segments reached the server's TUN in {written} super-packets and {Count - pair.ServerSession.TunWrites.Joined - written} single writes");
        Assert.True(written > 0, "no segments were joined");
        // The bridge counts a super-packet once the device's write returns, which is after the in-memory TUN
        // has handed out its segments: wait for the count rather than read it once.
        var counters = pair.ServerGateway.Context!.TunCounters;
        GatewayPair.WaitUntil(() => counters.SuperPacketsWritten == written, $"the service counted {written} super-packets written");
        Assert.Equal(0, pair.ServerTunDevice.OffloadCounts.Refused);
    }

    /// <summary>
    /// Sends <paramref name="count"/> numbered UDP packets of sizes up to <paramref name="mtu"/> into
    /// <paramref name="from"/>, at most a window ahead of what reached <paramref name="to"/>, and checks each one
    /// arrives byte for byte and in order.
    /// </summary>
    private static void Transfer(MemoryTun from, MemoryTun to, IPAddress source, IPAddress destination, int count, int mtu)
    {
        const int Window = 32;
        var sizes = new Random(count);
        var expected = new Queue<byte[]>();
        var sent = 0;
        var received = 0;
        while (received < count)
        {
            while (sent < count && sent - received < Window)
            {
                var packet = IpPackets.Numbered(source, destination, sent, sizes.Next(4, mtu - 28 + 1));
                expected.Enqueue(packet);
                Assert.True(from.InjectFromKernel(packet));
                sent++;
            }
            Assert.True(to.TryTakeDelivered(PacketTimeout, out var arrived), $"packet {received} of {count} arrived");
            Assert.Equal(received, IpPackets.Sequence(arrived));
            Assert.Equal(expected.Dequeue(), arrived);
            received++;
        }
    }

    [Fact]
    public async Task With_loss_and_reordering_the_tunnel_stays_up_and_what_arrives_is_intact_and_in_order()
    {
        await using var pair = GatewayPair.StartUp(output);
        var session = pair.ClientSession;
        var negotiated = session.Negotiated!;
        var server = pair.ServerSession;
        var mtu = Math.Min(session.EffectiveMtu, server.EffectiveMtu);
        pair.Network.Impairment = new GreImpairment(LossRate: 0.05, ReorderEvery: 7, Seed: 42);

        // One direction at a time, so what goes to one address is that direction's data.
        var up = LossyTransfer(pair, pair.ClientTunDevice, pair.ServerTunDevice, server, negotiated.LocalAddress!, negotiated.PeerAddress!, pair.ServerAddress, mtu);
        var down = LossyTransfer(pair, pair.ServerTunDevice, pair.ClientTunDevice, session, negotiated.PeerAddress!, negotiated.LocalAddress!, IPAddress.Loopback, mtu);
        pair.Network.Impairment = new GreImpairment();

        output.WriteLine($"arrived {up} up, {down} down; network dropped {pair.Network.Dropped}, reordered {pair.Network.Reordered}");
        foreach (var receiver in new[] { server, session })
        {
            var gre = receiver.GreCounters!;
            output.WriteLine($"{receiver.Name}: lost {gre.Lost}, held {gre.Reordered}, recovered {gre.Recovered}, too old {gre.TooOld}, gap timeout {gre.GapTimeout.TotalMilliseconds} ms");
        }
        Assert.InRange(up, 800, 999);
        Assert.InRange(down, 800, 999);
        Assert.True(pair.Network.Dropped > 0 && pair.Network.Reordered > 0);
        // Each receiving window saw the gaps and the late packets the network made.
        foreach (var receiver in new[] { server, session })
        {
            var gre = receiver.GreCounters!;
            Assert.True(gre.Lost > 0, $"{receiver.Name}: lost {gre.Lost}");
            Assert.True(gre.Reordered > 0, $"{receiver.Name}: held {gre.Reordered}");
            Assert.True(gre.Recovered > 0, $"{receiver.Name}: recovered {gre.Recovered}");
        }
        // The same tunnel throughout: no redial, still up.
        Assert.Same(session, pair.ClientRuntime.Session);
        Assert.Equal(ClientPhase.Up, pair.ClientRuntime.Phase);
        Assert.Equal(TunnelState.Up, server.State);
        var status = pair.ClientGateway.Snapshot().Sessions.Single();
        Assert.True(status.Reorder!["lost"] > 0 && status.Reorder["recovered"] > 0);
    }

    /// <summary>
    /// 1,000 numbered packets in rounds of 25 over the impaired network. A round is over when each of its
    /// packets arrived, was dropped on the way, or came too late for the receiver's window; the packet held
    /// back at its end is let go once the round has crossed. Returns how many arrived (each checked byte for
    /// byte, in increasing order).
    /// </summary>
    private static int LossyTransfer(GatewayPair pair, MemoryTun from, MemoryTun to, TunnelSession receiver,
        IPAddress source, IPAddress destination, IPAddress greDestination, int mtu)
    {
        const int Count = 1000, Round = 25;
        var network = pair.Network;
        var sizes = new Random(7);
        var sent = new List<byte[]>();
        var arrived = 0;
        var last = -1;
        while (sent.Count < Count)
        {
            var sentBefore = network.SentTo(greDestination);
            var droppedBefore = network.DroppedTo(greDestination);
            var tooOldBefore = receiver.GreCounters!.TooOld;
            var arrivedBefore = arrived;
            for (var i = 0; i < Round; i++)
            {
                var packet = IpPackets.Numbered(source, destination, sent.Count, sizes.Next(4, mtu - 28 + 1));
                sent.Add(packet);
                Assert.True(from.InjectFromKernel(packet));
            }
            GatewayPair.WaitUntil(() =>
            {
                if (network.SentTo(greDestination) - sentBefore >= Round)
                {
                    network.ReleaseHeld();
                }
                while (to.TryTakeDelivered(TimeSpan.Zero, out var packet))
                {
                    var sequence = IpPackets.Sequence(packet);
                    Assert.True(sequence > last, $"packet {sequence} after {last}: out of order");
                    Assert.Equal(sent[sequence], packet);
                    last = sequence;
                    arrived++;
                }
                return arrived - arrivedBefore + (network.DroppedTo(greDestination) - droppedBefore)
                    + (receiver.GreCounters!.TooOld - tooOldBefore) >= Round;
            }, $"packets {sent.Count - Round}..{sent.Count - 1} accounted for");
        }
        return arrived;
    }

    [Fact]
    public async Task Teardown_frees_buffers_registrations_addresses_routes_and_TUNs()
    {
        var pair = GatewayPair.Start(output, client => client["defaultRoute"] = true);
        await using (pair)
        {
            // The client's LAN, so a default route through the tunnel keeps a host route to the server via it.
            var eth0 = pair.Client.Routes.AddLink("eth0");
            pair.Client.Routes.AddSystemRoute(new RouteSpec(IPNetwork.Parse("0.0.0.0/0"), IPAddress.Parse("192.0.2.254"), eth0));
            pair.WaitUntilUp();
            var clientTun = pair.ClientTunDevice;
            var negotiated = pair.ClientSession.Negotiated!;
            Assert.Contains(pair.Client.Routes.Routes, r => r.Destination == new IPNetwork(pair.ServerAddress, 32) && r.InterfaceIndex == eth0);
            Assert.Contains(pair.Server.Routes.Routes, r => r.Destination == new IPNetwork(negotiated.LocalAddress!, 32));
            var ping = IpPackets.Echo(negotiated.LocalAddress!, negotiated.PeerAddress!, type: 8, identifier: 1, sequence: 1);
            Assert.True(clientTun.InjectFromKernel(ping));
            Assert.True(pair.ServerTunDevice.TryTakeDelivered(PacketTimeout, out _));

            // The client hangs up: its side is as before the call, and the server forgets the session.
            pair.ClientRuntime.Disconnect();
            GatewayPair.WaitUntil(() => pair.ClientRuntime.Phase == ClientPhase.Disabled && pair.ClientRuntime.Session is null, "the client down");
            GatewayPair.WaitUntil(() => pair.ServerGateway.AllSessions.Count == 0, "the server's session gone");
            Assert.True(clientTun.IsDisposed);
            Assert.Empty(pair.Client.Routes.Routes);
            Assert.Empty(pair.Client.Routes.Addresses);
            Assert.Equal(["eth0"], pair.Client.Routes.Links.Keys);
            Assert.Equal(0, pair.ClientGateway.Context!.Gre.Registrations);
            Assert.Equal(0, pair.ServerGateway.Context!.Gre.Registrations);
            Assert.Empty(pair.Server.Routes.Routes);
        }

        // Both stopped: every interface, address and route the gateways made is gone, every buffer is back.
        foreach (var host in new[] { pair.Server, pair.Client })
        {
            Assert.All(host.Tuns, t => Assert.True(t.IsDisposed, $"{t.Name} closed"));
            Assert.Empty(host.Routes.Routes);
            Assert.Empty(host.Routes.Addresses);
            Assert.False(pair.Network.IsAttached(host.Address));
        }
        Assert.Equal(["eth0"], pair.Client.Routes.Links.Keys);
        Assert.Empty(pair.Server.Routes.Links);
        foreach (var gateway in new[] { pair.ServerGateway, pair.ClientGateway })
        {
            var pool = gateway.Context!.Pool;
            Assert.True(pool.Created > 0);
            Assert.True(pool.Created == pool.Available, $"{pool.Created - pool.Available} buffer(s) not back in the pool");
            Assert.Equal(0, gateway.Context.Gre.Registrations);
        }
    }
}
