using System.Net;
using System.Net.Sockets;
using Firmware.Platform.Netlink;

namespace Firmware.Platform.Tests;

public sealed class NetlinkMessageTests
{
    [Fact]
    public void New_route_request_has_the_kernel_layout()
    {
        Span<byte> buffer = stackalloc byte[128];
        var writer = new NetlinkRequestWriter(buffer, Rtnl.NewRoute, Rtnl.FlagAck | Rtnl.FlagCreate | Rtnl.FlagExclusive, 7);
        writer.RouteInfo(AddressFamily.InterNetwork, 24, RouteNetlink.GatewayRouteProtocol, Rtnl.ScopeUniverse, Rtnl.RouteTypeUnicast);
        writer.Attribute(Rtnl.RouteAttrDestination, IPAddress.Parse("198.51.100.0"));
        writer.Attribute(Rtnl.RouteAttrGateway, IPAddress.Parse("10.0.0.1"));
        writer.Attribute(Rtnl.RouteAttrOutputInterface, 3u);

        var expected = Convert.FromHexString(
            "34000000" + "1800" + "0506" + "07000000" + "00000000" + // nlmsghdr: len 52, RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE, seq 7
            "02180000" + "fe" + "9d" + "00" + "01" + "00000000" +      // rtmsg: AF_INET /24, table main, proto 157, universe, unicast
            "08000100" + "c6336400" +                                  // RTA_DST 198.51.100.0
            "08000500" + "0a000001" +                                  // RTA_GATEWAY 10.0.0.1
            "08000400" + "03000000");                                  // RTA_OIF 3
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(writer.Finish()));
    }

    [Fact]
    public void Attributes_are_padded_to_four_bytes()
    {
        Span<byte> buffer = stackalloc byte[64];
        var writer = new NetlinkRequestWriter(buffer, Rtnl.GetLink, 0, 1);
        writer.LinkInfo(0, 0, 0);
        writer.Attribute(Rtnl.LinkAttrIfName, "lo\0"u8);
        var message = writer.Finish();
        Assert.Equal(16 + 16 + 8, message.Length);
        Assert.Equal("07000300" + "6C6F0000", Convert.ToHexString(message[32..]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0300")]            // shorter than an attribute header
    [InlineData("02000100")]        // length 2 < 4
    [InlineData("0c000100aabbccdd")] // length 12 beyond the input
    public void Attribute_reader_stops_at_malformed_input(string hex)
    {
        var reader = new NetlinkAttributeReader(Convert.FromHexString(hex));
        Assert.False(reader.TryRead(out _, out _));
    }

    [Fact]
    public void Attribute_reader_walks_padded_attributes()
    {
        var reader = new NetlinkAttributeReader(Convert.FromHexString("07000300" + "6C6F0000" + "08000400" + "dc050000"));
        Assert.True(reader.TryRead(out var t1, out var v1));
        Assert.Equal(3, t1);
        Assert.Equal("lo\0"u8.ToArray(), v1.ToArray());
        Assert.True(reader.TryRead(out var t2, out var v2));
        Assert.Equal(4, t2);
        Assert.Equal(1500, BitConverter.ToInt32(v2));
        Assert.False(reader.TryRead(out _, out _));
    }
}
