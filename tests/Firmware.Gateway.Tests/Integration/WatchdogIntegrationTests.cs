using System.Globalization;
using Firmware.Gateway.Tests.Runtime;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// The published binary under a stand-in for systemd: $NOTIFY_SOCKET and $WATCHDOG_USEC set as a
/// Type=notify unit with WatchdogSec= sets them. It says READY=1, pings while its loops answer (server
/// accept loop, GRE loop and a live tunnel's loop), and a stopped process sends nothing.
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class WatchdogIntegrationTests
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Ready_then_pings_while_healthy_and_none_while_stopped()
    {
        using var lab = new NetnsLab();
        using var systemd = new FakeNotifySocket();
        var binary = RepoPaths.PublishedBinary("linux-x64");
        // WatchdogSec=2: a ping every second.
        string[] launcher = ["env", $"NOTIFY_SOCKET={systemd.Path}", "WATCHDOG_USEC=2000000", binary];
        var server = lab.StartGateway("server", lab.ServerNamespace, NetnsLab.ServerConfig(), launcher);
        var ready = systemd.WaitFor("READY=1", UpTimeout);
        Assert.Contains("STATUS=server: 0 session(s) up; clients: 0 of 0 up", ready, StringComparison.Ordinal);
        server.WaitForLog("server listening", UpTimeout);

        var client = lab.StartGateway("client", lab.AddHost(1), NetnsLab.ClientConfig());
        client.WaitForLog("tunnel up", UpTimeout);
        server.WaitForLog("session up", UpTimeout);
        // With a tunnel, its loop is probed too, and the status says so.
        systemd.WaitFor("WATCHDOG=1\nSTATUS=server: 1 session(s) up", TimeSpan.FromSeconds(5));
        systemd.WaitFor("WATCHDOG=1", TimeSpan.FromSeconds(3));

        var pid = server.ProcessId.ToString(CultureInfo.InvariantCulture);
        Assert.Equal(0, ProcessRunner.Run("kill", ["-STOP", pid]).ExitCode);
        try
        {
            systemd.Drain();
            // Two watchdog intervals without a word: systemd would have restarted it.
            Assert.Null(systemd.Receive(TimeSpan.FromSeconds(4)));
        }
        finally
        {
            ProcessRunner.Run("kill", ["-CONT", pid]);
        }
        systemd.WaitFor("WATCHDOG=1", TimeSpan.FromSeconds(5));
        Assert.DoesNotContain("watchdog:", server.Log, StringComparison.Ordinal);

        server.Terminate();
        systemd.WaitFor("STOPPING=1", TimeSpan.FromSeconds(10));
        Assert.True(server.WaitForExit(TimeSpan.FromSeconds(10)), server.Log);
    }
}
