using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// TCP through the tunnel is told a segment size that fits it. The kernels at the two ends already size their
/// own SYNs from the tunnel's MTU (the client's interface and the server's route carry it), so the clamp matters
/// for what is forwarded through them from networks with MTU 1500: a SYN with MSS 1460 sent towards the tunnel
/// at each end (from a LAN host behind the server; raw from the client's namespace) reaches the far side with
/// MSS 1356 (1400, less MPPE's 4 bytes, less 40), and tcpdump finds each rewritten checksum correct.
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class MssClampIntegrationTests(ITestOutputHelper output)
{
    /// <summary>Sends one TCP SYN with MSS 1460 from argv[1] to argv[2]:5301, built by hand (IP_HDRINCL).</summary>
    private const string RawSyn = """
import socket, struct, sys
src, dst = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
def checksum(data):
    if len(data) % 2: data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while total >> 16: total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
options = struct.pack('!BBH', 2, 4, 1460)
tcp = struct.pack('!HHIIBBHHH', 40000, 5301, 1, 0, (5 + 1) << 4, 0x02, 64240, 0, 0) + options
tcp = tcp[:16] + struct.pack('!H', checksum(src + dst + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)) + tcp[18:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, src, dst)
ip = ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(ip + tcp, (sys.argv[2], 0))
""";

    [Theory]
    [InlineData(true, "mss 1356")]
    [InlineData(false, "mss 1460")]
    public void Syns_forwarded_into_the_tunnel_carry_an_mss_that_fits_it(bool clamp, string expected)
    {
        using var lab = new NetnsLab();
        JsonObject Ppp() => new() { ["clampMss"] = clamp };
        var serverConfig = NetnsLab.ServerConfig(ppp: Ppp());
        serverConfig["forwarding"] = new JsonObject { ["enabled"] = true };
        var (clientNs, server, client) = lab.StartPair(serverConfig, NetnsLab.ClientConfig(ppp: Ppp()));
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));
        var clientAddress = Assert.Single(server.Sessions()).GetProperty("remoteAddress").GetString()!;
        var host = lab.AddHost(2);
        NetnsLab.Ip("-n", host, "route", "add", NetnsLab.TunnelNetwork, "via", NetnsLab.ServerLanAddress);

        // Each SYN as the far end's TUN delivers it, after crossing the tunnel.
        using var atServer = NetnsLab.StartIn(lab.ServerNamespace, "tcpdump", "-i", "pptps0", "-n", "-l", "-v", "tcp[tcpflags] & tcp-syn != 0");
        using var atClient = NetnsLab.StartIn(clientNs, "tcpdump", "-i", "pptpc0", "-n", "-l", "-v", "tcp[tcpflags] & tcp-syn != 0");
        atServer.WaitFor(l => l.Contains("listening on pptps0", StringComparison.Ordinal), "tcpdump on pptps0", TimeSpan.FromSeconds(10));
        atClient.WaitFor(l => l.Contains("listening on pptpc0", StringComparison.Ordinal), "tcpdump on pptpc0", TimeSpan.FromSeconds(10));

        // Client side: into pptpc0 towards the server (the client gateway clamps on the way out).
        var clientLocal = Assert.Single(client.Sessions()).GetProperty("localAddress").GetString()!;
        var sent = NetnsLab.Exec(clientNs, TimeSpan.FromSeconds(10), "python3", "-c", RawSyn, clientLocal, NetnsLab.ServerTunnelAddress);
        Assert.True(sent.ExitCode == 0, $"raw SYN from the client: {sent.Stderr}");
        // Server side: from a LAN host, forwarded by the server into pptps0 towards the client.
        sent = NetnsLab.Exec(host, TimeSpan.FromSeconds(10), "python3", "-c", RawSyn, NetnsLab.HostAddress(2), clientAddress);
        Assert.True(sent.ExitCode == 0, $"raw SYN from the LAN host: {sent.Stderr}");

        // Each tcpdump also sees the other SYN on its way out (before the clamp): match the one coming in.
        var atServerSyn = atServer.WaitFor(l => l.Contains($"{clientLocal}.40000 > ", StringComparison.Ordinal) && l.Contains("Flags [S],", StringComparison.Ordinal),
            "the client's SYN at the server", TimeSpan.FromSeconds(10));
        var atClientSyn = atClient.WaitFor(l => l.Contains($"{NetnsLab.HostAddress(2)}.40000 > ", StringComparison.Ordinal) && l.Contains("Flags [S],", StringComparison.Ordinal),
            "the LAN host's SYN at the client", TimeSpan.FromSeconds(10));
        output.WriteLine(atServerSyn);
        output.WriteLine(atClientSyn);
        foreach (var segment in new[] { atServerSyn, atClientSyn })
        {
            Assert.Contains($"[{expected}]", segment, StringComparison.Ordinal);
            Assert.Contains("(correct)", segment, StringComparison.Ordinal);
        }
        var session = client.WaitForSessions(s => s.Count == 1 && s[0].GetProperty("mssClamped").GetInt64() == (clamp ? 1 : 0), TimeSpan.FromSeconds(5), "the clamp count")[0];
        Assert.Equal(1396, session.GetProperty("mtu").GetInt32());
        Assert.Equal(clamp ? 1 : 0, Assert.Single(server.Sessions()).GetProperty("mssClamped").GetInt64());
    }
}
