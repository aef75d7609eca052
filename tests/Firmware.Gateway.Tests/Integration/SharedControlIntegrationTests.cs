using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// Many calls on one control connection, both roles of the real binary: two client tunnels configured with
/// shareControlConnection put their calls on one TCP connection to our server, which carries each as its own
/// session. Ending one tunnel leaves the other up; losing the TCP connection ends both, and both redial.
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class SharedControlIntegrationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Two_tunnels_share_one_control_connection_and_end_one_at_a_time()
    {
        using var lab = new NetnsLab();
        var serverConfig = NetnsLab.ServerConfig(server: s => s["users"]![0]!["maxSessions"] = 2);
        var (clientNs, server, client) = lab.StartPair(serverConfig, TwoSharingClients());

        server.WaitForSessions(s => s.Count(Up) == 2, UpTimeout, "two server sessions up");
        client.WaitForLog("on the control connection of", TimeSpan.FromSeconds(5));
        Assert.Equal(1, server.Counter("controlConnections"));
        Assert.Equal(1, TcpConnections(clientNs));
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));
        AssertPingThrough(clientNs, "pptpc1");

        // One tunnel hung up: its call is cleared, the other stays on the same connection.
        var hangUp = NetnsLab.Exec(clientNs, TimeSpan.FromSeconds(10), RepoPaths.PublishedBinary("linux-x64"),
            "disconnect", "branch", "--run-dir", client.RunDirectory);
        output.WriteLine(hangUp.Stdout + hangUp.Stderr);
        Assert.Equal(0, hangUp.ExitCode);
        server.WaitForSessions(s => s.Count(Up) == 1, TimeSpan.FromSeconds(15), "one server session left");
        Assert.Equal(1, server.Counter("controlConnections"));
        NetnsLab.AssertPing(clientNs, NetnsLab.ServerTunnelAddress);
        Assert.Equal(0, client.CountLog("client hq: tunnel closed"));

        // Both again, then the TCP connection killed under them: every call on it ends, and both come back.
        var redial = NetnsLab.Exec(clientNs, TimeSpan.FromSeconds(10), RepoPaths.PublishedBinary("linux-x64"),
            "connect", "branch", "--run-dir", client.RunDirectory);
        Assert.Equal(0, redial.ExitCode);
        server.WaitForSessions(s => s.Count(Up) == 2, UpTimeout, "two server sessions up again");
        Assert.Equal(1, server.Counter("controlConnections"));
        var killed = NetnsLab.Exec(clientNs, TimeSpan.FromSeconds(5), "ss", "-K", "-tn", "dport", "=", ":1723");
        output.WriteLine(killed.Stdout + killed.Stderr);
        server.WaitForCounter("controlConnections", n => n == 0, TimeSpan.FromSeconds(15), "the control connection closed");
        var closed = server.WaitForLog("control connection closed", TimeSpan.FromSeconds(5));
        output.WriteLine(closed);
        Assert.True(server.CountLog("control connection closed") >= 2, "both sessions ended with the connection:\n" + server.Log);
        server.WaitForSessions(s => s.Count(Up) == 2, TimeSpan.FromSeconds(60), "both tunnels redialled");
        Assert.Equal(1, server.Counter("controlConnections"));
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));
        AssertPingThrough(clientNs, "pptpc1");
    }

    [Fact]
    public void A_call_the_full_server_cannot_take_is_refused_with_a_reason_and_the_first_stays_up()
    {
        using var lab = new NetnsLab();
        var serverConfig = NetnsLab.ServerConfig(server: s =>
        {
            s["maxSessions"] = 1;
            s["users"]![0]!["maxSessions"] = 2;
        });
        var (clientNs, server, client) = lab.StartPair(serverConfig, TwoSharingClients());

        // The second call on the shared connection: Outgoing-Call-Reply 'general error, no resources', said both sides.
        var refused = server.WaitForLog("answered Outgoing-Call-Reply 'general error: no resources'", UpTimeout);
        output.WriteLine(refused);
        Assert.Contains("server is full (1 sessions)", refused, StringComparison.Ordinal);
        var told = client.WaitForLog("the server refused the call: general error, no resources", TimeSpan.FromSeconds(10));
        output.WriteLine(told);
        // Its redial does not try that connection again: a connection of its own is refused at the start instead.
        var again = client.WaitForLog("the server refused the control connection: general error, no resources", TimeSpan.FromSeconds(30));
        output.WriteLine(again);
        Assert.Single(server.Sessions(), Up);
        NetnsLab.AssertPing(clientNs, NetnsLab.ServerTunnelAddress);
    }

    private static JsonObject TwoSharingClients()
    {
        var config = NetnsLab.ClientConfig();
        var clients = config["clients"]!.AsArray();
        clients[0]!["shareControlConnection"] = true;
        var second = clients[0]!.DeepClone();
        second["name"] = "branch";
        second["interface"] = "pptpc1";
        second["routes"] = new JsonArray();
        clients.Add(second);
        return config;
    }

    private static bool Up(JsonElement session) => session.GetProperty("state").GetString() == "up";

    private static int TcpConnections(string netns)
        => NetnsLab.Exec(netns, TimeSpan.FromSeconds(5), "ss", "-Htn", "state", "established", "( dport = :1723 )")
            .Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    private static void AssertPingThrough(string netns, string device)
    {
        var ping = NetnsLab.Exec(netns, TimeSpan.FromSeconds(15), "ping", "-n", "-c", "2", "-W", "3", "-I", device, NetnsLab.ServerTunnelAddress);
        Assert.True(ping.ExitCode == 0, $"ping through {device}:\n{ping.Stdout}{ping.Stderr}");
    }
}
