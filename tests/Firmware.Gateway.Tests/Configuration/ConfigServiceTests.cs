using System.Text;
using Firmware.Gateway.Configuration;
using Microsoft.Extensions.Time.Testing;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Configuration;

public sealed class ConfigServiceTests : IDisposable
{
    private const string Good = """
        {
          "server": {
            "localAddress": "192.168.100.1",
            "pool": ["192.168.100.10-192.168.100.50"],
            "users": [ { "name": "alice", "password": "TopSecretPassword1" } ]
          }
        }
        """;

    private const string GoodWithBob = """
        {
          "server": {
            "localAddress": "192.168.100.1",
            "pool": ["192.168.100.10-192.168.100.50"],
            "users": [ { "name": "alice", "password": "TopSecretPassword1" }, { "name": "bob", "ntHash": "0123456789ABCDEF0123456789ABCDEF" } ]
          }
        }
        """;

    private readonly TempDirectory _card = new();
    private readonly TempDirectory _state = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly CapturingLogger<ConfigService> _logger = new();

    public void Dispose()
    {
        _card.Dispose();
        _state.Dispose();
    }

    private string ConfigPath => _card.File("pptp-gateway.json");

    private string StatusPath => _card.File(StatusFileWriter.FileName);

    private string LastGoodPath => _state.File("lib/last-good.json");

    private ConfigService NewService(TimeProvider? time = null, bool watch = false, Func<IReadOnlyList<string>>? state = null) =>
        new(new ConfigServiceOptions(ConfigPath) { LastGoodPath = LastGoodPath, Watch = watch }, Lan, time ?? _time, _logger, state);

    private string Status => File.ReadAllText(StatusPath);

    [Fact]
    public void Boot_with_a_good_file_applies_it_saves_last_good_and_writes_status()
    {
        File.WriteAllText(ConfigPath, Good);
        using var service = NewService(state: () => ["sessions: 0"]);
        var changes = new List<ConfigChangedEventArgs>();
        service.Changed += (_, e) => changes.Add(e);

        Assert.True(service.Start().Accepted);
        Assert.Equal(ConfigSource.File, service.Source);
        Assert.Equal("alice", Assert.Single(service.Current.Server!.Users).Name);
        Assert.False(File.Exists(LastGoodPath), "last-good is written only once the gateway has started the config");
        service.ConfirmStarted(service.Current);
        Assert.Equal(File.ReadAllBytes(ConfigPath), File.ReadAllBytes(LastGoodPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(LastGoodPath));
        var change = Assert.Single(changes);
        Assert.Same(GatewayConfig.Default, change.OldConfig);
        Assert.Equal(["alice"], change.Diff.UsersAdded);

        Assert.Contains("Config file: " + ConfigPath, Status, StringComparison.Ordinal);
        Assert.Contains("Result: accepted, 0 warnings", Status, StringComparison.Ordinal);
        Assert.Contains("Running: this file", Status, StringComparison.Ordinal);
        Assert.Contains("State:\r\n  sessions: 0", Status, StringComparison.Ordinal);
        Assert.Contains("Since: 2025-03-01 12:00:00Z", Status, StringComparison.Ordinal);
    }

    [Fact]
    public void Boot_with_a_broken_file_falls_back_to_last_good_and_says_so()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LastGoodPath)!);
        File.WriteAllText(LastGoodPath, Good);
        File.WriteAllText(ConfigPath, "{\n  \"server\": {\n    \"pool\": [\"not-an-address\"]\n");
        using var service = NewService();

        Assert.False(service.Start().Accepted);
        Assert.Equal(ConfigSource.LastGood, service.Source);
        Assert.Equal("alice", Assert.Single(service.Current.Server!.Users).Name);
        Assert.Contains("Result: rejected, 1 error", Status, StringComparison.Ordinal);
        Assert.Contains($"Running: the last good copy ({LastGoodPath}) because this file was rejected", Status, StringComparison.Ordinal);
        Assert.Contains("cut off while saving", Status, StringComparison.Ordinal);
        Assert.Equal(Good, File.ReadAllText(LastGoodPath));
    }

    [Fact]
    public void Boot_with_nothing_usable_runs_built_in_safe_defaults()
    {
        using var service = NewService();
        var result = service.Start();
        Assert.Equal("the file does not exist", Assert.Single(result.Errors).Message);
        Assert.Equal(ConfigSource.BuiltInDefaults, service.Source);
        Assert.Same(GatewayConfig.Default, service.Current);
        Assert.False(File.Exists(LastGoodPath));
        Assert.Contains("Running: built-in safe defaults (no server, no clients)", Status, StringComparison.Ordinal);
    }

    [Fact]
    public void Boot_with_an_invalid_last_good_also_runs_defaults()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LastGoodPath)!);
        File.WriteAllText(LastGoodPath, "{ broken");
        File.WriteAllText(ConfigPath, "");
        using var service = NewService();
        service.Start();
        Assert.Equal(ConfigSource.BuiltInDefaults, service.Source);
    }

    public static TheoryData<string, string> BadFiles => new()
    {
        { "empty", "" },
        { "truncated", GoodWithBob[..(GoodWithBob.Length * 2 / 3)] },
        { "deep", "{\"x\":" + new string('[', 5000) + new string(']', 5000) + "}" },
        { "wrong types", "{ \"server\": { \"localAddress\": 5, \"pool\": \"x\", \"users\": [] } }" },
        { "duplicate users", GoodWithBob.Replace("\"bob\"", "\"alice\"", StringComparison.Ordinal) },
        { "invalid cidr", Good.Replace("192.168.100.10-192.168.100.50", "192.168.100.0/33", StringComparison.Ordinal) },
        { "overlapping pools", Good.Replace("\"192.168.100.10-192.168.100.50\"", "\"192.168.100.10-20\", \"192.168.100.15\"", StringComparison.Ordinal) },
        { "pool in lan", Good.Replace("192.168.100.10-192.168.100.50", "10.0.5.0/24", StringComparison.Ordinal) },
        { "pins twice", "{ \"board\": { \"buttons\": { \"button1\": { \"pin\": 5 }, \"button2\": { \"pin\": 5 } } } }" },
        { "unknown keys plus an error", "{ \"sever\": {}, \"ppp\": { \"mtu\": 1 } }" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_bad_reload_keeps_the_running_config_and_reports(string name, string content)
    {
        File.WriteAllText(ConfigPath, Good);
        using var service = NewService();
        service.Start();
        service.ConfirmStarted(service.Current);
        var running = service.Current;
        var changed = 0;
        service.Changed += (_, _) => changed++;

        File.WriteAllText(ConfigPath, content);
        var result = service.Reload();

        Assert.False(result.Accepted, name);
        Assert.Same(running, service.Current);
        Assert.Equal(ConfigSource.File, service.Source);
        Assert.Equal(0, changed);
        Assert.Equal(Good, File.ReadAllText(LastGoodPath));
        Assert.Contains("Result: rejected", Status, StringComparison.Ordinal);
        Assert.Contains("this file's changes were NOT applied", Status, StringComparison.Ordinal);
        foreach (var error in result.Errors)
        {
            Assert.Contains(error.ToString(), Status, StringComparison.Ordinal);
            Assert.Contains(_logger.Lines, l => l.Contains(error.ToString(), StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Binary_garbage_and_a_50_MB_file_are_rejected_on_reload()
    {
        File.WriteAllText(ConfigPath, Good);
        using var service = NewService();
        service.Start();
        var running = service.Current;

        var garbage = new byte[10_000];
        new Random(3).NextBytes(garbage);
        garbage[0] = 0xC3;
        File.WriteAllBytes(ConfigPath, garbage);
        Assert.False(service.Reload().Accepted);

        using (var stream = File.Create(ConfigPath))
        {
            var chunk = Encoding.UTF8.GetBytes(new string(' ', 1 << 20));
            for (var i = 0; i < 50; i++)
            {
                stream.Write(chunk);
            }
        }
        Assert.Contains("1 MiB", Assert.Single(service.Reload().Errors).Message, StringComparison.Ordinal);
        Assert.Same(running, service.Current);
    }

    [Fact]
    public void A_good_reload_applies_only_the_diff_and_updates_last_good()
    {
        File.WriteAllText(ConfigPath, Good);
        using var service = NewService();
        service.Start();
        var changes = new List<ConfigChangedEventArgs>();
        service.Changed += (_, e) => changes.Add(e);

        service.ConfirmStarted(service.Current);
        File.WriteAllText(ConfigPath, GoodWithBob);
        Assert.True(service.Reload().Accepted);
        var change = Assert.Single(changes);
        Assert.Equal(["bob"], change.Diff.UsersAdded);
        Assert.False(change.Diff.ServerChanged);
        Assert.Equal(Good, File.ReadAllText(LastGoodPath));
        service.ConfirmStarted(change.NewConfig);
        Assert.Equal(GoodWithBob, File.ReadAllText(LastGoodPath));

        Assert.True(service.Reload().Accepted);
        Assert.Single(changes);
    }

    [Fact]
    public void Unchanged_outcome_does_not_rewrite_the_status_file()
    {
        File.WriteAllText(ConfigPath, "{ \"nope\": 1, \"ppp\": { \"mtu\": 1 } }");
        using var service = NewService();
        service.Start();
        Assert.Equal(1, service.StatusWriter.WriteCount);
        _time.Advance(TimeSpan.FromMinutes(5));
        service.Reload();
        service.Reload();
        Assert.Equal(1, service.StatusWriter.WriteCount);
    }

    [Fact]
    public void Secrets_never_reach_the_log_or_the_status_file()
    {
        File.WriteAllText(ConfigPath, GoodWithBob);
        using var service = NewService();
        service.Start();
        File.WriteAllText(ConfigPath, GoodWithBob.Replace("TopSecretPassword1", "TopSecretPassword2", StringComparison.Ordinal)
            .Replace("\"pool\"", "\"pool\": [\"bad\"], \"x\"", StringComparison.Ordinal));
        service.Reload();
        File.WriteAllText(ConfigPath, GoodWithBob.Replace("TopSecretPassword1", "TopSecretPassword3", StringComparison.Ordinal));
        service.Reload();

        var everything = string.Join("\n", _logger.Lines) + Status;
        Assert.NotEmpty(_logger.Lines);
        Assert.DoesNotContain("TopSecretPassword", everything, StringComparison.Ordinal);
        Assert.DoesNotContain("0123456789ABCDEF", everything, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(_logger.Lines, l => l.Contains("users ~alice", StringComparison.Ordinal));
    }

    [Fact]
    public void File_watcher_reload_is_debounced_on_the_time_provider()
    {
        File.WriteAllText(ConfigPath, Good);
        using var service = NewService(watch: true);
        service.Start();
        var loads = 0;
        service.Loaded += (_, _) => Interlocked.Increment(ref loads);

        // A PC writing in chunks: several events, then one quiet period.
        using (var stream = new FileStream(ConfigPath, FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
        {
            var bytes = Encoding.UTF8.GetBytes(GoodWithBob);
            for (var offset = 0; offset < bytes.Length; offset += 64)
            {
                stream.Write(bytes, offset, Math.Min(64, bytes.Length - offset));
                stream.Flush(flushToDisk: true);
                Thread.Sleep(5);
            }
        }
        WaitUntil(() => service.FileEventCount >= 2, "file events for the config file");
        var seen = service.FileEventCount;
        Thread.Sleep(200); // let trailing events of the last write arrive (bounded, small)
        WaitUntil(() => service.FileEventCount >= seen, "settled events");

        _time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.Equal(0, Volatile.Read(ref loads));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        WaitUntil(() => Volatile.Read(ref loads) == 1, "one debounced reload");
        Assert.Equal(2, service.Current.Server!.Users.Count);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, Volatile.Read(ref loads));
    }

    [Fact]
    public void File_watcher_with_the_real_clock_reloads_a_bad_file_without_applying_it()
    {
        File.WriteAllText(ConfigPath, Good);
        using var service = NewService(TimeProvider.System, watch: true);
        service.Start();
        var running = service.Current;
        var results = new List<ConfigLoadResult>();
        service.Loaded += (_, r) =>
        {
            lock (results)
            {
                results.Add(r);
            }
        };

        // The status file written beside the config must not trigger reloads of its own.
        File.WriteAllText(ConfigPath, "{ \"server\": ");
        WaitUntil(() => { lock (results) { return results.Count >= 1; } }, "reload after the file changed");
        Assert.False(results[0].Accepted);
        Assert.Same(running, service.Current);

        File.WriteAllText(ConfigPath, GoodWithBob);
        WaitUntil(() => service.Current.Server!.Users.Count == 2, "reload of the fixed file");
        Assert.Equal(ConfigSource.File, service.Source);
    }

    [Fact]
    public void Renaming_a_new_file_over_the_config_is_seen()
    {
        File.WriteAllText(ConfigPath, Good);
        using var service = NewService(TimeProvider.System, watch: true);
        service.Start();
        var temp = _card.File("pptp-gateway.json.new");
        File.WriteAllText(temp, GoodWithBob);
        File.Move(temp, ConfigPath, overwrite: true);
        WaitUntil(() => service.Current.Server!.Users.Count == 2, "reload after rename");
    }
}
