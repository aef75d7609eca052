using Firmware.Gateway.Runtime;
using Firmware.Gateway.Server;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Server;

public sealed class DhcpInformAnswererTests
{
    private static Firmware.Gateway.Configuration.ServerOptions ServerWith(string pushRoutes)
    {
        var result = Load("{ \"server\": { \"localAddress\": \"172.16.0.1\", \"pool\": [\"172.16.0.10-20\"], \"dns\": [\"192.0.2.53\"], \"pushRoutes\": ["
            + pushRoutes + "], \"users\": [{\"name\": \"a\", \"password\": \"p\"}] } }");
        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        return result.Config!.Server!;
    }

    [Fact]
    public void No_routes_to_push_means_no_answerer_and_dhcpinform_goes_to_the_tun_as_before() =>
        Assert.Null(DhcpInformAnswerer.For(ServerWith(""), new PacketBufferPool(4)));

    [Fact]
    public void Routes_to_push_make_an_answerer() =>
        Assert.NotNull(DhcpInformAnswerer.For(ServerWith("\"10.1.0.0/16\""), new PacketBufferPool(4)));
}
