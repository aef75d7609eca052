using System.Net;
using Firmware.Platform.Gre;
using Firmware.Platform.Gre.Testing;

namespace Firmware.Platform.Tests;

public sealed class MemoryGreNetworkTests
{
    private static readonly IPAddress A = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress B = IPAddress.Parse("192.0.2.2");
    private static readonly byte[] Gre = [0x30, 0x01, 0x88, 0x0B, 0x00, 0x04, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF];

    [Fact]
    public async Task A_packet_arrives_as_raw_IP_gives_it_with_the_senders_address()
    {
        var network = new MemoryGreNetwork();
        using var a = network.Attach(A);
        using var b = network.Attach(B);
        a.Send(Gre, RawGreSocket.PeerAddress(B));

        var buffer = new byte[2048];
        var (ok, datagram) = await b.ReceiveAsync(buffer, CancellationToken.None);
        Assert.True(ok);
        Assert.Equal(20, datagram.Offset); // the IPv4 header a raw socket includes
        Assert.Equal(RawGreSocket.GreProtocol, buffer[9]);
        Assert.Equal(RawGreSocket.AddressKey(A), datagram.Source);
        Assert.Equal(Gre, buffer.AsSpan(datagram.Offset, datagram.Length).ToArray());
    }

    [Fact]
    public async Task Every_Nth_is_dropped_and_a_held_packet_comes_after_the_next()
    {
        var network = new MemoryGreNetwork { Impairment = new GreImpairment(DropEvery: 3, ReorderEvery: 4) };
        using var a = network.Attach(A);
        using var b = network.Attach(B);
        for (byte i = 1; i <= 6; i++)
        {
            a.Send([.. Gre, i], RawGreSocket.PeerAddress(B));
        }
        // 3 and 6 dropped; 4 held and delivered after 5.
        var buffer = new byte[2048];
        var order = new List<byte>();
        for (var i = 0; i < 4; i++)
        {
            var (_, datagram) = await b.ReceiveAsync(buffer, CancellationToken.None);
            order.Add(buffer[datagram.Offset + datagram.Length - 1]);
        }
        Assert.Equal([1, 2, 5, 4], order);
        Assert.Equal(2, network.Dropped);
        Assert.Equal(1, network.Reordered);
    }

    [Fact]
    public async Task Receive_after_dispose_throws_ObjectDisposedException_as_the_socket_does()
    {
        var network = new MemoryGreNetwork();
        var a = network.Attach(A);
        a.Dispose();
        Assert.False(network.IsAttached(A));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await a.ReceiveAsync(new byte[64], CancellationToken.None));
    }
}
