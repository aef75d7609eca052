using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Firmware.Gateway.Runtime;
using Firmware.Gateway.Tests.Configuration;
using Firmware.Gateway.Tests.Integration;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.InProcess;

/// <summary>
/// RFC 5176 against the server gateway, with Debian's <c>radclient</c> (the judge) sending the Disconnect-Request and
/// CoA-Request: the two gateways in this process as in <see cref="RadiusLoginTests"/>, the login checked by a real
/// FreeRADIUS, the dynamic authorization port on 127.0.0.1 and a free port, radclient on the same host.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RadiusDynamicAuthorizationTests(ITestOutputHelper output)
{
    private const string CoaSecret = "coa-test-secret";

    private const string Users = """
        demo	Cleartext-Password := "radius-password"
        	Framed-IP-Address = 10.77.0.99
        """;

    [Fact]
    public async Task A_disconnect_request_from_radclient_drops_the_session_and_is_acked()
    {
        using var radius = FreeRadiusServer.Start(Users, output);
        var port = FreeRadiusServer.FreeUdpPort();
        await using var pair = GatewayPair.StartUp(output, Password, Server(radius, port));
        var closedBefore = ClosedCount(pair);

        var answer = RadClient(port, "disconnect", CoaSecret, "User-Name = \"demo\"", "Framed-IP-Address = 10.77.0.99");

        Assert.Contains("Received Disconnect-ACK", answer, StringComparison.Ordinal);
        GatewayPair.WaitUntil(() => ClosedCount(pair) > closedBefore
            && pair.ServerLog.Contains("disconnected by RADIUS (127.0.0.1)", StringComparison.Ordinal), "the session closed by RADIUS");
        Assert.Contains("RADIUS client 127.0.0.1 Disconnect-Request for user 'demo', Framed-IP-Address 10.77.0.99: 1 session closed (Acct-Session-Id ",
            pair.ServerLog, StringComparison.Ordinal);
        Assert.Contains("; Disconnect-ACK", pair.ServerLog, StringComparison.Ordinal);
        var counters = pair.ServerGateway.Snapshot().Counters;
        Assert.Equal((1, 1, 0, 1), (counters["radiusDynAuthRequests"], counters["radiusDynAuthAcks"], counters["radiusDynAuthNaks"], counters["radiusDisconnects"]));
    }

    [Fact]
    public async Task A_request_for_nobody_here_gets_a_nak_with_error_cause_503_and_every_attribute_must_match()
    {
        using var radius = FreeRadiusServer.Start(Users, output);
        var port = FreeRadiusServer.FreeUdpPort();
        await using var pair = GatewayPair.StartUp(output, Password, Server(radius, port));

        var unknown = RadClient(port, "disconnect", CoaSecret, "User-Name = \"nobody\"");
        // The user is here, but not at that address: both must match.
        var elsewhere = RadClient(port, "disconnect", CoaSecret, "User-Name = \"demo\"", "Framed-IP-Address = 10.77.0.98");

        foreach (var answer in new[] { unknown, elsewhere })
        {
            Assert.Contains("Received Disconnect-NAK", answer, StringComparison.Ordinal);
            Assert.Contains("Error-Cause = Session-Context-Not-Found", answer, StringComparison.Ordinal);
        }
        Assert.Contains("Disconnect-Request for user 'nobody': no such session; Disconnect-NAK (Error-Cause 503 SessionContextNotFound)",
            pair.ServerLog, StringComparison.Ordinal);
        Assert.Equal(TunnelState.Up, pair.ServerSession.State);
        var counters = pair.ServerGateway.Snapshot().Counters;
        Assert.Equal((2, 0, 2, 0), (counters["radiusDynAuthRequests"], counters["radiusDynAuthAcks"], counters["radiusDynAuthNaks"], counters["radiusDisconnects"]));
    }

    [Fact]
    public async Task A_request_with_the_wrong_secret_gets_no_answer_and_is_counted()
    {
        using var radius = FreeRadiusServer.Start(Users, output);
        var port = FreeRadiusServer.FreeUdpPort();
        await using var pair = GatewayPair.StartUp(output, Password, Server(radius, port));

        var answer = RadClient(port, "disconnect", "not-the-secret", "User-Name = \"demo\"");

        Assert.Contains("No reply from server", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("Received", answer, StringComparison.Ordinal);
        // radclient sent it twice (-r 2): both dropped, neither acted on.
        GatewayPair.WaitUntil(() => pair.ServerGateway.Snapshot().Counters["radiusDynAuthBadAuthenticators"] == 2, "two bad authenticators counted");
        Assert.Contains("dropped a datagram from client 127.0.0.1: it does not check out with that client's secret (BadRequestAuthenticator)",
            pair.ServerLog, StringComparison.Ordinal);
        Assert.Equal(TunnelState.Up, pair.ServerSession.State);
        Assert.Equal(0, pair.ServerGateway.Snapshot().Counters["radiusDynAuthRequests"]);
    }

    [Fact]
    public async Task A_request_from_an_address_not_in_the_clients_list_is_dropped()
    {
        using var radius = FreeRadiusServer.Start(Users, output);
        var port = FreeRadiusServer.FreeUdpPort();
        await using var pair = GatewayPair.StartUp(output, Password, Server(radius, port, client: "192.0.2.77"));

        var answer = RadClient(port, "disconnect", CoaSecret, "User-Name = \"demo\"");

        Assert.Contains("No reply from server", answer, StringComparison.Ordinal);
        GatewayPair.WaitUntil(() => pair.ServerGateway.Snapshot().Counters["radiusDynAuthUnknownClients"] == 2, "two datagrams from an unknown client counted");
        Assert.Contains("dropped a datagram from 127.0.0.1, not a configured client", pair.ServerLog, StringComparison.Ordinal);
        Assert.Equal(TunnelState.Up, pair.ServerSession.State);
    }

    [Fact]
    public async Task A_coa_with_a_session_timeout_of_2_s_is_acked_and_ends_the_session()
    {
        using var radius = FreeRadiusServer.Start(Users, output);
        var port = FreeRadiusServer.FreeUdpPort();
        await using var pair = GatewayPair.StartUp(output, Password, Server(radius, port));

        var answer = RadClient(port, "coa", CoaSecret, "User-Name = \"demo\"", "Session-Timeout = 2");

        Assert.Contains("Received CoA-ACK", answer, StringComparison.Ordinal);
        Assert.Contains("CoA-Request for user 'demo': Session-Timeout 2 s for 1 session", pair.ServerLog, StringComparison.Ordinal);
        GatewayPair.WaitUntil(() => pair.ServerLog.Contains("session timeout from RADIUS (2 s)", StringComparison.Ordinal), "the session timeout the CoA set");
        Assert.Equal(1, pair.ServerGateway.Snapshot().Counters["radiusCoaChanges"]);
    }

    [Fact]
    public async Task A_coa_with_an_idle_timeout_ends_a_quiet_session()
    {
        using var radius = FreeRadiusServer.Start(Users, output);
        var port = FreeRadiusServer.FreeUdpPort();
        await using var pair = GatewayPair.StartUp(output, Password, Server(radius, port));

        var answer = RadClient(port, "coa", CoaSecret, "User-Name = \"demo\"", "Idle-Timeout = 1");

        Assert.Contains("Received CoA-ACK", answer, StringComparison.Ordinal);
        GatewayPair.WaitUntil(() => pair.ServerLog.Contains("idle timeout from RADIUS (no traffic for 1 s)", StringComparison.Ordinal), "the idle timeout the CoA set");
    }

    [Fact]
    public async Task A_coa_asking_for_what_we_do_not_support_gets_a_coa_nak_with_error_cause_401()
    {
        using var radius = FreeRadiusServer.Start(Users, output);
        var port = FreeRadiusServer.FreeUdpPort();
        await using var pair = GatewayPair.StartUp(output, Password, Server(radius, port));

        var answer = RadClient(port, "coa", CoaSecret, "User-Name = \"demo\"", "Filter-Id = \"slow\"");

        Assert.Contains("Received CoA-NAK", answer, StringComparison.Ordinal);
        Assert.Contains("Error-Cause = Unsupported-Attribute", answer, StringComparison.Ordinal);
        Assert.Equal(TunnelState.Up, pair.ServerSession.State);
    }

    private static int ClosedCount(GatewayPair pair) => pair.ServerLog.Split("session closed: user 'demo'").Length - 1;

    /// <summary>radclient -x with one try of one second (-t 1 -r ...) and the attributes in a file; stdout and stderr together.</summary>
    private string RadClient(int port, string command, string secret, params string[] attributes)
    {
        using var directory = new TempDirectory();
        var file = Path.Combine(directory.Path, "request");
        File.WriteAllLines(file, attributes);
        var result = ProcessRunner.Run("radclient",
            ["-x", "-t", "1", "-r", "2", "-f", file, $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", command, secret],
            TimeSpan.FromSeconds(20));
        var text = result.Stdout + result.Stderr;
        output.WriteLine($"---- radclient {command} ----\n{text}");
        return text;
    }

    private static void Password(JsonObject client) => client["password"] = "radius-password";

    private static Action<JsonObject> Server(FreeRadiusServer radius, int port, string client = "127.0.0.1") => server =>
    {
        server["radius"] = new JsonObject
        {
            ["servers"] = new JsonArray(new JsonObject
            {
                ["address"] = radius.EndPoint.Address.ToString(),
                ["port"] = radius.EndPoint.Port,
                ["secret"] = FreeRadiusServer.DefaultSecret,
            }),
            ["timeoutSeconds"] = 1,
            ["dynamicAuthorization"] = new JsonObject
            {
                ["enabled"] = true,
                ["listen"] = IPAddress.Loopback.ToString(),
                ["port"] = port,
                ["clients"] = new JsonArray(new JsonObject { ["address"] = client, ["secret"] = CoaSecret }),
            },
        };
    };
}
