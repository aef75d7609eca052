using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// A client that asks for an MRU of 1300 gets a tunnel of 1296 (less MPPE's 4 bytes), and the kernel on both
/// sides knows it: the client's interface has that MTU, the server's route to the client carries it, so a DF
/// packet that would not fit is answered with "fragmentation needed" (forwarded) or refused at the sender
/// (local) instead of vanishing in the tunnel, and one that fits goes through.
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class MtuIntegrationTests(ITestOutputHelper output)
{
    private const int Mtu = 1300 - 4;
    private const int LargestPing = Mtu - 28; // less the IPv4 and ICMP headers

    [Fact]
    public void A_smaller_mru_becomes_the_mtu_of_the_route_and_the_interface()
    {
        using var lab = new NetnsLab();
        var serverConfig = NetnsLab.ServerConfig();
        serverConfig["forwarding"] = new JsonObject { ["enabled"] = true };
        var (clientNs, server, client) = lab.StartPair(serverConfig, NetnsLab.ClientConfig(ppp: new JsonObject { ["mru"] = 1300 }));
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));
        var session = server.WaitForSessions(s => s.Count == 1 && s[0].GetProperty("mtu").GetInt32() > 0, TimeSpan.FromSeconds(5), "the session's MTU")[0];
        Assert.Equal(Mtu, session.GetProperty("mtu").GetInt32());
        var clientAddress = session.GetProperty("remoteAddress").GetString()!;

        // The server's route to the client, and the client's interface.
        var route = NetnsLab.Exec(lab.ServerNamespace, TimeSpan.FromSeconds(5), "ip", "route", "get", clientAddress);
        output.WriteLine(route.Stdout);
        Assert.Contains($"mtu {Mtu}", route.Stdout, StringComparison.Ordinal);
        var link = NetnsLab.Exec(clientNs, TimeSpan.FromSeconds(5), "ip", "link", "show", "pptpc0");
        Assert.Contains($"mtu {Mtu} ", link.Stdout, StringComparison.Ordinal);

        // Sent from the server itself: the largest DF ping that fits goes, one byte more is refused by the kernel.
        AssertDfPing(lab.ServerNamespace, clientAddress, LargestPing, fits: true);
        AssertDfPing(lab.ServerNamespace, clientAddress, LargestPing + 1, fits: false);
        // And the other way.
        AssertDfPing(clientNs, NetnsLab.ServerTunnelAddress, LargestPing, fits: true);
        AssertDfPing(clientNs, NetnsLab.ServerTunnelAddress, LargestPing + 1, fits: false);

        // Forwarded by the server from a host on its LAN: the host hears "fragmentation needed" with the MTU.
        var host = lab.AddHost(2);
        NetnsLab.Ip("-n", host, "route", "add", NetnsLab.TunnelNetwork, "via", NetnsLab.ServerLanAddress);
        AssertDfPing(host, clientAddress, LargestPing, fits: true);
        var tooBig = NetnsLab.Exec(host, TimeSpan.FromSeconds(10), "ping", "-n", "-c", "1", "-W", "3", "-M", "do", "-s", (LargestPing + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), clientAddress);
        output.WriteLine(tooBig.Stdout + tooBig.Stderr);
        Assert.Contains($"Frag needed and DF set (mtu = {Mtu})", tooBig.Stdout, StringComparison.Ordinal);
    }

    private void AssertDfPing(string netns, string address, int size, bool fits)
    {
        var ping = NetnsLab.Exec(netns, TimeSpan.FromSeconds(10), "ping", "-n", "-c", "1", "-W", "3", "-M", "do", "-s", size.ToString(System.Globalization.CultureInfo.InvariantCulture), address);
        output.WriteLine($"{netns}: ping -M do -s {size} {address}: exit {ping.ExitCode}\n{ping.Stdout}{ping.Stderr}");
        if (fits)
        {
            Assert.True(ping.ExitCode == 0, $"a DF ping of {size} bytes to {address} should fit the tunnel:\n{ping.Stdout}{ping.Stderr}");
        }
        else
        {
            Assert.NotEqual(0, ping.ExitCode);
            Assert.Contains($"mtu={Mtu}", ping.Stdout + ping.Stderr, StringComparison.Ordinal);
        }
    }
}
