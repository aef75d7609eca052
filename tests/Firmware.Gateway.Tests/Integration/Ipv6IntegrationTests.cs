using System.Text.Json;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// IPv6 crosses the tunnel: IPv6CP agrees a link-local pair, the client's interface gets it, the server's shared
/// TUN gets its own address and a route to each client's, and pings go both ways. The status shows the pair.
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class Ipv6IntegrationTests(ITestOutputHelper output)
{
    [Fact]
    public void Link_local_ipv6_is_carried_both_ways()
    {
        using var lab = new NetnsLab();
        var (clientNs, server, _) = lab.StartPair();
        var session = server.WaitForSessions(s => s.Count == 1 && Has(s[0], "remoteIpv6"), TimeSpan.FromSeconds(30), "IPv6 up")[0];
        var serverAddress = session.GetProperty("localIpv6").GetString()!;
        var clientAddress = session.GetProperty("remoteIpv6").GetString()!;
        output.WriteLine($"server {serverAddress}, client {clientAddress}");
        Assert.StartsWith("fe80::", serverAddress, StringComparison.Ordinal);
        Assert.NotEqual(serverAddress, clientAddress);

        var route = NetnsLab.Exec(lab.ServerNamespace, TimeSpan.FromSeconds(5), "ip", "-6", "route", "show", "dev", "pptps0");
        output.WriteLine(route.Stdout);
        Assert.Contains(clientAddress, route.Stdout, StringComparison.Ordinal);

        Ping6(clientNs, $"{serverAddress}%pptpc0");
        Ping6(lab.ServerNamespace, $"{clientAddress}%pptps0");
    }

    private static bool Has(JsonElement session, string property)
        => session.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String;

    private void Ping6(string netns, string destination)
    {
        var ping = NetnsLab.Exec(netns, TimeSpan.FromSeconds(15), "ping", "-6", "-n", "-c", "3", "-i", "0.3", "-W", "3", destination);
        output.WriteLine($"{netns}: ping -6 {destination}: exit {ping.ExitCode}\n{ping.Stdout}{ping.Stderr}");
        Assert.True(ping.ExitCode == 0, $"ping -6 {destination} from {netns}:\n{ping.Stdout}{ping.Stderr}");
    }
}
