using System.Globalization;
using System.Text.Json.Nodes;
using Firmware.Gateway.Runtime;
using Firmware.Gateway.Status;
using Firmware.Gateway.Tests.Integration;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.InProcess;

/// <summary>
/// RADIUS accounting judged by Debian's FreeRADIUS: the server gateway logs its sessions in through FreeRADIUS
/// (as in <see cref="RadiusLoginTests"/>) and sends it Start, Interim-Update and Stop; FreeRADIUS's detail file
/// is what it understood, compared with what our status shows.
/// </summary>
[Trait("Category", "Integration")]
public sealed class RadiusAccountingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Start_interim_and_stop_reach_freeradius_with_the_session_its_class_and_the_counts_status_shows()
    {
        using var radius = FreeRadiusServer.Start(RadiusLoginTests.Users, output);
        await using var pair = GatewayPair.StartUp(output, RadiusLoginTests.Password(RadiusLoginTests.RadiusPassword), WithAccounting(radius, interimSeconds: 1));
        var id = ServerStatus(pair).AcctSessionId;
        Assert.False(string.IsNullOrEmpty(id), "status shows the session's Acct-Session-Id");

        var start = WaitForRecord(radius, id!, "Start");
        Assert.Equal("demo", start["User-Name"]);
        Assert.Equal("10.77.0.99", start["Framed-IP-Address"]);
        Assert.Equal("0x6272616e63682d37", start["Class"]); // "branch-7" from the Access-Accept, echoed
        Assert.Equal("RADIUS", start["Acct-Authentic"]);
        Assert.Equal("Virtual", start["NAS-Port-Type"]);
        Assert.Equal("Framed-User", start["Service-Type"]);
        Assert.Equal("PPP", start["Framed-Protocol"]);
        Assert.Equal("pptp-gateway", start["NAS-Identifier"]);
        Assert.Equal(pair.ServerSession.Peer.ToString(), start["Calling-Station-Id"]);
        Assert.Equal(pair.ServerSession.LocalCallId.ToString(CultureInfo.InvariantCulture), start["NAS-Port"]);
        Assert.False(start.ContainsKey("Acct-Input-Octets"), "a Start carries no usage");

        for (ushort i = 1; i <= 3; i++)
        {
            RadiusLoginTests.Ping(pair, i);
        }
        // One more packet in than out, so input and output differ (a swap of the two shows).
        var negotiated = pair.ClientSession.Negotiated!;
        Assert.True(pair.ClientTunDevice.InjectFromKernel(IpPackets.Echo(negotiated.LocalAddress!, negotiated.PeerAddress!, type: 8, identifier: 9, sequence: 99)));
        Assert.True(pair.ServerTunDevice.TryTakeDelivered(TimeSpan.FromMilliseconds(GatewayPair.Timeout), out _), "the unanswered echo reached the server");
        var counts = ServerStatus(pair);
        Assert.Equal((4, 3), (counts.PacketsReceived, counts.PacketsSent));
        // An Interim-Update (every second here) with what status shows: the only traffic was these packets.
        WaitForRecord(radius, id!, "Interim-Update", r => Matches(r, counts));

        pair.ClientRuntime.Disconnect();
        var stop = WaitForRecord(radius, id!, "Stop");
        Assert.True(Matches(stop, counts), $"the Stop's counts are status's: {string.Join(", ", stop)}");
        Assert.Equal("User-Request", stop["Acct-Terminate-Cause"]);
        Assert.True(int.Parse(stop["Acct-Session-Time"], CultureInfo.InvariantCulture) >= 1, "the session lasted over the interim");
        Assert.Equal("0", stop["Acct-Input-Gigawords"]);
        Assert.Equal("0x6272616e63682d37", stop["Class"]);
        GatewayPair.WaitUntil(() => pair.ServerGateway.Snapshot().Counters.GetValueOrDefault("radiusAccountingPending", -1) == 0, "nothing left to account");
        var counters = pair.ServerGateway.Snapshot().Counters;
        Assert.Equal(counters["radiusAccountingSent"], counters["radiusAccountingAnswered"]);
        Assert.True(counters["radiusAccountingAnswered"] >= 3, "Start, an Interim-Update and the Stop taken");
        Assert.Equal(0, counters["radiusAccountingDropped"]);
    }

    [Theory]
    [InlineData("brief", "Session-Timeout")]
    [InlineData("quiet", "Idle-Timeout")]
    [InlineData("demo", "Admin-Reset")]
    [InlineData("demo", "Admin-Reboot")]
    public async Task The_stop_says_why_the_session_ended(string user, string cause)
    {
        using var radius = FreeRadiusServer.Start(RadiusLoginTests.Users, output);
        await using var pair = GatewayPair.StartUp(output, client =>
        {
            RadiusLoginTests.Password(RadiusLoginTests.RadiusPassword)(client);
            client["user"] = user;
        }, WithAccounting(radius, interimSeconds: 0));
        var id = ServerStatus(pair).AcctSessionId!;
        WaitForRecord(radius, id, "Start");
        if (cause == "Admin-Reset")
        {
            pair.ServerSession.RequestClose("test: closed by the administrator");
        }
        else if (cause == "Admin-Reboot")
        {
            // The service stops: its sessions' Stops leave before the RADIUS client closes.
            await pair.StopAsync(serverFirst: true);
        }

        var stop = WaitForRecord(radius, id, "Stop");
        Assert.Equal(cause, stop["Acct-Terminate-Cause"]);
        Assert.DoesNotContain(radius.AccountingRecords(), r => r.GetValueOrDefault("Acct-Status-Type") == "Interim-Update");
    }

    private static Action<JsonObject> WithAccounting(FreeRadiusServer radius, int interimSeconds) => server =>
    {
        RadiusLoginTests.Radius(radius.EndPoint)(server);
        ((JsonObject)server["radius"]!)["accounting"] = new JsonObject { ["interimIntervalSeconds"] = interimSeconds };
    };

    private static SessionStatus ServerStatus(GatewayPair pair) => pair.ServerGateway.Snapshot().Sessions.Single(s => s.Role == "server");

    /// <summary>Octets and packets both ways as our status counted them (input is what the client sent us).</summary>
    private static bool Matches(IReadOnlyDictionary<string, string> record, SessionStatus status) =>
        record.GetValueOrDefault("Acct-Input-Octets") == status.BytesReceived.ToString(CultureInfo.InvariantCulture)
        && record.GetValueOrDefault("Acct-Output-Octets") == status.BytesSent.ToString(CultureInfo.InvariantCulture)
        && record.GetValueOrDefault("Acct-Input-Packets") == status.PacketsReceived.ToString(CultureInfo.InvariantCulture)
        && record.GetValueOrDefault("Acct-Output-Packets") == status.PacketsSent.ToString(CultureInfo.InvariantCulture);

    private static IReadOnlyDictionary<string, string> WaitForRecord(FreeRadiusServer radius, string sessionId, string type,
        Func<IReadOnlyDictionary<string, string>, bool>? also = null)
    {
        IReadOnlyDictionary<string, string>? found = null;
        GatewayPair.WaitUntil(() =>
        {
            found = radius.AccountingRecords().LastOrDefault(r => r.GetValueOrDefault("Acct-Session-Id") == sessionId
                && r.GetValueOrDefault("Acct-Status-Type") == type && (also is null || also(r)));
            return found is not null;
        }, $"FreeRADIUS's {type} record of session {sessionId}");
        return found!;
    }
}
