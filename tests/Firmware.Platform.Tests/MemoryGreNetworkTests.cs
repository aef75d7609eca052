using System.Net;
using Firmware.Platform.Gre;
using Firmware.Platform.Gre.Testing;

namespace Firmware.Platform.Tests;

public sealed class MemoryGreNetworkTests
{
    private static readonly IPAddress A = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress B = IPAddress.Parse("192.0.2.2");
    private static readonly byte[] Gre = [0x30, 0x01, 0x88, 0x0B, 0x00, 0x04, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF];

    private static GreReceiveBatch Batch(int slots)
    {
        var batch = new GreReceiveBatch(slots);
        for (var i = 0; i < slots; i++)
        {
            batch.SetBuffer(i, new byte[2048]);
        }
        return batch;
    }

    [Fact]
    public void A_packet_arrives_as_raw_IP_gives_it_with_the_senders_address()
    {
        var network = new MemoryGreNetwork();
        using var a = network.Attach(A);
        using var b = network.Attach(B);
        a.Send(Gre, RawGreSocket.AddressKey(B));

        var batch = Batch(4);
        Assert.Equal(1, b.Receive(batch));
        Assert.True(RawGreSocket.TryLocateGre(batch.Datagram(0), out var datagram));
        Assert.Equal(20, datagram.Offset); // the IPv4 header a raw socket includes
        Assert.Equal(RawGreSocket.GreProtocol, batch.Datagram(0)[9]);
        Assert.Equal(RawGreSocket.AddressKey(A), datagram.Source);
        Assert.Equal(Gre, batch.Datagram(0).Slice(datagram.Offset, datagram.Length).ToArray());
        Assert.Equal(0, a.SendFailures);
    }

    [Fact]
    public void Every_Nth_is_dropped_and_a_held_packet_comes_after_the_next_and_a_batch_takes_what_is_queued()
    {
        var network = new MemoryGreNetwork { Impairment = new GreImpairment(DropEvery: 3, ReorderEvery: 4) };
        using var a = network.Attach(A);
        using var b = network.Attach(B);
        var sends = new GreSendBatch(6);
        for (byte i = 1; i <= 6; i++)
        {
            sends.Add([.. Gre, i], 0, Gre.Length + 1, RawGreSocket.AddressKey(B));
        }
        a.Send(sends);

        // 3 and 6 dropped; 4 held and delivered after 5; all four taken by one receive.
        var batch = Batch(8);
        Assert.Equal(4, b.Receive(batch));
        var order = Enumerable.Range(0, 4).Select(i => batch.Datagram(i)[^1]).ToList();
        Assert.Equal([1, 2, 5, 4], order);
        Assert.Equal(2, network.Dropped);
        Assert.Equal(1, network.Reordered);
    }

    [Fact]
    public void A_send_to_an_address_nobody_has_is_a_send_failure()
    {
        var network = new MemoryGreNetwork();
        using var a = network.Attach(A);
        a.Send(Gre, RawGreSocket.AddressKey(B));
        Assert.Equal(1, a.SendFailures);
        Assert.Equal(1, network.Unreachable);
    }

    [Fact]
    public void Receive_after_dispose_returns_minus_one_as_the_socket_does()
    {
        var network = new MemoryGreNetwork();
        var a = network.Attach(A);
        Assert.Equal(0, a.Receive(Batch(1))); // nothing within the timeout
        a.Dispose();
        Assert.False(network.IsAttached(A));
        Assert.Equal(-1, a.Receive(Batch(1)));
    }
}
