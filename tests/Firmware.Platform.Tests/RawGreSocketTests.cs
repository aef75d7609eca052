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
            Assert.Equal(gre.Length, socket.Send(gre, RawGreSocket.PeerAddress(IPAddress.Loopback)));

            var buffer = new byte[2048];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var (ok, datagram) = socket.ReceiveAsync(buffer, timeout.Token).AsTask().GetAwaiter().GetResult();
            Assert.True(ok);
            Assert.Equal(gre, buffer.AsSpan(datagram.Offset, datagram.Length).ToArray());
            Assert.Equal(RawGreSocket.AddressKey(IPAddress.Loopback), datagram.Source);
        });
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
