using System.Text;
using Firmware.Gateway.Board;
using Firmware.Gateway.Configuration;
using Microsoft.Extensions.Time.Testing;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Configuration;

/// <summary>
/// The card failing under the config service (issue 13, "bad input and faults"): a boot partition that is not
/// mounted (yet), a status file that cannot be written, and what a power cut left half-written. Each is said once
/// in the log, shows in <see cref="ConfigService.Card"/>, and the service looks again on its own.
/// </summary>
public sealed class CardFaultTests : IDisposable
{
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(10);
    private readonly TempDirectory _root = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly CapturingLogger<ConfigService> _logger = new();

    public void Dispose() => _root.Dispose();

    private string Card => _root.File("boot");

    private string ConfigPath => Path.Combine(Card, "pptp-gateway.json");

    private string StatusPath => Path.Combine(Card, StatusFileWriter.FileName);

    private string LastGoodPath => _root.File("state/last-good.json");

    private ConfigService NewService() =>
        new(new ConfigServiceOptions(ConfigPath) { LastGoodPath = LastGoodPath, Watch = false, CardRetry = Retry }, Lan, _time, _logger);

    private int LinesWith(string text) => _logger.Lines.Count(l => l.Contains(text, StringComparison.Ordinal));

    private void SaveLastGood()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LastGoodPath)!);
        AtomicFile.Write(LastGoodPath, Encoding.UTF8.GetBytes(MinimalServer), AtomicFile.OwnerOnly);
    }

    [Fact]
    public void A_boot_partition_mounted_late_is_found_without_a_file_event()
    {
        // The mount point is there but empty: the partition is not mounted yet.
        Directory.CreateDirectory(Card);
        SaveLastGood();
        using var service = NewService();
        var changes = 0;
        service.CardChanged += () => changes++;
        service.Start();
        Assert.Equal(ConfigSource.LastGood, service.Source);
        Assert.Equal(CardState.Missing, service.Card);
        Assert.Equal(1, LinesWith("is missing: is the card's boot partition mounted?"));
        Assert.Equal(1, changes);

        // Nothing yet: looking again says nothing more.
        _time.Advance(Retry * 3);
        Assert.Equal(1, LinesWith("is missing"));
        Assert.Equal(CardState.Missing, service.Card);

        // The partition arrives (no watcher would see it: the folder watched is the one it covers).
        File.WriteAllText(ConfigPath, """{ "server": { "enabled": true, "localAddress": "192.168.77.1", "pool": ["192.168.77.10-192.168.77.20"], "users": [ { "name": "bob", "password": "bob-password-1" } ] } }""");
        _time.Advance(Retry);
        Assert.Equal(ConfigSource.File, service.Source);
        Assert.Equal("bob", Assert.Single(service.Current.Server!.Users).Name);
        Assert.Equal(CardState.Ok, service.Card);
        Assert.Equal(2, changes);
        Assert.Equal(1, LinesWith("can be read again (it was Missing)"));
    }

    [Fact]
    public void With_the_cards_folder_gone_the_status_file_does_not_create_it()
    {
        SaveLastGood();
        using var service = NewService();
        service.Start();
        Assert.Equal(CardState.Missing, service.Card);
        Assert.Equal(ConfigSource.LastGood, service.Source);
        // Creating it would write under the mount point, hidden once the partition is mounted.
        Assert.False(Directory.Exists(Card));
        Assert.Equal(1, LinesWith("Cannot write the status file"));
    }

    [Fact]
    public void A_status_file_that_cannot_be_written_is_said_once_and_written_when_it_can_be()
    {
        Directory.CreateDirectory(Card);
        File.WriteAllText(ConfigPath, MinimalServer);
        // A folder in the status file's place makes every write fail, as a full or read-only card does.
        Directory.CreateDirectory(StatusPath);
        using var service = NewService();
        var changes = 0;
        service.CardChanged += () => changes++;
        service.Start();
        Assert.Equal(ConfigSource.File, service.Source);
        Assert.Equal(CardState.Unwritable, service.Card);
        Assert.Equal(1, changes);

        // The running config is untouched; retries and state changes do not repeat the warning.
        _time.Advance(Retry * 3);
        service.RefreshStatus();
        Assert.Equal(1, LinesWith("Cannot write the status file"));
        Assert.Equal(CardState.Unwritable, service.Card);
        Assert.Equal("alice", Assert.Single(service.Current.Server!.Users).Name);
        Assert.Empty(Directory.GetFiles(Card, "*.tmp"));

        // Room again: the next look writes it without any other event.
        Directory.Delete(StatusPath);
        _time.Advance(Retry);
        Assert.Equal(CardState.Ok, service.Card);
        Assert.Contains("Result: accepted", File.ReadAllText(StatusPath), StringComparison.Ordinal);
        Assert.Equal(1, LinesWith("is written again"));
        Assert.Equal(2, changes);

        // And once fine, no more looks: nothing is written while nothing changes.
        var writes = service.StatusWriter.WriteCount;
        _time.Advance(Retry * 5);
        Assert.Equal(writes, service.StatusWriter.WriteCount);
    }

    [Fact]
    public void A_file_that_cannot_be_read_is_retried_and_loaded_when_it_can_be()
    {
        Directory.CreateDirectory(Card);
        SaveLastGood();
        // A FIFO is refused unread: for the service as unreadable as an I/O error.
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [ConfigPath]))
        {
            Assert.True(mkfifo.WaitForExit(10_000));
        }
        using var service = NewService();
        service.Start();
        Assert.Equal(CardState.Unreadable, service.Card);
        Assert.Equal(ConfigSource.LastGood, service.Source);
        Assert.Equal(1, LinesWith("cannot be read"));

        File.Delete(ConfigPath);
        File.WriteAllText(ConfigPath, MinimalServer);
        _time.Advance(Retry);
        Assert.Equal(CardState.Ok, service.Card);
        Assert.Equal(ConfigSource.File, service.Source);
    }

    [Fact]
    public void What_a_killed_writer_left_is_removed_at_start_and_a_live_writers_is_not()
    {
        Directory.CreateDirectory(Card);
        File.WriteAllText(ConfigPath, MinimalServer);
        SaveLastGood();
        // Left between write and rename by a run that is gone (PID 1 is not this program), on the card and in the state folder.
        var deadStatus = Path.Combine(Card, $".{StatusFileWriter.FileName}.1.0A0B0C0D0E0F.tmp");
        var deadCopy = Path.Combine(Card, $".{StatusFileWriter.FileName}.copy.1.0A0B0C0D0E0F.tmp");
        var deadLastGood = _root.File("state/.last-good.json.1.000000000000.tmp");
        var ours = Path.Combine(Card, $".{StatusFileWriter.FileName}.{Environment.ProcessId}.AAAAAAAAAAAA.tmp");
        var unrelated = Path.Combine(Card, ".other.txt.1.000000000000.tmp");
        foreach (var path in new[] { deadStatus, deadCopy, deadLastGood, ours, unrelated })
        {
            File.WriteAllText(path, "half");
        }

        using var service = NewService();
        service.Start();
        Assert.False(File.Exists(deadStatus));
        Assert.False(File.Exists(deadCopy));
        Assert.False(File.Exists(deadLastGood));
        Assert.True(File.Exists(ours));
        Assert.True(File.Exists(unrelated));
        Assert.Equal(3, LinesWith("left half-written by a power cut or a killed earlier run"));
    }
}
