using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Firmware.Gateway.Configuration;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// The published binary when the box itself fails under it (issue 13, "bad input and faults"): a full card, a
/// read-only card, a boot partition that is mounted late, a power cut between a file's write and its rename, and
/// TUN interfaces the box cannot create. Each time: a clear log line, the LEDs and status code in `status`, and
/// the gateway runs on what it has and catches up by itself once the fault is gone. The card is a tmpfs mounted
/// by the test on a shared mount point, so the gateway's mount namespace (`ip netns exec` makes its mounts slaves
/// of ours) sees a mount made after it started, as on a system where systemd makes every mount shared.
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class CardFaultIntegrationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(30);

    // The service looks at a faulty card again every 10 s (ConfigServiceOptions.CardRetry), the server at its
    // interface every 10 s: two looks and a margin.
    private static readonly TimeSpan CatchUp = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_full_then_read_only_card_loses_nothing_and_the_status_file_catches_up()
    {
        using var lab = new NetnsLab();
        var card = lab.Folder("card");
        using var mount = Tmpfs.Mount(card, "1m");
        var statusPath = Path.Combine(card, StatusFileWriter.FileName);
        var server = lab.StartGateway("server", lab.ServerNamespace, NetnsLab.ServerConfig(), card: card);
        server.WaitForLog("server listening", UpTimeout);
        WaitFor(() => Read(statusPath).Contains("Result: accepted", StringComparison.Ordinal), "the first status file", UpTimeout);
        var first = Read(statusPath);

        // Full: a client dialling in changes the state, and the new status cannot be written.
        Fill(card);
        var mark = server.LogMark;
        var clientNs = lab.AddHost(1);
        var client = lab.StartGateway("client", clientNs, NetnsLab.ClientConfig());
        client.WaitForLog("tunnel up", UpTimeout);
        var line = server.WaitForLog("Cannot write the status file", UpTimeout, mark);
        output.WriteLine(line);
        Assert.Contains("No space left on device", line, StringComparison.Ordinal);
        AssertCard(server, "unwritable");
        // Nothing lost: the status file on the card is the last whole one, no half-written file beside it, the tunnel carries.
        Assert.Equal(first, Read(statusPath));
        Assert.Empty(Directory.GetFiles(card, "*.tmp"));
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));

        // Room again: the card shows the truth without any other event.
        File.Delete(Path.Combine(card, "filler"));
        WaitFor(() => Read(statusPath).Contains("<-> 10.77.0.10", StringComparison.Ordinal), "the status file with the session", CatchUp);
        server.WaitForLog("is written again", TimeSpan.FromSeconds(5), mark);
        AssertCard(server, "ok");

        // Read-only: the client leaves, the status cannot say so until the card is writable again.
        mark = server.LogMark;
        mount.Remount("ro");
        client.Terminate();
        Assert.True(client.WaitForExit(TimeSpan.FromSeconds(10)));
        line = server.WaitForLog("Cannot write the status file", UpTimeout, mark);
        output.WriteLine(line);
        Assert.Contains("Read-only file system", line, StringComparison.Ordinal);
        AssertCard(server, "unwritable");
        Assert.Contains("<-> 10.77.0.10", Read(statusPath), StringComparison.Ordinal);
        mount.Remount("rw");
        WaitFor(() => Read(statusPath).Contains("  no tunnels", StringComparison.Ordinal), "the status file without the session", CatchUp);
        AssertCard(server, "ok");
        Assert.False(server.HasExited);
    }

    [Fact]
    public void A_boot_partition_mounted_late_is_loaded_and_until_then_last_good_runs()
    {
        using var lab = new NetnsLab();
        var card = lab.Folder("card");
        using var mountPoint = Tmpfs.SharedMountPoint(card);
        var first = lab.StartGateway("server", lab.ServerNamespace, NetnsLab.ServerConfig(), card: card);
        first.WaitForLog("server listening", UpTimeout);
        var lastGood = Path.Combine(lab.GatewayDirectory("server"), "state", "last-good.json");
        WaitFor(() => File.Exists(lastGood), "last-good saved", UpTimeout);
        first.Terminate();
        Assert.True(first.WaitForExit(TimeSpan.FromSeconds(10)));

        // Power on with the boot partition not mounted: its mount point is an empty folder.
        foreach (var file in Directory.GetFiles(card))
        {
            File.Delete(file);
        }
        var server = lab.StartGateway("server", lab.ServerNamespace, null, card: card);
        output.WriteLine(server.WaitForLog("is missing: is the card's boot partition mounted?", UpTimeout));
        server.WaitForLog("Falling back to the last good configuration", UpTimeout);
        server.WaitForLog("server listening", UpTimeout);
        var status = AssertCard(server, "missing");
        Assert.Equal("blink code 3", status.GetProperty("leds").GetProperty("tunnel").GetString());
        Assert.Contains("last-good", status.GetProperty("configState").GetString(), StringComparison.Ordinal);
        var clientNs = lab.AddHost(1);
        lab.StartGateway("client", clientNs, NetnsLab.ClientConfig()).WaitForLog("tunnel up", UpTimeout);

        // The partition arrives late, with a changed file: no file event reaches the folder watched until now.
        var mark = server.LogMark;
        using var mount = Tmpfs.Mount(card, "4m");
        var changed = NetnsLab.ServerConfig(server: s => ((JsonArray)s["users"]!).Add(new JsonObject { ["name"] = "late", ["password"] = "late-password" }));
        File.WriteAllText(Path.Combine(card, "pptp-gateway.json"), changed.ToJsonString());
        server.WaitForLog("can be read again (it was Missing)", CatchUp, mark);
        server.WaitForLog("applied from File: users +late", TimeSpan.FromSeconds(10), mark);
        status = AssertCard(server, "ok");
        Assert.Equal("loaded from the card", status.GetProperty("configState").GetString());
        WaitFor(() => Read(Path.Combine(card, StatusFileWriter.FileName)).Contains("2 enabled users", StringComparison.Ordinal),
            "the status file on the mounted card", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_power_cut_between_write_and_rename_leaves_whole_files_and_the_next_start_tidies_up()
    {
        using var lab = new NetnsLab();
        var card = lab.Folder("card");
        var statusPath = Path.Combine(card, StatusFileWriter.FileName);
        var state = Path.Combine(lab.GatewayDirectory("server"), "state");
        var lastGood = Path.Combine(state, "last-good.json");
        var one = NetnsLab.ServerConfig();
        var two = NetnsLab.ServerConfig(server: s => ((JsonArray)s["users"]!).Add(new JsonObject { ["name"] = "bob", ["password"] = "bob-password" }));

        var first = lab.StartGateway("server", lab.ServerNamespace, one, card: card);
        first.WaitForLog("server listening", UpTimeout);
        WaitFor(() => File.Exists(lastGood) && Read(statusPath).Contains("1 enabled user,", StringComparison.Ordinal), "last-good and status", UpTimeout);
        first.Terminate();
        Assert.True(first.WaitForExit(TimeSpan.FromSeconds(10)));

        // The power goes the moment the new status file is written in full and about to be renamed into place.
        // A run's first rename is the status file's (at load, before anything else is written).
        var cut = lab.StartGateway("server", lab.ServerNamespace, two, KilledAtRename(1), card: card);
        Assert.True(cut.WaitForExit(UpTimeout), "the gateway under strace was not killed at the status file's rename");
        var leftover = Assert.Single(Directory.GetFiles(card, ".pptp-gateway.status.txt.*.tmp"));
        Assert.Contains("2 enabled users", File.ReadAllText(leftover), StringComparison.Ordinal);
        Assert.Contains("1 enabled user,", Read(statusPath), StringComparison.Ordinal);
        Assert.StartsWith(StatusFileWriter.Header, Read(statusPath), StringComparison.Ordinal);

        // Again, now as last-good is saved (the second rename: after the status file, once the server has started):
        // the old copy stays whole.
        cut = lab.StartGateway("server", lab.ServerNamespace, null, KilledAtRename(2), card: card);
        Assert.True(cut.WaitForExit(UpTimeout), "the gateway under strace was not killed at last-good's rename");
        cut.WaitForLog("Removed " + leftover, TimeSpan.FromSeconds(10));
        var lastGoodLeftover = Assert.Single(Directory.GetFiles(state, ".last-good.json.*.tmp"));
        Assert.Contains("bob", File.ReadAllText(lastGoodLeftover), StringComparison.Ordinal);
        Assert.DoesNotContain("bob", File.ReadAllText(lastGood), StringComparison.Ordinal);

        // A broken file on the next start: the last good copy runs, whole, and nothing half-written is left anywhere.
        File.WriteAllText(Path.Combine(card, "pptp-gateway.json"), "{ \"server\": { \"enabled\": tru } }");
        var next = lab.StartGateway("server", lab.ServerNamespace, null, card: card);
        next.WaitForLog("Removed " + lastGoodLeftover, UpTimeout);
        next.WaitForLog("Falling back to the last good configuration", UpTimeout);
        next.WaitForLog("server listening", UpTimeout);
        WaitFor(() => Read(statusPath).Contains("line 1", StringComparison.Ordinal) && Read(statusPath).Contains("1 enabled user,", StringComparison.Ordinal),
            "the status file naming the error, running last-good", UpTimeout);
        Assert.Empty(Directory.GetFiles(card, "*.tmp"));
        Assert.Empty(Directory.GetFiles(state, "*.tmp"));
    }

    [Fact]
    public void Tunnel_interfaces_that_cannot_be_created_are_said_and_retried_while_the_rest_runs()
    {
        using var lab = new NetnsLab();
        var server = lab.StartGateway("server", lab.ServerNamespace, NetnsLab.ServerConfig());
        server.WaitForLog("server listening", UpTimeout);

        // Another device holds the name the client wants for its TUN.
        var clientNs = lab.AddHost(1);
        NetnsLab.Ip("-n", clientNs, "link", "add", "pptpc0", "type", "veth", "peer", "name", "pgwhold1");
        var client = lab.StartGateway("client", clientNs, NetnsLab.ClientConfig());
        output.WriteLine(client.WaitForLog("cannot create interface pptpc0", UpTimeout));
        WaitFor(() => Status(client) is var s && s.GetProperty("sessions")[0].GetProperty("state").GetString() == "interfacefailed"
            && s.GetProperty("leds").GetProperty("tunnel").GetString() == "fast blink" && s.GetProperty("statusCode").GetInt32() == 9,
            "the client's state interfacefailed, fast blink, status code 9", TimeSpan.FromSeconds(10));
        // It places no call that it could only hang up again.
        client.WaitForLog("redialing in", TimeSpan.FromSeconds(10));
        Assert.Equal(0, server.CountLog("control connection from"));
        NetnsLab.Ip("-n", clientNs, "link", "del", "pptpc0");
        client.WaitForLog("tunnel up", CatchUp);

        // The server restarted while another device holds its TUN's name: the client's calls are refused, the
        // gateway runs on, and the server takes calls again by itself once the name is free.
        server.Terminate();
        Assert.True(server.WaitForExit(TimeSpan.FromSeconds(10)));
        NetnsLab.Ip("-n", lab.ServerNamespace, "link", "add", "pptps0", "type", "veth", "peer", "name", "pgwhold0");
        server = lab.StartGateway("server", lab.ServerNamespace, NetnsLab.ServerConfig());
        output.WriteLine(server.WaitForLog("server not taking calls: cannot create interface pptps0", UpTimeout));
        WaitFor(() => Status(server) is var s && s.GetProperty("serverError").GetString()?.Contains("cannot create interface pptps0", StringComparison.Ordinal) == true
            && s.GetProperty("leds").GetProperty("tunnel").GetString() == "fast blink" && s.GetProperty("statusCode").GetInt32() == 9,
            "the server's status: serverError, fast blink, status code 9", TimeSpan.FromSeconds(10));
        NetnsLab.Ip("-n", lab.ServerNamespace, "link", "del", "pptps0");
        server.WaitForLog("server interface pptps0 created: taking calls", CatchUp);
        server.WaitForLog("session up", CatchUp);
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));
        Assert.Equal(1, Status(server).GetProperty("statusCode").GetInt32());
        Assert.False(client.HasExited);
    }

    /// <summary>
    /// The gateway under strace, killed (SIGKILL, as a power cut) on entering its <paramref name="nth"/> rename: the
    /// temporary file is written and flushed, the rename has not happened. (strace's -P matches a rename by its
    /// source only, a temporary name not known in advance, so the rename is picked by its number; the assertions
    /// on what was left show which file it was.)
    /// </summary>
    private static string[] KilledAtRename(int nth) =>
    [
        "strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=rename,renameat,renameat2",
        "-e", $"inject=rename,renameat,renameat2:signal=KILL:when={nth}", RepoPaths.PublishedBinary("linux-x64"),
    ];

    private static JsonElement Status(GatewayProcess gateway)
    {
        var status = gateway.Status();
        return status.TryGetProperty("status", out var inner) ? inner : status;
    }

    /// <summary>The card state in `status`, with the power LED and status code that go with it.</summary>
    private static JsonElement AssertCard(GatewayProcess gateway, string card)
    {
        JsonElement status = default;
        WaitFor(() => (status = Status(gateway)).GetProperty("card").GetString() == card, $"card {card} in {gateway.Name}'s status", TimeSpan.FromSeconds(10));
        Assert.Equal(card == "ok" ? "heartbeat" : "blink code 2", status.GetProperty("leds").GetProperty("power").GetString());
        if (card != "ok")
        {
            Assert.Equal(8, status.GetProperty("statusCode").GetInt32());
        }
        return status;
    }

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds; a failing look (the control socket not up yet, a
    /// field not there yet) counts as "not yet", and the last one is reported at the deadline.</summary>
    private static void WaitFor(Func<bool> condition, string what, TimeSpan timeout)
    {
        Exception? last = null;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            try
            {
                if (condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is Xunit.Sdk.XunitException or InvalidOperationException or KeyNotFoundException or IndexOutOfRangeException)
            {
                last = e;
            }
            Thread.Sleep(200);
        }
        Assert.Fail($"timed out after {timeout.TotalSeconds:0} s waiting for {what}{(last is null ? "" : $"; last look: {last.Message}")}");
    }

    /// <summary>Fills the card to the last block.</summary>
    private static void Fill(string card)
    {
        var filler = Path.Combine(card, "filler");
        ProcessRunner.Run("dd", ["if=/dev/zero", $"of={filler}", "bs=64k"], TimeSpan.FromSeconds(30));
        Assert.True(File.Exists(filler));
        var probe = ProcessRunner.Run("sh", ["-c", $"echo x >{card}/probe"], TimeSpan.FromSeconds(5));
        Assert.True(probe.ExitCode != 0, "the card is not full");
        File.Delete(Path.Combine(card, "probe"));
    }

    /// <summary>A tmpfs mounted for one test; unmounted (lazily, so a busy one cannot stick) on dispose.</summary>
    private sealed class Tmpfs : IDisposable
    {
        private readonly string _path;

        private Tmpfs(string path) => _path = path;

        public static Tmpfs Mount(string path, string size)
        {
            Run("mount", "-t", "tmpfs", "-o", $"size={size},mode=0755", "pgw-card", path);
            Run("mount", "--make-shared", path);
            return new Tmpfs(path);
        }

        /// <summary>The folder bound onto itself and made shared, so a mount on it later reaches the gateway too.</summary>
        public static Tmpfs SharedMountPoint(string path)
        {
            Run("mount", "--bind", path, path);
            Run("mount", "--make-shared", path);
            return new Tmpfs(path);
        }

        public void Remount(string mode) => Run("mount", "-o", $"remount,{mode}", _path);

        public void Dispose() => ProcessRunner.Run("umount", ["-l", _path], TimeSpan.FromSeconds(10));

        private static void Run(string command, params string[] arguments)
        {
            var result = ProcessRunner.Run(command, arguments, TimeSpan.FromSeconds(10));
            Assert.True(result.ExitCode == 0, $"{command} {string.Join(' ', arguments)}: {result.Stderr}");
        }
    }
}
