using System.Text.Json.Nodes;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// The running binary's buttons and LEDs through the console board driver: a "press" arrives over the control
/// socket exactly as a GPIO edge would reach the gesture detector, and the LED changes are printed.
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class BoardIntegrationTests
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Button_one_disconnects_and_reconnects_the_client_and_the_tunnel_led_follows()
    {
        using var lab = new NetnsLab();
        var server = lab.StartGateway("server", lab.ServerNamespace, NetnsLab.ServerConfig());
        server.WaitForLog("server listening", UpTimeout);
        var clientNs = lab.AddHost(1);
        var config = NetnsLab.ClientConfig();
        config["board"] = new JsonObject { ["driver"] = "console", ["selfTest"] = false };
        var client = lab.StartGateway("client", clientNs, config);
        client.WaitForLog("tunnel up", UpTimeout);
        client.WaitForLog("[led] tunnel: on", TimeSpan.FromSeconds(5));

        var mark = client.LogMark;
        Press(client, clientNs);
        client.WaitForLog("button: ToggleClients", TimeSpan.FromSeconds(5), mark);
        client.WaitForLog("tunnel closed: disconnected by the user", TimeSpan.FromSeconds(10), mark);
        client.WaitForLog("[led] tunnel: off", TimeSpan.FromSeconds(5), mark);
        // The LED goes off as the tunnel closes; the client's loop marks itself disabled just after.
        client.WaitForSessions(s => s.Count == 1 && s[0].GetProperty("state").GetString() == "disabled", TimeSpan.FromSeconds(10),
            "the client disabled");
        server.WaitForSessions(s => s.Count == 0, TimeSpan.FromSeconds(10), "the server to see the tunnel closed");

        mark = client.LogMark;
        Press(client, clientNs);
        client.WaitForLog("tunnel up", UpTimeout, mark);
        client.WaitForLog("[led] tunnel: on", TimeSpan.FromSeconds(5), mark);
        NetnsLab.AssertPingWithin(clientNs, NetnsLab.ServerTunnelAddress, TimeSpan.FromSeconds(10));
    }

    private static void Press(GatewayProcess gateway, string netns)
    {
        var press = NetnsLab.Exec(netns, TimeSpan.FromSeconds(10), RepoPaths.PublishedBinary("linux-x64"), "button", "click button1",
            "--run-dir", gateway.RunDirectory);
        Assert.True(press.ExitCode == 0, $"button: {press.Stdout}{press.Stderr}");
    }
}
