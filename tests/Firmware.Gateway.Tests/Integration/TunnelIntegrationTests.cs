using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>Integration tests share the machine's CPU and namespaces: they run one at a time, never beside other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IntegrationCollection
{
    public const string Name = "Integration (network namespaces)";
}

/// <summary>
/// The published Native AOT binary, server and clients, in network namespaces joined by a bridge: real TUN
/// devices, real raw GRE, real TCP 1723. Each test builds its own namespaces and tears them down.
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class TunnelIntegrationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(30);
    private const string Mppe128Stateless = "MPPE-128 stateless";

    [Fact]
    public void Ping_both_ways_and_status_shows_MPPE_and_counters()
    {
        var clock = Stopwatch.StartNew();
        using var lab = new NetnsLab();
        var server = lab.StartGateway("server", lab.ServerNamespace, NetnsLab.ServerConfig());
        server.WaitForLog("server listening", UpTimeout);
        var clientNs = lab.AddHost(1);
        var client = lab.StartGateway("client", clientNs, NetnsLab.ClientConfig());
        client.WaitForLog("tunnel up", UpTimeout);
        server.WaitForLog("session up", UpTimeout);

        var clientSession = Assert.Single(client.Sessions());
        var clientAddress = clientSession.GetProperty("localAddress").GetString()!;
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));
        NetnsLab.AssertPing(clientNs, NetnsLab.ServerTunnelAddress);
        NetnsLab.AssertPing(lab.ServerNamespace, clientAddress);

        foreach (var (gateway, session) in new[] { (client, Assert.Single(client.Sessions())), (server, Assert.Single(server.Sessions())) })
        {
            Assert.True(session.GetProperty("state").GetString() == "up", $"{gateway.Name}: {session}");
            Assert.Equal(Mppe128Stateless, session.GetProperty("mppe").GetString());
            Assert.True(session.GetProperty("bytesSent").GetInt64() > 0, $"{gateway.Name}: {session}");
            Assert.True(session.GetProperty("bytesReceived").GetInt64() > 0, $"{gateway.Name}: {session}");
            // The GRE reorder buffer reports its adaptive gap timeout and depth (100 ms and 16 before any reordering).
            var reorder = session.GetProperty("reorder");
            Assert.True(reorder.GetProperty("gapTimeoutMs").GetInt64() > 0 && reorder.GetProperty("depth").GetInt64() > 0, $"{gateway.Name}: {session}");
        }
        Assert.Equal(clientAddress, Assert.Single(server.Sessions()).GetProperty("remoteAddress").GetString());

        // The data path's own counters: GRE read in batches, the TUN both ways, the buffer pool.
        foreach (var gateway in new[] { client, server })
        {
            var received = gateway.Counter("greReceived");
            var reads = gateway.Counter("greReceiveBatches");
            Assert.True(received > 0 && reads > 0 && reads <= received, $"{gateway.Name}: {received} GRE packets in {reads} reads");
            Assert.True(gateway.Counter("tunRead") > 0 && gateway.Counter("tunWritten") > 0, $"{gateway.Name}: {gateway.Status()}");
            Assert.True(gateway.Counter("bufferPoolCreated") > 0, $"{gateway.Name}: {gateway.Status()}");
            Assert.Contains("data path: ", gateway.StatusText(), StringComparison.Ordinal);
        }
        output.WriteLine($"took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Tcp_transfer_of_100_MB_arrives_intact()
    {
        var clock = Stopwatch.StartNew();
        using var lab = new NetnsLab();
        var (clientNs, server, client) = lab.StartPair();

        var data = Path.Combine(Path.GetTempPath(), $"pgw-integ-{Guid.NewGuid():N}.bin");
        try
        {
            var make = ProcessRunner.Run("sh", ["-c", $"head -c 100M /dev/urandom > '{data}' && sha256sum < '{data}'"], TimeSpan.FromSeconds(60));
            Assert.True(make.ExitCode == 0, make.Stderr);
            var sent = make.Stdout.Split(' ')[0];

            // The receiver hashes what arrives; the sender retries its connect until the listener is there.
            var receiver = Task.Run(() => NetnsLab.Exec(lab.ServerNamespace, TimeSpan.FromSeconds(120), "sh", "-c",
                $"socat -u TCP-LISTEN:5001,bind={NetnsLab.ServerTunnelAddress},reuseaddr - | sha256sum"));
            var transfer = Stopwatch.StartNew();
            var sender = NetnsLab.Exec(clientNs, TimeSpan.FromSeconds(120), "socat", "-u", $"FILE:{data}",
                $"TCP:{NetnsLab.ServerTunnelAddress}:5001,retry=50,interval=0.2");
            Assert.True(sender.ExitCode == 0, $"sender: {sender.Stderr}");
            var receiverResult = await receiver.WaitAsync(TimeSpan.FromSeconds(60));
            transfer.Stop();
            var received = receiverResult.Stdout.Split(' ')[0];
            Assert.Equal(sent, received);
            // TUN offloads at work: the sender's kernel handed the client's TUN TCP super-packets to cut, and the
            // server joined what arrived into super-packets its kernel took whole (not one of them refused).
            Assert.True(client.Counter("tunSuperPacketsRead") > 0, $"client: {client.StatusText()}");
            Assert.True(server.Counter("tunSuperPacketsWritten") > 0, $"server: {server.StatusText()}");
            foreach (var gateway in new[] { client, server })
            {
                Assert.Equal(0, gateway.Counter("tunOffloadRefused") + gateway.Counter("tunWriteFailures"));
            }
            output.WriteLine($"client: {client.StatusText()}");
            output.WriteLine($"server: {server.StatusText()}");
            output.WriteLine($"100 MB in {transfer.Elapsed.TotalSeconds:0.0} s ({100 * 8 / transfer.Elapsed.TotalSeconds:0} Mbit/s); test took {clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            File.Delete(data);
        }
    }

    [Fact]
    public void Twenty_clients_at_once_each_get_a_distinct_address_and_pass_traffic()
    {
        const int Clients = 20;
        var clock = Stopwatch.StartNew();
        using var lab = new NetnsLab();
        var users = new JsonArray();
        for (var i = 1; i <= Clients; i++)
        {
            users.Add(new JsonObject { ["name"] = $"user{i}", ["password"] = $"password-{i}" });
        }
        var server = lab.StartGateway("server", lab.ServerNamespace, NetnsLab.ServerConfig(poolSize: 30, s =>
        {
            s["users"] = users;
            s["maxSessions"] = 32;
        }));
        server.WaitForLog("server listening", UpTimeout);

        var namespaces = new string[Clients];
        var clients = new GatewayProcess[Clients];
        for (var i = 0; i < Clients; i++)
        {
            namespaces[i] = lab.AddHost(i + 1);
            clients[i] = lab.StartGateway($"client{i + 1}", namespaces[i],
                NetnsLab.ClientConfig(user: $"user{i + 1}", password: $"password-{i + 1}"));
        }
        foreach (var client in clients)
        {
            client.WaitForLog("tunnel up", TimeSpan.FromSeconds(90));
        }
        output.WriteLine($"{Clients} tunnels up after {clock.Elapsed.TotalSeconds:0.0} s");

        Parallel.For(0, Clients, new ParallelOptions { MaxDegreeOfParallelism = 5 },
            i => NetnsLab.AssertPingWithin(namespaces[i], NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(15)));

        var sessions = server.WaitForSessions(s => s.Count(x => x.GetProperty("state").GetString() == "up") == Clients,
            TimeSpan.FromSeconds(10), $"{Clients} sessions up");
        var addresses = sessions.Select(s => s.GetProperty("remoteAddress").GetString()).ToHashSet();
        Assert.Equal(Clients, addresses.Count);
        Assert.All(sessions, s => Assert.True(s.GetProperty("bytesReceived").GetInt64() > 0, s.ToString()));
        Assert.All(sessions, s => Assert.Equal(Mppe128Stateless, s.GetProperty("mppe").GetString()));
        output.WriteLine($"took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public void A_client_killed_hard_frees_its_address_within_the_echo_timeout()
    {
        var clock = Stopwatch.StartNew();
        using var lab = new NetnsLab();
        static JsonObject Ppp() => new() { ["lcpEchoIntervalSeconds"] = 2, ["lcpEchoFailures"] = 3 };
        // One address in the pool: the next client gets one only if the dead client's was given back.
        var (clientNs, server, client) = lab.StartPair(NetnsLab.ServerConfig(poolSize: 1, ppp: Ppp()), NetnsLab.ClientConfig(ppp: Ppp()));
        var address = Assert.Single(server.Sessions()).GetProperty("remoteAddress").GetString();

        // Cut the wire first so not even the kernel's FIN/RST reaches the server: only LCP echoes can tell.
        NetnsLab.Ip("-n", lab.ServerNamespace, "link", "set", "v1", "down");
        client.KillHard();
        var dead = Stopwatch.StartNew();
        server.WaitForSessions(s => s.Count == 0, TimeSpan.FromSeconds(20), "the dead client's session gone");
        dead.Stop();
        output.WriteLine($"server noticed the dead client after {dead.Elapsed.TotalSeconds:0.0} s");
        // Echo every 2 s, 3 failures: the link is declared dead 6-8 s after the last answer; allow some slack.
        Assert.True(dead.Elapsed < TimeSpan.FromSeconds(12), $"took {dead.Elapsed.TotalSeconds:0.0} s");

        NetnsLab.Ip("-n", lab.ServerNamespace, "link", "set", "v1", "up");
        var next = lab.StartGateway("client2", clientNs, NetnsLab.ClientConfig(ppp: Ppp()));
        next.WaitForLog("tunnel up", UpTimeout);
        Assert.Equal(address, Assert.Single(server.Sessions()).GetProperty("remoteAddress").GetString());
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));
        output.WriteLine($"took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public void A_restarted_server_is_redialed_and_the_tunnel_comes_back()
    {
        var clock = Stopwatch.StartNew();
        using var lab = new NetnsLab();
        var (clientNs, server, client) = lab.StartPair();
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));

        var mark = client.LogMark;
        server.Terminate();
        Assert.True(server.WaitForExit(TimeSpan.FromSeconds(5)), "server did not stop on SIGTERM");
        var restarted = lab.StartGateway("server2", lab.ServerNamespace, NetnsLab.ServerConfig());
        restarted.WaitForLog("server listening", UpTimeout);
        client.WaitForLog("tunnel up", UpTimeout, mark);
        restarted.WaitForLog("session up", UpTimeout);
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));
        NetnsLab.AssertPing(clientNs, NetnsLab.ServerTunnelAddress);
        output.WriteLine($"took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public void Stopping_leaves_links_and_routes_as_they_were_and_exits_quickly()
    {
        var clock = Stopwatch.StartNew();
        using var lab = new NetnsLab();
        var clientNs = lab.AddHost(1);
        var namespaces = new[] { lab.ServerNamespace, clientNs };
        var before = namespaces.Select(Snapshot).ToArray();

        var server = lab.StartGateway("server", lab.ServerNamespace, NetnsLab.ServerConfig());
        server.WaitForLog("server listening", UpTimeout);
        var client = lab.StartGateway("client", clientNs, NetnsLab.ClientConfig());
        client.WaitForLog("tunnel up", UpTimeout);
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));
        Assert.Contains("pptpc0", NetnsLab.Ip("-n", clientNs, "link"), StringComparison.Ordinal);
        Assert.Contains("proto 157", NetnsLab.Ip("-n", clientNs, "route"), StringComparison.Ordinal);

        var stop = Stopwatch.StartNew();
        client.Terminate();
        server.Terminate();
        Assert.True(client.WaitForExit(TimeSpan.FromSeconds(3)), $"client still running 3 s after SIGTERM; log:\n{client.Log}");
        Assert.True(server.WaitForExit(TimeSpan.FromSeconds(3) - stop.Elapsed + TimeSpan.FromMilliseconds(100)),
            $"server still running 3 s after SIGTERM; log:\n{server.Log}");
        output.WriteLine($"both exited {stop.Elapsed.TotalSeconds:0.00} s after SIGTERM (exit codes {client.ExitCode}, {server.ExitCode})");
        Assert.Equal(0, client.ExitCode);
        Assert.Equal(0, server.ExitCode);

        for (var i = 0; i < namespaces.Length; i++)
        {
            var after = Snapshot(namespaces[i]);
            Assert.DoesNotContain("pptp", after, StringComparison.Ordinal);
            Assert.DoesNotContain("proto 157", after, StringComparison.Ordinal);
            Assert.Equal(before[i], after);
        }
        output.WriteLine($"took {clock.Elapsed.TotalSeconds:0.0} s");

        // Operstate is left out: the kernel updates a bridge's lazily (UNKNOWN -> UP) whatever we do. So are
        // IPv6 link-local and multicast routes: the kernel adds them on its own time once DAD settles on a new
        // veth, which can fall between the two snapshots (our routes are all IPv4, protocol 157, and checked).
        static string Snapshot(string netns) =>
            "links:\n" + Regex.Replace(NetnsLab.Ip("-n", netns, "-o", "link"), @" state \S+", "") +
            "routes:\n" + string.Join('\n', NetnsLab.Ip("-n", netns, "route", "show", "table", "all").Split('\n')
                .Where(line => !Regex.IsMatch(line, @"\b(fe80|ff00)::")));
    }

    [Fact]
    public void A_GRE_flood_from_a_third_address_does_not_disturb_the_session()
    {
        var clock = Stopwatch.StartNew();
        using var lab = new NetnsLab();
        var (clientNs, server, client) = lab.StartPair();
        var attackerNs = lab.AddHost(9);
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));
        var sessionBefore = Assert.Single(server.Sessions());

        // Every call ID 0-65535 (the real one among them) with a PPP/MPPE-looking payload, then malformed GRE:
        // wrong version, no key, truncated headers, lengths that lie.
        const string Flood = """
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
dst = (sys.argv[1], 0)
sent = 0
for call in range(65536):
    ppp = b'\xff\x03\x00\xfd' + struct.pack('>H', 0x9000 | (call & 0xfff)) + bytes(range(40))
    s.sendto(struct.pack('>HHHHI', 0x3001, 0x880b, len(ppp), call, call) + ppp, dst); sent += 1
junk = [b'', b'\x30', b'\x30\x01\x88\x0b', struct.pack('>HHHH', 0x3001, 0x880b, 500, 0),
        struct.pack('>HHHHI', 0x2001, 0x880b, 4, 0, 0) + b'\x00\x21\x45\x00',
        struct.pack('>HHHHI', 0x3000, 0x0800, 4, 0, 0) + b'abcd',
        struct.pack('>HHHHII', 0x3081, 0x880b, 0, 0, 0, 0)]
for i in range(2000):
    s.sendto(junk[i % len(junk)], dst); sent += 1
print(sent)
""";
        var flood = NetnsLab.Exec(attackerNs, TimeSpan.FromSeconds(90), "python3", "-c", Flood, NetnsLab.ServerLanAddress);
        Assert.True(flood.ExitCode == 0, $"flood script failed: {flood.Stderr}");
        output.WriteLine($"sent {flood.Stdout.Trim()} forged GRE packets");

        NetnsLab.AssertPing(clientNs, NetnsLab.ServerTunnelAddress, count: 5);
        var clientAddress = Assert.Single(client.Sessions()).GetProperty("localAddress").GetString()!;
        NetnsLab.AssertPing(lab.ServerNamespace, clientAddress);
        var sessionAfter = Assert.Single(server.Sessions());
        Assert.Equal("up", sessionAfter.GetProperty("state").GetString());
        Assert.True(sessionAfter.GetProperty("uptimeSeconds").GetDouble() >= sessionBefore.GetProperty("uptimeSeconds").GetDouble(),
            "the session was re-established");
        Assert.Equal(1, client.CountLog("tunnel up"));
        Assert.False(server.HasExited, "the server died");
        // What reached no session is counted, so the flood shows in the status: all of the 65,535 forged calls
        // but those the kernel dropped before we could read them (a loaded machine can fall behind the flood).
        var kernelDrops = NetnsLab.RawSocketDrops(lab.ServerNamespace, 47);
        var unknown = server.WaitForCounter("greUnknownSession", n => n + kernelDrops >= 65535, TimeSpan.FromSeconds(20),
            $"65,535 forged calls counted (less {kernelDrops} dropped by the kernel)");
        Assert.True(unknown >= 60000, $"only {unknown} of 65,535 forged calls counted; the kernel dropped {kernelDrops}");
        Configuration.ConfigTestSupport.WaitUntil(() => server.Counter("greTooShort") + server.Counter("greKeyMissing") + server.Counter("greWrongVersion") > 0,
            "malformed GRE counted by reason");
        // And a person reading `status` sees it too, not only a script reading --json.
        var text = server.StatusText();
        Assert.Contains("dropped outside any tunnel: ", text, StringComparison.Ordinal);
        Assert.Contains("greUnknownSession ", text, StringComparison.Ordinal);
        output.WriteLine($"session drops after the flood: {sessionAfter.GetProperty("drops")}; took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public void Twenty_wrong_passwords_lock_the_user_out_and_the_right_one_is_then_refused()
    {
        const int Failures = 20;
        var clock = Stopwatch.StartNew();
        using var lab = new NetnsLab();
        // A 1 s restart timer: a first LCP Configure-Request lost to the call-setup race costs 1 s, not 3.
        static JsonObject Ppp() => new() { ["restartTimerSeconds"] = 1 };
        var server = lab.StartGateway("server", lab.ServerNamespace, NetnsLab.ServerConfig(ppp: Ppp(), server: s =>
            s["lockout"] = new JsonObject { ["failures"] = Failures, ["windowSeconds"] = 600, ["durationSeconds"] = 600 }));
        server.WaitForLog("server listening", UpTimeout);
        var clientNs = lab.AddHost(1);
        var guesser = lab.StartGateway("guesser", clientNs, NetnsLab.ClientConfig(password: "wrong-password", redialSeconds: 0.5, ppp: Ppp()));
        server.WaitForLog("locked out", TimeSpan.FromSeconds(120));
        var failures = server.CountLog("authentication failed for user 'demo'");
        Assert.True(failures == Failures, $"{failures} failures logged before the lockout, expected {Failures}; server log:\n{server.Log}");
        Assert.Equal(0, guesser.CountLog("tunnel up"));
        guesser.Terminate();
        Assert.True(guesser.WaitForExit(TimeSpan.FromSeconds(5)));
        output.WriteLine($"locked out after {clock.Elapsed.TotalSeconds:0.0} s");

        var mark = server.LogMark;
        var rightful = lab.StartGateway("rightful", clientNs, NetnsLab.ClientConfig(ppp: Ppp()));
        // It must try (and be refused) at least twice, and never come up.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20) && rightful.CountLog("redialing") < 2)
        {
            Thread.Sleep(200);
        }
        Assert.True(rightful.CountLog("redialing") >= 2, $"the right password was not tried twice; log:\n{rightful.Log}");
        Assert.Equal(0, rightful.CountLog("tunnel up"));
        Assert.Equal(0, server.CountLog("session up"));
        server.WaitForLog("locked out", TimeSpan.FromSeconds(1), mark);
        output.WriteLine($"took {clock.Elapsed.TotalSeconds:0.0} s");
    }
}
