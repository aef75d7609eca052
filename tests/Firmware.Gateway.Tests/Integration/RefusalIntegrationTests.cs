using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// A server that will not serve a connection says why in the Start-Control-Connection-Reply (RFC 2637's result
/// and error codes) before it closes, and our client turns the codes into words: the person at the client sees
/// "server full" or "locked out", not "peer closed the connection".
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class RefusalIntegrationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_full_server_answers_general_error_no_resources_and_the_client_says_so()
    {
        using var lab = new NetnsLab();
        var (_, server, _) = lab.StartPair(NetnsLab.ServerConfig(server: s =>
        {
            s["maxSessions"] = 1;
            ((JsonArray)s["users"]!).Add(new JsonObject { ["name"] = "other", ["password"] = "other-password" });
        }));

        var secondNs = lab.AddHost(2);
        var second = lab.StartGateway("second", secondNs, NetnsLab.ClientConfig(user: "other", password: "other-password"));
        var said = second.WaitForLog("the server refused the control connection", UpTimeout);
        output.WriteLine(said);
        Assert.Contains("general error, no resources", said, StringComparison.Ordinal);
        var logged = server.WaitForLog("server is full (1 sessions)", TimeSpan.FromSeconds(5));
        output.WriteLine(logged);
        Assert.Contains("answering Start-Control-Connection-Reply 'general error: no resources'", logged, StringComparison.Ordinal);
        Assert.Single(server.Sessions());
        Assert.Equal(0, second.CountLog("tunnel up"));
    }

    [Fact]
    public void A_locked_out_source_is_told_it_is_not_authorized()
    {
        using var lab = new NetnsLab();
        static JsonObject Ppp() => new() { ["restartTimerSeconds"] = 1 };
        var server = lab.StartGateway("server", lab.ServerNamespace, NetnsLab.ServerConfig(ppp: Ppp(), server: s =>
            s["lockout"] = new JsonObject { ["failures"] = 2, ["windowSeconds"] = 600, ["durationSeconds"] = 600 }));
        server.WaitForLog("server listening", UpTimeout);
        var guesserNs = lab.AddHost(1);
        var guesser = lab.StartGateway("guesser", guesserNs,
            NetnsLab.ClientConfig(password: "wrong", redialSeconds: 0.5, ppp: Ppp()));
        server.WaitForLog("locked out", TimeSpan.FromSeconds(60));

        var said = guesser.WaitForLog("the server refused the control connection", UpTimeout);
        output.WriteLine(said);
        Assert.Contains("not authorized (this address may be locked out after failed logins)", said, StringComparison.Ordinal);
        Assert.Contains("answering Start-Control-Connection-Reply 'not authorized'",
            server.WaitForLog("source locked out", TimeSpan.FromSeconds(5)), StringComparison.Ordinal);
    }
}
