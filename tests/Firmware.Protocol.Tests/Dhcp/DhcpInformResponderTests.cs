using System.Buffers.Binary;
using System.Net;
using Firmware.Protocol.Dhcp;
using Firmware.Protocol.Tests.Pptp;

namespace Firmware.Protocol.Tests.Dhcp;

/// <summary>The DHCPINFORM answer that gives Windows clients their split-tunnel routes (issue 15, item 6).</summary>
public sealed class DhcpInformResponderTests
{
    private static readonly IPAddress Server = IPAddress.Parse("10.0.0.1");

    /// <summary>
    /// Windows 10 RAS client, DHCPINFORM over the PPTP link right after IPCP, as published captures show it:
    /// from its PPP address 10.0.0.2 to 255.255.255.255, UDP 68 to 67; htype Ethernet with the WAN Miniport's
    /// address 00-53-45-00-00-00; ciaddr 10.0.0.2; options 53 (INFORM), 61 (client ID), 12 (host name),
    /// 60 ("MSFT 5.0") and the Parameter Request List Windows 7 and later send, 121 and 249 among them.
    /// The transaction ID and host name are stand-ins.
    /// </summary>
    internal static readonly byte[] WindowsInform = TestHex.Parse("""
        4500 013b 1234 0000 80 11 1d7d 0a000002 ffffffff // IPv4, TTL 128, UDP
        0044 0043 0127 ce4b                              // UDP 68 -> 67
        01 01 06 00 5d3c1a7e 0000 0000                   // BOOTREQUEST, xid, secs, flags
        0a000002 00000000 00000000 00000000              // ciaddr, yiaddr, siaddr, giaddr
        005345000000 00000000000000000000                // chaddr
        """ + TestHex.Zeros(64 + 128) + """

        63825363
        35 01 08
        3d 07 01 005345000000
        0c 08 4445534b544f5031                           // "DESKTOP1"
        3c 08 4d53465420352e30                           // "MSFT 5.0"
        37 0c 01 0f 03 06 2c 2e 2f 1f 21 79 f9 2b
        ff
        """);

    private static DhcpInformResponder Responder(string[]? routes = null, string[]? dns = null) => new(
        Server,
        (routes ?? ["10.1.0.0/16", "192.168.50.0/24", "172.16.0.0/12"]).Select(r => IPNetwork.Parse(r)).ToList(),
        (dns ?? ["192.0.2.53"]).Select(IPAddress.Parse).ToList());

    private static byte[] Answer(DhcpInformResponder responder, byte[] request)
    {
        var reply = new byte[DhcpInformResponder.MaxReplyLength];
        var length = responder.TryAnswer(request, reply);
        return reply[..length];
    }

    /// <summary>The options of a reply, from the one after the magic cookie to End.</summary>
    private static byte[] OptionsOf(byte[] reply)
    {
        var options = reply.AsSpan(20 + 8 + 240);
        return options[..(options.IndexOf((byte)0xff) + 1)].ToArray();
    }

    private static ushort Fold(uint sum)
    {
        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)sum;
    }

    private static uint Sum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (var i = 0; i < data.Length; i += 2)
        {
            sum += i + 1 < data.Length ? BinaryPrimitives.ReadUInt16BigEndian(data[i..]) : (uint)data[i] << 8;
        }

        return sum;
    }

    [Fact]
    public void Windows_inform_gets_an_ack_with_dns_and_the_routes_as_options_121_and_249()
    {
        var reply = Answer(Responder(), WindowsInform);

        Assert.Equal(TestHex.Parse("""
            35 01 05                          // DHCPACK
            36 04 0a000001                    // server identifier: our tunnel address
            06 04 c0000235                    // DNS 192.0.2.53
            79 16                             // 121, RFC 3442: width, significant octets, router
               10 0a01 0a000001               // 10.1.0.0/16 via 10.0.0.1
               18 c0a832 0a000001             // 192.168.50.0/24
               0c ac10 0a000001               // 172.16.0.0/12
            f9 16 10 0a01 0a000001 18 c0a832 0a000001 0c ac10 0a000001 // 249, the same
            ff
            """), OptionsOf(reply));

        // IPv4 from us to the client's address, unicast; UDP 67 -> 68; both checksums right.
        Assert.Equal(TestHex.Parse("4500"), reply[..2]);
        Assert.Equal(reply.Length, BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(2)));
        Assert.Equal(TestHex.Parse("00000000 40 11"), reply[4..10]);
        Assert.Equal(TestHex.Parse("0a000001 0a000002"), reply[12..20]);
        Assert.Equal(0xffff, Fold(Sum(reply.AsSpan(0, 20))));
        Assert.Equal(TestHex.Parse("0043 0044"), reply[20..24]);
        var udpLength = BinaryPrimitives.ReadUInt16BigEndian(reply.AsSpan(24));
        Assert.Equal(reply.Length - 20, udpLength);
        Assert.Equal(0xffff, Fold(Sum(reply.AsSpan(20)) + Sum(reply.AsSpan(12, 8)) + 17 + udpLength));

        // BOOTREPLY with the request's htype, hlen, xid, flags, ciaddr and chaddr; no yiaddr (RFC 2131 4.3.5).
        var dhcp = reply.AsSpan(28);
        Assert.Equal(TestHex.Parse("""
            02 01 06 00 5d3c1a7e 0000 0000
            0a000002 00000000 00000000 00000000
            005345000000 00000000000000000000
            """), dhcp[..44].ToArray());
        Assert.Equal(TestHex.Parse("63825363"), dhcp[236..240].ToArray());
        Assert.True(dhcp.Length >= 300);
    }

    [Fact]
    public void Options_left_out_of_the_request_list_are_not_sent()
    {
        // A client asking only for 121 (RFC 3442 clients other than Windows): no 249, no DNS.
        var request = (byte[])WindowsInform.Clone();
        var list = request.AsSpan().IndexOf(TestHex.Parse("37 0c"));
        TestHex.Parse("37 0c 01 79 01 01 01 01 01 01 01 01 01 01").CopyTo(request, list);

        Assert.Equal(TestHex.Parse("35 01 05 36 04 0a000001 79 16 10 0a01 0a000001 18 c0a832 0a000001 0c ac10 0a000001 ff"),
            OptionsOf(Answer(Responder(), request)));
    }

    [Fact]
    public void Dns_only_and_a_default_route_are_encoded()
    {
        var reply = Answer(Responder(routes: ["0.0.0.0/0", "10.9.8.7/32"], dns: ["192.0.2.53", "192.0.2.54"]), WindowsInform);

        Assert.Equal(TestHex.Parse("""
            35 01 05 36 04 0a000001
            06 08 c0000235 c0000236
            79 0e 00 0a000001 20 0a090807 0a000001
            f9 0e 00 0a000001 20 0a090807 0a000001
            ff
            """), OptionsOf(reply));
    }

    [Theory]
    [InlineData("ffffffff", true)]
    [InlineData("0a000001", true)] // unicast to our tunnel address
    [InlineData("0a000063", false)] // to someone else: not ours to answer
    public void Only_broadcast_or_our_address_is_answered(string destination, bool answered)
    {
        var request = (byte[])WindowsInform.Clone();
        TestHex.Parse(destination).CopyTo(request, 16);

        Assert.Equal(answered, Answer(Responder(), request).Length > 0);
    }

    [Theory]
    [InlineData(20 + 8 + 240 + 2, 0x03)] // DHCPREQUEST: a lease is not ours to give
    [InlineData(20 + 8 + 240 + 2, 0x01)] // DHCPDISCOVER
    [InlineData(20 + 1, 0x45)] // UDP 68 -> 69
    [InlineData(20 + 8, 0x02)] // a BOOTREPLY
    [InlineData(6, 0x20)] // more fragments follow
    [InlineData(20 + 8 + 236, 0x64)] // not the DHCP magic cookie
    public void Other_packets_are_not_answered(int offset, byte value)
    {
        var request = (byte[])WindowsInform.Clone();
        request[offset] = value;

        Assert.Equal(0, Responder().TryAnswer(request, new byte[DhcpInformResponder.MaxReplyLength]));
    }

    [Fact]
    public void Every_truncation_and_a_too_small_reply_buffer_are_refused_without_throwing()
    {
        var responder = Responder();
        var reply = new byte[DhcpInformResponder.MaxReplyLength];
        for (var length = 0; length < WindowsInform.Length; length++)
        {
            var truncated = WindowsInform[..length];
            // The IP total length still says 315: every cut is shorter than it claims.
            Assert.Equal(0, responder.TryAnswer(truncated, reply));
        }

        Assert.Equal(0, responder.TryAnswer(WindowsInform, new byte[100]));
    }

    [Fact]
    public void An_option_running_past_the_end_is_refused()
    {
        var request = (byte[])WindowsInform.Clone();
        var hostName = request.AsSpan().IndexOf(TestHex.Parse("0c 08"));
        request[hostName + 1] = 0xf0;

        Assert.Equal(0, Responder().TryAnswer(request, new byte[DhcpInformResponder.MaxReplyLength]));
    }

    [Fact]
    public void Random_packets_never_throw_and_answers_stay_within_the_bound()
    {
        var random = new Random(121);
        var responder = Responder(routes: Enumerable.Range(0, DhcpInformResponder.MaxRoutes).Select(i => $"10.{i}.0.0/16").ToArray(),
            dns: ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"]);
        var reply = new byte[DhcpInformResponder.MaxReplyLength];
        Assert.True(responder.TryAnswer(WindowsInform, reply) is > 0 and <= DhcpInformResponder.MaxReplyLength);
        for (var i = 0; i < 20_000; i++)
        {
            var packet = (byte[])WindowsInform.Clone();
            for (var flips = random.Next(1, 8); flips > 0; flips--)
            {
                packet[random.Next(packet.Length)] = (byte)random.Next(256);
            }

            Assert.InRange(responder.TryAnswer(packet.AsSpan(0, random.Next(packet.Length + 1)), reply), 0, DhcpInformResponder.MaxReplyLength);
        }
    }

    [Fact]
    public void The_data_path_glance_passes_only_udp_to_port_67()
    {
        Assert.True(DhcpInformResponder.MayBeDhcp(WindowsInform));
        Assert.True(DhcpInformResponder.MayBeDhcp(WindowsInform.AsSpan(0, 28)));

        var tcp = (byte[])WindowsInform.Clone();
        tcp[9] = 6;
        Assert.False(DhcpInformResponder.MayBeDhcp(tcp));
        var otherPort = (byte[])WindowsInform.Clone();
        otherPort[23] = 53;
        Assert.False(DhcpInformResponder.MayBeDhcp(otherPort));
        Assert.False(DhcpInformResponder.MayBeDhcp(WindowsInform.AsSpan(0, 27)));
        Assert.False(DhcpInformResponder.MayBeDhcp(TestHex.Parse("6000000000081140")));
    }

    [Fact]
    public void More_routes_than_one_option_holds_are_refused_at_construction() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Responder(
            routes: Enumerable.Range(0, DhcpInformResponder.MaxRoutes + 1).Select(i => $"10.{i}.0.0/16").ToArray()));
}
