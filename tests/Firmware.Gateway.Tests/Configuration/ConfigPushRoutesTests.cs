using System.Net;
using Firmware.Gateway.Configuration;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Configuration;

/// <summary>server.pushRoutes: the split-tunnel routes answered to Windows' DHCPINFORM.</summary>
public sealed class ConfigPushRoutesTests
{
    private static string Server(string pushRoutes) =>
        "{\n \"server\": { \"localAddress\": \"172.16.0.1\", \"pool\": [\"172.16.0.10-20\"], \"users\": [{\"name\": \"a\", \"password\": \"p\"}],\n  \"pushRoutes\": [\n   "
        + pushRoutes + "\n  ]\n }\n}";

    [Fact]
    public void Empty_by_default()
    {
        var result = Load("{ \"server\": { \"localAddress\": \"172.16.0.1\", \"pool\": [\"172.16.0.10-20\"], \"users\": [{\"name\": \"a\", \"password\": \"p\"}] } }");

        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Config!.Server!.PushRoutes);
    }

    [Fact]
    public void Prefixes_are_bound_in_order()
    {
        var result = Load(Server("\"10.1.0.0/16\", \"192.168.50.0/24\", \"0.0.0.0/0\""));

        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        Assert.Equal([IPNetwork.Parse("10.1.0.0/16"), IPNetwork.Parse("192.168.50.0/24"), IPNetwork.Parse("0.0.0.0/0")],
            result.Config!.Server!.PushRoutes);
    }

    [Theory]
    [InlineData("\"10.1.0.0\"", "server.pushRoutes[0]", "'10.1.0.0' is not an IPv4 CIDR prefix like 192.168.100.0/24")]
    [InlineData("\"10.1.2.3/16\"", "server.pushRoutes[0]", "'10.1.2.3/16' has host bits set; did you mean 10.1.0.0/16?")]
    [InlineData("\"fd00::/8\"", "server.pushRoutes[0]", "'fd00::/8' is not an IPv4 CIDR prefix like 192.168.100.0/24")]
    [InlineData("\"10.1.0.0/16\", \"10.1.0.0/16\"", "server.pushRoutes[1]", "10.1.0.0/16 is listed twice")]
    public void Bad_entries_are_errors_with_line_and_reason(string entries, string path, string message)
    {
        var result = Load(Server(entries));

        Assert.False(result.Accepted);
        var error = Single(result, path);
        Assert.Equal(4, error.Line);
        Assert.Equal(message, error.Message);
        Assert.Equal($"error: line 4, {path}: {message}", error.ToString());
    }

    [Fact]
    public void More_than_one_dhcp_option_holds_is_one_error_at_the_first_too_many()
    {
        var entries = string.Join(", ", Enumerable.Range(0, 30).Select(i => $"\"10.{i}.0.0/16\""));

        var result = Load(Server(entries));

        Assert.False(result.Accepted);
        Assert.Equal("more than 24 routes: that many fill the one DHCP option Windows reads; merge some into shorter prefixes",
            Single(result, "server.pushRoutes[24]").Message);
        Assert.Single(result.Diagnostics, d => d.Severity == ConfigSeverity.Error);
    }
}
