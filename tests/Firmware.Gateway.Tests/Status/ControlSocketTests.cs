using System.Net.Sockets;
using System.Text;
using Firmware.Gateway.Status;
using Firmware.Gateway.Tests.Configuration;

namespace Firmware.Gateway.Tests.Status;

public sealed class ControlSocketTests
{
    // Every exchange has a deadline: a server that stops answering fails the test instead of hanging it.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static async Task<ControlReply> AskStatusAsync(string path)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        return await ControlSocketClient.SendAsync(path, "status", deadline.Token);
    }

    private static ControlReply StatusWithSessions(int count) => new()
    {
        Ok = true,
        Status = new GatewayStatus
        {
            Version = "test",
            StartedAt = DateTimeOffset.UnixEpoch,
            Sessions = [.. Enumerable.Range(0, count).Select(n => new SessionStatus
            {
                Name = $"session-{n}",
                Role = "server",
                State = "up",
                User = $"user{n}",
                Drops = new Dictionary<string, long>(StringComparer.Ordinal) { ["greLost"] = n },
            })],
        },
    };

    [Fact]
    public async Task A_status_of_several_megabytes_arrives_whole()
    {
        using var temp = new TempDirectory();
        var path = temp.File("control.sock");
        var reply = StatusWithSessions(10_000);
        await using var server = new ControlSocketServer(path, (_, _) => Task.FromResult(reply));
        server.Start();

        var received = await AskStatusAsync(path);

        Assert.True(received.Ok);
        Assert.Equal(10_000, received.Status!.Sessions.Count);
        Assert.Equal("session-9999", received.Status.Sessions[^1].Name);
        Assert.Equal(9999, received.Status.Sessions[^1].Drops["greLost"]);
    }

    [Fact]
    public async Task A_client_that_leaves_before_its_reply_does_not_stop_the_next_one()
    {
        using var temp = new TempDirectory();
        var path = temp.File("control.sock");
        var reply = StatusWithSessions(10_000);
        await using var server = new ControlSocketServer(path, (_, _) => Task.FromResult(reply));
        server.Start();

        // Asks, then closes at once: the server's write of a reply much larger than the socket buffer fails.
        using var deadline = new CancellationTokenSource(Deadline);
        for (var n = 0; n < 3; n++)
        {
            using var leaving = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await leaving.ConnectAsync(new UnixDomainSocketEndPoint(path), deadline.Token);
            await leaving.SendAsync(Encoding.UTF8.GetBytes("status\n"), SocketFlags.None, deadline.Token);
            leaving.Close();
        }

        var received = await AskStatusAsync(path);
        Assert.Equal(10_000, received.Status!.Sessions.Count);
    }
}
