using System.Net;
using System.Text.Json.Nodes;
using Firmware.Gateway.Runtime;
using Firmware.Gateway.Tests.Integration;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.InProcess;

/// <summary>
/// The server gateway checking logins with Debian's FreeRADIUS (the judge), our client gateway dialling it: the
/// two gateways in this process as in <see cref="InProcessTunnelTests"/>, FreeRADIUS on 127.0.0.1. The server's
/// own user "demo" has another password than FreeRADIUS's, so a login that works with "radius-password" was
/// judged by RADIUS, and an MPPE tunnel that carries a ping used the keys FreeRADIUS sent.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RadiusLoginTests(ITestOutputHelper output)
{
    internal const string RadiusPassword = "radius-password";
    private static readonly IPAddress FramedAddress = IPAddress.Parse("10.77.0.99");
    private static readonly TimeSpan PacketTimeout = TimeSpan.FromMilliseconds(GatewayPair.Timeout);

    internal const string Users = """
        demo	Cleartext-Password := "radius-password"
        	Framed-IP-Address = 10.77.0.99,
        	Class = "branch-7"
        brief	Cleartext-Password := "radius-password"
        	Session-Timeout = 2
        quiet	Cleartext-Password := "radius-password"
        	Idle-Timeout = 2
        weak	Cleartext-Password := "radius-password"
        	MS-MPPE-Encryption-Types := 2
        """;

    [Fact]
    public async Task An_ms_chap_v2_login_checked_by_freeradius_brings_MPPE_up_with_its_keys_on_its_framed_address()
    {
        using var radius = FreeRadiusServer.Start(Users, output);
        await using var pair = GatewayPair.StartUp(output, Password(RadiusPassword), Radius(radius.EndPoint));

        Assert.Equal("MPPE-128 stateless", pair.ClientSession.EncryptionDescription);
        Assert.Equal(FramedAddress, pair.ClientSession.Negotiated!.LocalAddress);
        Ping(pair);
        Assert.Contains("accepted by RADIUS 127.0.0.1", pair.ServerLog, StringComparison.Ordinal);
        var counters = pair.ServerGateway.Snapshot().Counters;
        Assert.Equal((1, 1, 0), (counters["radiusRequests"], counters["radiusAccepts"], counters["radiusRejects"]));
    }

    [Theory]
    [InlineData("pap")]
    [InlineData("chap")]
    [InlineData("mschap")]
    public async Task Pap_chap_and_ms_chap_logins_are_checked_by_freeradius(string method)
    {
        using var radius = FreeRadiusServer.Start(Users, output);
        // MS-CHAP (v1) gives MPPE keys (FreeRADIUS's MS-CHAP-MPPE-Keys); PAP and CHAP give none, so MPPE is off for them.
        var mppe = method == "mschap";
        await using var pair = GatewayPair.StartUp(output,
            client => { Password(RadiusPassword)(client); Methods(client, method, mppe); },
            server => { Radius(radius.EndPoint)(server); Methods(server, method, mppe); });

        Assert.Equal(mppe ? "MPPE-128 stateless" : "unencrypted", pair.ClientSession.EncryptionDescription?.Split(':')[0]);
        Ping(pair);
        Assert.Contains("accepted by RADIUS 127.0.0.1", pair.ServerLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_password_is_rejected_by_freeradius_and_the_client_hears_E_691()
    {
        using var radius = FreeRadiusServer.Start(Users, output);
        await using var pair = GatewayPair.Start(output, Password("not-the-password"), Radius(radius.EndPoint));

        GatewayPair.WaitUntil(() => pair.ClientRuntime.LastError?.Contains("E=691", StringComparison.Ordinal) == true, "the client's E=691");
        GatewayPair.WaitUntil(() => pair.ServerLog.Contains("rejected user 'demo'", StringComparison.Ordinal), "the server's log of the reject");
        Assert.DoesNotContain(pair.ServerGateway.AllSessions, s => s.State == TunnelState.Up);
    }

    [Fact]
    public async Task A_dead_primary_fails_over_to_the_second_server_and_is_tried_last_after_that()
    {
        using var radius = FreeRadiusServer.Start(Users, output);
        var dead = new IPEndPoint(IPAddress.Loopback, FreeRadiusServer.FreeUdpPort());
        await using var pair = GatewayPair.StartUp(output, Password(RadiusPassword), Radius(dead, radius.EndPoint));

        Assert.Contains($"RADIUS server {dead} did not answer", pair.ServerLog, StringComparison.Ordinal);
        Assert.Contains("accepted by RADIUS 127.0.0.1", pair.ServerLog, StringComparison.Ordinal);
        var first = pair.ServerGateway.RadiusCounters!.Value;
        Assert.Equal((1, 1, 0), (first.Accepts, first.Failovers, first.NoAnswer));

        // The next login asks the live server first: no second failover, no wait for the dead one.
        pair.ServerSession.RequestClose("test: log in again");
        GatewayPair.WaitUntil(() => pair.ServerGateway.RadiusCounters!.Value.Accepts == 2, "the second login");
        pair.WaitUntilUp();
        var second = pair.ServerGateway.RadiusCounters!.Value;
        Assert.Equal((2, 1, 0), (second.Accepts, second.Failovers, second.NoAnswer));
    }

    [Fact]
    public async Task A_server_that_comes_back_is_found_by_status_server_before_a_login_needs_it()
    {
        using var second = FreeRadiusServer.Start(Users, output);
        var port = FreeRadiusServer.FreeUdpPortPair();
        var primary = new IPEndPoint(IPAddress.Loopback, port);
        await using var pair = GatewayPair.StartUp(output, Password(RadiusPassword), Radius(primary, second.EndPoint));
        Assert.Contains($"RADIUS server {primary} did not answer", pair.ServerLog, StringComparison.Ordinal);

        // The primary comes up; no login happens, yet a Status-Server finds it within a probe interval.
        using var first = FreeRadiusServer.Start(Users, output, port: port);
        GatewayPair.WaitUntil(() => pair.ServerLog.Contains($"RADIUS server {primary} answers again", StringComparison.Ordinal), "the Status-Server answer");
        Assert.Contains("Status-Server", first.Output, StringComparison.Ordinal);

        // The next login goes to the primary at once: no second failover.
        pair.ServerSession.RequestClose("test: log in again");
        GatewayPair.WaitUntil(() => pair.ServerGateway.RadiusCounters!.Value.Accepts == 2, "the second login");
        Assert.Equal(1, pair.ServerGateway.RadiusCounters!.Value.Failovers);
        GatewayPair.WaitUntil(() => first.Output.Contains("Access-Request", StringComparison.Ordinal), "the primary's Access-Request");
    }

    [Theory]
    [InlineData("[40, 128]", "MPPE-40")]
    [InlineData("[128]", null)]
    public async Task MS_MPPE_Encryption_Types_narrow_the_sessions_MPPE_and_never_widen_it(string serverKeyLengths, string? expected)
    {
        using var radius = FreeRadiusServer.Start(Users, output);
        // The client takes either; FreeRADIUS allows "weak" 40-bit MPPE only: RFC 2548's 0x2 (its dictionary calls 1
        // "RC4-40bit-Allowed", against the RFC). Its mschap module adds its own Types (6) after ours: the first is read.
        var client = (Action<JsonObject>)(c =>
        {
            Password(RadiusPassword)(c);
            c["user"] = "weak";
            c["mppe"] = new JsonObject { ["required"] = true, ["keyLengths"] = new JsonArray(40, 128) };
        });
        var server = (Action<JsonObject>)(s =>
        {
            Radius(radius.EndPoint)(s);
            s["mppe"] = new JsonObject { ["required"] = true, ["keyLengths"] = JsonNode.Parse(serverKeyLengths) };
        });
        if (expected is not null)
        {
            await using var pair = GatewayPair.StartUp(output, client, server);
            Assert.StartsWith(expected, pair.ServerSession.EncryptionDescription, StringComparison.Ordinal);
            Ping(pair);
            return;
        }
        await using var refused = GatewayPair.Start(output, client, server);
        GatewayPair.WaitUntil(() => refused.ServerLog.Contains("the RADIUS server allows only 40-bit MPPE and this server only 128-bit", StringComparison.Ordinal),
            "the server's reason");
        Assert.NotEqual(ClientPhase.Up, refused.ClientRuntime.Phase);
    }

    [Fact]
    public async Task Session_timeout_from_freeradius_ends_the_session()
    {
        using var radius = FreeRadiusServer.Start(Users, output);
        await using var pair = GatewayPair.StartUp(output, client => { Password(RadiusPassword)(client); client["user"] = "brief"; }, Radius(radius.EndPoint));

        GatewayPair.WaitUntil(() => pair.ServerLog.Contains("session timeout from RADIUS (2 s)", StringComparison.Ordinal), "the session timeout");
        GatewayPair.WaitUntil(() => pair.ClientRuntime.Phase != ClientPhase.Up, "the client's tunnel down");
    }

    [Fact]
    public async Task With_no_server_answering_a_login_fails_and_says_why()
    {
        var dead = new IPEndPoint(IPAddress.Loopback, FreeRadiusServer.FreeUdpPort());
        // One failure would lock the account and the source, but an outage is nobody's failed login.
        await using var pair = GatewayPair.Start(output, Password("demo-password"), server =>
        {
            Radius(dead)(server);
            server["lockout"] = new JsonObject { ["failures"] = 1 };
        });

        GatewayPair.WaitUntil(() => pair.ServerLog.Contains($"no RADIUS server answered ({dead})", StringComparison.Ordinal), "the server's reason");
        GatewayPair.WaitUntil(() => pair.ClientRuntime.LastError?.Contains("E=691", StringComparison.Ordinal) == true, "the client's failure");
        Assert.NotEqual(ClientPhase.Up, pair.ClientRuntime.Phase);
        Assert.DoesNotContain("locked out", pair.ServerLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_no_server_answering_and_fallback_on_the_configured_users_judge()
    {
        var dead = new IPEndPoint(IPAddress.Loopback, FreeRadiusServer.FreeUdpPort());
        await using var pair = GatewayPair.StartUp(output, Password("demo-password"), server =>
        {
            Radius(dead)(server);
            ((JsonObject)server["radius"]!)["fallbackToLocal"] = true;
        });

        Assert.Contains("checked against the configured users instead", pair.ServerLog, StringComparison.Ordinal);
        Ping(pair);
    }

    [Fact]
    public async Task Answers_without_a_message_authenticator_are_refused()
    {
        // Debian 12's FreeRADIUS signs nothing unless told to: the BlastRADIUS hole our client closes.
        using var radius = FreeRadiusServer.Start(Users, output, messageAuthenticator: false);
        await using var pair = GatewayPair.Start(output, Password(RadiusPassword), Radius(radius.EndPoint));

        GatewayPair.WaitUntil(() => pair.ServerLog.Contains("answer(s) refused (MissingMessageAuthenticator)", StringComparison.Ordinal), "the refusal");
        Assert.True(pair.ServerGateway.RadiusCounters!.Value.RefusedAnswers >= 1);
        Assert.NotEqual(ClientPhase.Up, pair.ClientRuntime.Phase);
    }

    internal static void Ping(GatewayPair pair, ushort sequence = 1)
    {
        var negotiated = pair.ClientSession.Negotiated!;
        var request = IpPackets.Echo(negotiated.LocalAddress!, negotiated.PeerAddress!, type: 8, identifier: 9, sequence: sequence);
        Assert.True(pair.ClientTunDevice.InjectFromKernel(request));
        Assert.True(pair.ServerTunDevice.TryTakeDelivered(PacketTimeout, out var arrived), "the echo request reached the server's TUN");
        Assert.Equal(request, arrived);
        var reply = IpPackets.Echo(negotiated.PeerAddress!, negotiated.LocalAddress!, type: 0, identifier: 9, sequence: sequence);
        Assert.True(pair.ServerTunDevice.InjectFromKernel(reply));
        Assert.True(pair.ClientTunDevice.TryTakeDelivered(PacketTimeout, out var answered), "the echo reply reached the client's TUN");
        Assert.Equal(reply, answered);
    }

    internal static Action<JsonObject> Password(string password) => client => client["password"] = password;

    private static void Methods(JsonObject section, string method, bool mppeRequired)
    {
        section["authMethods"] = new JsonArray(method);
        section["mppe"] = new JsonObject { ["required"] = mppeRequired };
    }

    internal static Action<JsonObject> Radius(params IPEndPoint[] servers) => server =>
    {
        var list = new JsonArray();
        foreach (var endPoint in servers)
        {
            list.Add(new JsonObject
            {
                ["address"] = endPoint.Address.ToString(),
                ["port"] = endPoint.Port,
                ["accountingPort"] = endPoint.Port + 1, // FreeRadiusServer's convention
                ["secret"] = FreeRadiusServer.DefaultSecret,
            });
        }
        server["radius"] = new JsonObject { ["servers"] = list, ["timeoutSeconds"] = 1, ["attempts"] = 2 };
    };
}
