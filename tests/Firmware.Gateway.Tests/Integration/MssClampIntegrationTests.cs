using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// TCP through the tunnel is told a segment size that fits it: both ends lower the MSS of SYN and SYN-ACK to the
/// tunnel's MTU (1400, less MPPE's 4 bytes) less 40, and tcpdump finds each rewritten checksum correct.
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class MssClampIntegrationTests(ITestOutputHelper output)
{
    private const string Listener = """
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 5301)); s.listen(); print('listening', flush=True)
c, _ = s.accept(); c.close()
""";

    [Theory]
    [InlineData(true, "mss 1356")]
    [InlineData(false, "mss 1360")]
    public void Syn_and_syn_ack_carry_an_mss_that_fits_the_tunnel(bool clamp, string expected)
    {
        using var lab = new NetnsLab();
        JsonObject Ppp() => new() { ["clampMss"] = clamp };
        var (clientNs, server, client) = lab.StartPair(NetnsLab.ServerConfig(ppp: Ppp()), NetnsLab.ClientConfig(ppp: Ppp()));
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));

        // The SYN as the server's TUN delivers it, the SYN-ACK as the client's does: each after crossing the tunnel.
        using var atServer = NetnsLab.StartIn(lab.ServerNamespace, "tcpdump", "-i", "pptps0", "-n", "-l", "-v", "tcp[tcpflags] & tcp-syn != 0");
        using var atClient = NetnsLab.StartIn(clientNs, "tcpdump", "-i", "pptpc0", "-n", "-l", "-v", "tcp[tcpflags] & tcp-syn != 0");
        atServer.WaitFor(l => l.Contains("listening on pptps0", StringComparison.Ordinal), "tcpdump on pptps0", TimeSpan.FromSeconds(10));
        atClient.WaitFor(l => l.Contains("listening on pptpc0", StringComparison.Ordinal), "tcpdump on pptpc0", TimeSpan.FromSeconds(10));
        using var listener = NetnsLab.StartIn(lab.ServerNamespace, "python3", "-c", Listener, NetnsLab.ServerTunnelAddress);
        listener.WaitForLine("listening", TimeSpan.FromSeconds(10));

        var connect = NetnsLab.Exec(clientNs, TimeSpan.FromSeconds(15), "python3", "-c",
            $"import socket; socket.create_connection(('{NetnsLab.ServerTunnelAddress}', 5301), 5).close()");
        Assert.True(connect.ExitCode == 0, $"connect: {connect.Stderr}");

        var syn = atServer.WaitFor(l => l.Contains("Flags [S],", StringComparison.Ordinal), "the SYN at the server", TimeSpan.FromSeconds(10));
        var synAck = atClient.WaitFor(l => l.Contains("Flags [S.],", StringComparison.Ordinal), "the SYN-ACK at the client", TimeSpan.FromSeconds(10));
        output.WriteLine(syn);
        output.WriteLine(synAck);
        foreach (var segment in new[] { syn, synAck })
        {
            Assert.Contains(expected + ",", segment, StringComparison.Ordinal);
            Assert.Contains("(correct)", segment, StringComparison.Ordinal);
        }
        var session = client.WaitForSessions(s => s.Count == 1 && s[0].GetProperty("mtu").GetInt32() > 0, TimeSpan.FromSeconds(5), "the tunnel's MTU")[0];
        Assert.Equal(1396, session.GetProperty("mtu").GetInt32());
        Assert.Equal(clamp ? 1 : 0, session.GetProperty("mssClamped").GetInt64());
        Assert.Equal(clamp ? 1 : 0, Assert.Single(server.Sessions()).GetProperty("mssClamped").GetInt64());
    }
}
