using System.Net;
using Firmware.Platform.Gre;

namespace Firmware.Platform.Tests;

public sealed class RawGreSocketTests
{
    [RootFact]
    public void A_gre_packet_sent_to_loopback_is_received_with_its_source_and_bytes()
    {
        PrivateNetworkNamespace.Run(_ =>
        {
            using var socket = new RawGreSocket();
            byte[] gre = [0x30, 0x01, 0x88, 0x0B, 0x00, 0x04, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF];
            var loopback = RawGreSocket.AddressKey(IPAddress.Loopback);
            Assert.Equal(gre.Length, socket.SendTo(gre, loopback));

            var batch = new GreReceiveBatch(4);
            batch.SetBuffer(0, new byte[2048]);
            Assert.Equal(1, ReceiveWithin(socket, batch, TimeSpan.FromSeconds(5)));
            Assert.True(RawGreSocket.TryLocateGre(batch.Datagram(0), out var datagram));
            Assert.Equal(gre, batch.Datagram(0).Slice(datagram.Offset, datagram.Length).ToArray());
            Assert.Equal(loopback, datagram.Source);
            Assert.Equal(0, socket.SendFailures);
        });
    }

    [Fact]
    public void A_batch_sent_in_one_call_arrives_whole_and_in_order_in_one_receive()
    {
        PrivateNetworkNamespace.Run(_ =>
        {
            using var socket = new RawGreSocket();
            var loopback = RawGreSocket.AddressKey(IPAddress.Loopback);
            var sends = new GreSendBatch(8);
            for (var i = 0; i < 8; i++)
            {
                // Each packet sits at an offset inside a larger buffer, as a data packet does behind its header room.
                var buffer = new byte[64];
                byte[] gre = [0x30, 0x01, 0x88, 0x0B, 0x00, 0x04, 0x12, 0x34, 0xDE, 0xAD, 0xBE, (byte)i];
                gre.CopyTo(buffer, 16);
                sends.Add(buffer, 16, gre.Length, loopback);
            }
            socket.Send(sends);

            var batch = new GreReceiveBatch(16);
            for (var i = 0; i < 16; i++)
            {
                batch.SetBuffer(i, new byte[2048]);
            }
            var received = new List<byte>();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var calls = 0;
            while (received.Count < 8 && clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                var n = socket.Receive(batch);
                calls += n > 0 ? 1 : 0;
                for (var i = 0; i < n; i++)
                {
                    Assert.True(RawGreSocket.TryLocateGre(batch.Datagram(i), out var datagram));
                    Assert.Equal(12, datagram.Length);
                    received.Add(batch.Datagram(i)[datagram.Offset + 11]);
                }
            }
            Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], received);
            Assert.Equal(1, calls); // all eight were queued before the receive: one recvmmsg takes them
            Assert.Equal(0, socket.SendFailures);
        });
    }

    [Fact]
    public void Disposing_the_socket_wakes_a_blocked_receive()
    {
        PrivateNetworkNamespace.Run(_ =>
        {
            var socket = new RawGreSocket();
            var batch = new GreReceiveBatch(1);
            batch.SetBuffer(0, new byte[2048]);
            var result = 0;
            var reader = new Thread(() =>
            {
                while ((result = socket.Receive(batch)) == 0)
                {
                }
            });
            reader.Start();
            Thread.Sleep(50); // let it block; the outcome does not depend on it
            socket.Dispose();
            Assert.True(reader.Join(TimeSpan.FromSeconds(5)));
            Assert.Equal(-1, result);
        });
    }

    private static int ReceiveWithin(RawGreSocket socket, GreReceiveBatch batch, TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            var n = socket.Receive(batch);
            if (n != 0)
            {
                return n;
            }
        }
        return 0;
    }

    [Theory]
    [InlineData("")]                                          // empty
    [InlineData("4500001c")]                                  // shorter than an IPv4 header
    [InlineData("6000000000000000000000000000000000000000")]  // IPv6 version nibble
    [InlineData("4400001c00000000402f00000a0000010a000002")]  // IHL 4 (16 bytes) < 20
    [InlineData("450000ff00000000402f00000a0000010a000002")]  // total length beyond the datagram
    [InlineData("4500001400000000401100000a0000010a000002")]  // protocol 17, not GRE
    [InlineData("4f00001400000000402f00000a0000010a000002")]  // IHL 60 > total length 20
    public void Malformed_ipv4_headers_are_refused(string hex)
    {
        Assert.False(RawGreSocket.TryLocateGre(Convert.FromHexString(hex), out _));
    }

    [Fact]
    public void Options_in_the_ip_header_are_skipped()
    {
        byte[] datagram = [.. Convert.FromHexString("4600001c00000000402f00000a0000010a00000201010101"), 0x30, 0x01, 0x88, 0x0B];
        Assert.True(RawGreSocket.TryLocateGre(datagram, out var gre));
        Assert.Equal(24, gre.Offset);
        Assert.Equal(4, gre.Length);
    }
}
