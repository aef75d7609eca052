using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// The most frequent PPTP problem in the field: TCP 1723 gets through, GRE (IP protocol 47) does not. A firewall
/// between the two namespaces drops GRE both ways; both ends must name that, not just "LCP timed out".
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class GreBlockedIntegrationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void GRE_dropped_by_a_firewall_is_named_in_the_log_status_and_status_file_on_both_ends()
    {
        using var lab = new NetnsLab();
        static JsonObject Ppp() => new() { ["restartTimerSeconds"] = 1 };
        var server = lab.StartGateway("server", lab.ServerNamespace, NetnsLab.ServerConfig(ppp: Ppp()));
        server.WaitForLog("server listening", UpTimeout);
        // The firewall: TCP passes, GRE is dropped in and out of the server's namespace.
        foreach (var rule in new[]
        {
            "add table inet greblock",
            "add chain inet greblock in { type filter hook input priority -10; }",
            "add chain inet greblock out { type filter hook output priority -10; }",
            "add rule inet greblock in meta l4proto gre drop",
            "add rule inet greblock out meta l4proto gre drop",
        })
        {
            var nft = NetnsLab.Exec(lab.ServerNamespace, TimeSpan.FromSeconds(10), ["nft", .. rule.Split(' ')]);
            Assert.True(nft.ExitCode == 0, $"nft {rule}: {nft.Stderr}");
        }

        var clientNs = lab.AddHost(1);
        var client = lab.StartGateway("client", clientNs, NetnsLab.ClientConfig(ppp: Ppp()));
        var clientSaid = client.WaitForLog("no GRE (IP protocol 47) from 198.51.100.1", UpTimeout);
        var serverSaid = server.WaitForLog("no GRE (IP protocol 47) from 198.51.100.11", UpTimeout);
        output.WriteLine(clientSaid);
        output.WriteLine(serverSaid);
        Assert.Contains("a firewall or a NAT without PPTP pass-through", clientSaid, StringComparison.Ordinal);

        var sessions = client.WaitForSessions(s => s.Count == 1 && s[0].GetProperty("state").GetString() == "greblocked",
            TimeSpan.FromSeconds(10), "the client's status to say GRE is blocked");
        Assert.Contains("no GRE", sessions[0].GetProperty("lastError").GetString(), StringComparison.Ordinal);
        server.WaitForCounter("greBlockedCalls", n => n >= 1, TimeSpan.FromSeconds(10), "the server to count the GRE-blocked call");
        var statusFile = Path.Combine(client.Directory, "pptp-gateway.status.txt");
        Configuration.ConfigTestSupport.WaitUntil(() => File.Exists(statusFile) && File.ReadAllText(statusFile).Contains("greblocked (no GRE (IP protocol 47)", StringComparison.Ordinal),
            "the client's status file to name the blocked GRE", timeoutMs: 10_000);
        Assert.Equal(0, client.CountLog("tunnel up"));

        // The firewall opens: the next dial comes up and the diagnosis clears.
        Assert.Equal(0, NetnsLab.Exec(lab.ServerNamespace, TimeSpan.FromSeconds(10), "nft", "delete", "table", "inet", "greblock").ExitCode);
        client.WaitForLog("tunnel up", TimeSpan.FromSeconds(90));
        client.WaitForSessions(s => s.Count == 1 && s[0].GetProperty("state").GetString() == "up", TimeSpan.FromSeconds(10), "the tunnel up");
    }
}
