using System.Text;
using Firmware.Gateway.Configuration;
using Microsoft.Extensions.Time.Testing;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Configuration;

public class StatusFileWriterTests
{
    [Fact]
    public void Writes_header_since_and_body_with_crlf_atomically()
    {
        using var temp = new TempDirectory();
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var writer = new StatusFileWriter(temp.File(StatusFileWriter.FileName), time);
        Assert.True(writer.Write(["Result: accepted", "Running: this file"]));
        var text = File.ReadAllText(writer.StatusPath, Encoding.UTF8);
        Assert.Equal(StatusFileWriter.Header + "\r\nSince: 2025-03-01 12:00:00Z\r\nResult: accepted\r\nRunning: this file\r\n", text);
        Assert.Equal([StatusFileWriter.FileName], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void An_unchanged_outcome_does_not_rewrite_even_after_a_restart()
    {
        using var temp = new TempDirectory();
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var path = temp.File(StatusFileWriter.FileName);
        var first = new StatusFileWriter(path, time);
        Assert.True(first.Write(["Result: accepted"]));
        var stamp = File.GetLastWriteTimeUtc(path);
        var written = File.ReadAllText(path);

        time.Advance(TimeSpan.FromHours(1));
        Assert.False(first.Write(["Result: accepted"]));
        var afterReboot = new StatusFileWriter(path, time);
        Assert.False(afterReboot.Write(["Result: accepted"]));
        Assert.Equal(written, File.ReadAllText(path));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));
        Assert.Equal(0, afterReboot.WriteCount);

        Assert.True(afterReboot.Write(["Result: rejected, 1 error"]));
        Assert.Contains("Since: 2025-03-01 13:00:00Z", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public void Status_path_sits_beside_the_config()
    {
        Assert.Equal("/boot/firmware/pptp-gateway.status.txt", StatusFileWriter.PathBeside("/boot/firmware/pptp-gateway.json"));
    }
}

public class ConfigDiffTests
{
    private static GatewayConfig Bind(string json)
    {
        var result = Load(json);
        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        return result.Config!;
    }

    private const string Before = """
        { "server": { "localAddress": "172.16.0.1", "pool": ["172.16.0.10-20"],
            "users": [ { "name": "alice", "password": "a" }, { "name": "bob", "password": "b" }, { "name": "carol", "password": "c" } ] },
          "clients": [ { "name": "hq", "server": "h", "user": "u", "password": "p" }, { "name": "old", "server": "o", "user": "u", "password": "p" } ] }
        """;

    [Fact]
    public void Identical_configs_have_an_empty_diff()
    {
        var diff = ConfigDiff.Between(Bind(Before), Bind(Before));
        Assert.True(diff.IsEmpty);
        Assert.Equal("no changes", diff.ToString());
    }

    [Fact]
    public void Users_and_clients_are_compared_by_name_and_sections_by_value()
    {
        var after = """
            { "server": { "localAddress": "172.16.0.1", "pool": ["172.16.0.10-20"],
                "users": [ { "name": "alice", "password": "a" }, { "name": "carol", "password": "changed" }, { "name": "dave", "password": "d" } ] },
              "clients": [ { "name": "hq", "server": "h2", "user": "u", "password": "p" }, { "name": "new", "server": "n", "user": "u", "password": "p" } ],
              "board": { "buttons": { "button1": { "pin": 4 } } } }
            """;
        var diff = ConfigDiff.Between(Bind(Before), Bind(after));
        Assert.Equal(["dave"], diff.UsersAdded);
        Assert.Equal(["bob"], diff.UsersRemoved);
        Assert.Equal(["carol"], diff.UsersChanged);
        Assert.Equal(["new"], diff.ClientsAdded);
        Assert.Equal(["old"], diff.ClientsRemoved);
        Assert.Equal(["hq"], diff.ClientsChanged);
        Assert.False(diff.ServerChanged);
        Assert.True(diff.BoardChanged);
        Assert.False(diff.LoggingChanged || diff.PppChanged || diff.TunChanged || diff.HooksChanged || diff.ForwardingChanged);
        Assert.Equal("users +dave -bob ~carol; clients +new -old ~hq; board", diff.ToString());
        Assert.DoesNotContain("changed", diff.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Server_settings_change_is_separate_from_users()
    {
        var after = Before.Replace("\"172.16.0.10-20\"", "\"172.16.0.10-30\"", StringComparison.Ordinal)
            .Replace("\"clients\"", "\"logging\": { \"level\": \"debug\" }, \"clients\"", StringComparison.Ordinal);
        var diff = ConfigDiff.Between(Bind(Before), Bind(after));
        Assert.True(diff.ServerChanged);
        Assert.True(diff.LoggingChanged);
        Assert.Empty(diff.UsersChanged);
        Assert.Equal("server settings; logging", diff.ToString());
    }

    [Fact]
    public void Removing_the_server_removes_its_users()
    {
        var diff = ConfigDiff.Between(Bind(Before), GatewayConfig.Default);
        Assert.True(diff.ServerChanged);
        Assert.Equal(["alice", "bob", "carol"], diff.UsersRemoved);
        Assert.Equal(["hq", "old"], diff.ClientsRemoved);
    }
}
