using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Firmware.Gateway.Cli;
using Firmware.Gateway.Configuration;
using Microsoft.Extensions.Time.Testing;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Configuration;

/// <summary>
/// Reading only regular files, within a time limit and outside the config lock; last-good only after start;
/// durable atomic writes with a second copy on FAT (issue 12, items 5 and 6).
/// </summary>
public sealed class ConfigFileSafetyTests : IDisposable
{
    private readonly TempDirectory _card = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly CapturingLogger<ConfigService> _logger = new();

    public void Dispose() => _card.Dispose();

    private string ConfigPath => _card.File("pptp-gateway.json");

    private string LastGoodPath => _card.File("state/last-good.json");

    private ConfigService NewService() =>
        new(new ConfigServiceOptions(ConfigPath) { LastGoodPath = LastGoodPath, Watch = false }, Lan, _time, _logger);

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        Assert.True(mkfifo.WaitForExit(10_000), "mkfifo did not finish");
        Assert.Equal(0, mkfifo.ExitCode);
    }

    /// <summary>Runs <paramref name="action"/> with a deadline; if it hangs on the FIFO, a writer unblocks it so the test process can end.</summary>
    private static T Within<T>(string fifo, Func<T> action, int milliseconds = 10_000)
    {
        var task = Task.Run(action);
        if (!task.Wait(milliseconds))
        {
            using var writer = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            writer.Write("x"u8);
            writer.Close();
            Assert.Fail($"blocked on the FIFO for {milliseconds} ms");
        }
        return task.Result;
    }

    [Fact]
    public void A_fifo_in_place_of_the_file_is_refused_without_blocking()
    {
        MakeFifo(ConfigPath);
        var result = Within(ConfigPath, () => ConfigLoader.LoadFile(ConfigPath, Lan));
        Assert.Contains("a FIFO (named pipe), not a regular file", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_config_on_a_fifo_exits_with_a_reason()
    {
        MakeFifo(ConfigPath);
        var stdout = new StringWriter();
        var exit = Within(ConfigPath, () =>
            GatewayCommandLine.Run(["check-config", ConfigPath], new GatewayEnvironment(_ => null, Lan), stdout, new StringWriter()));
        Assert.Equal(GatewayCommandLine.ExitCodes.DataError, exit);
        Assert.Contains("not a regular file", stdout.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/dev/zero", "a character device")]
    [InlineData("/dev/null", "a character device")]
    [InlineData("/tmp", "a folder")]
    public void Devices_and_folders_are_refused(string path, string kind)
    {
        var result = ConfigLoader.LoadFile(path, Lan);
        Assert.Contains(kind + ", not a regular file", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_socket_is_refused()
    {
        var path = _card.File("sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        var result = ConfigLoader.LoadFile(path, Lan);
        Assert.Contains("a socket, not a regular file", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_symlink_to_a_regular_file_is_read()
    {
        File.WriteAllText(_card.File("real.json"), MinimalServer);
        File.CreateSymbolicLink(ConfigPath, _card.File("real.json"));
        Assert.True(ConfigLoader.LoadFile(ConfigPath, Lan).Accepted);
    }

    [Fact]
    public void A_reload_of_a_fifo_keeps_the_running_config_and_never_holds_the_lock()
    {
        File.WriteAllText(ConfigPath, MinimalServer);
        using var service = NewService();
        service.Start();
        service.ConfirmStarted(service.Current);
        var running = service.Current;

        File.Delete(ConfigPath);
        MakeFifo(ConfigPath);
        var reload = Task.Run(service.Reload);

        // The lock-taking readers answer at once, whatever the reload is doing.
        var watch = Stopwatch.StartNew();
        _ = service.LastResult;
        service.RefreshStatus();
        Assert.True(watch.ElapsedMilliseconds < 2000, $"the config lock was held for {watch.ElapsedMilliseconds} ms");

        var result = Within(ConfigPath, () => reload.Result);
        Assert.False(result.Accepted);
        Assert.Same(running, service.Current);
        Assert.Equal(MinimalServer, File.ReadAllText(LastGoodPath));
    }

    [Fact]
    public void A_read_that_outlasts_the_limit_is_given_up()
    {
        // A regular file on a card that stops answering: the read blocks in the kernel, here a gate.
        using var gate = new ManualResetEventSlim();
        var watch = Stopwatch.StartNew();
        var (bytes, problem) = ConfigLoader.ReadWithin(TimeSpan.FromMilliseconds(300), () =>
        {
            gate.Wait(TimeSpan.FromSeconds(30));
            return ([1], null);
        });
        watch.Stop();
        gate.Set();
        Assert.Null(bytes);
        Assert.Contains("took longer than 0.3 s", problem, StringComparison.Ordinal);
        Assert.True(watch.ElapsedMilliseconds < 5000, $"took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void A_file_that_validates_is_not_last_good_until_it_has_started()
    {
        File.WriteAllText(ConfigPath, MinimalServer);
        using var service = NewService();
        service.Start();
        service.ConfirmStarted(service.Current);

        var second = MinimalServer.Replace("192.168.100.1\"", "192.168.100.2\"", StringComparison.Ordinal);
        File.WriteAllText(ConfigPath, second);
        var result = service.Reload();
        Assert.True(result.Accepted);
        Assert.Equal(MinimalServer, File.ReadAllText(LastGoodPath));

        // A start that failed confirms nothing; a later, different config cannot confirm this one either.
        service.ConfirmStarted(GatewayConfig.Default);
        Assert.Equal(MinimalServer, File.ReadAllText(LastGoodPath));
        service.ConfirmStarted(result.Config!);
        Assert.Equal(second, File.ReadAllText(LastGoodPath));
        Assert.Equal(AtomicFile.OwnerOnly, File.GetUnixFileMode(LastGoodPath));
    }

    [Fact]
    public void A_file_that_validates_but_cannot_start_falls_back_to_last_good_and_never_replaces_it()
    {
        File.WriteAllText(ConfigPath, MinimalServer);
        using (var first = NewService())
        {
            first.Start();
            first.ConfirmStarted(first.Current);
        }

        var cannotRun = MinimalServer.Replace("192.168.100.1\"", "192.168.100.3\"", StringComparison.Ordinal);
        File.WriteAllText(ConfigPath, cannotRun);
        using var service = NewService();
        Assert.True(service.Start().Accepted);
        var fallback = service.FallBackAfterFailedStart("cannot open /dev/net/tun");
        Assert.NotNull(fallback);
        Assert.Equal(ConfigSource.LastGood, service.Source);
        Assert.Equal("192.168.100.1", fallback.Server!.LocalAddress.ToString());
        service.ConfirmStarted(fallback);
        Assert.Equal(MinimalServer, File.ReadAllText(LastGoodPath));
        Assert.Contains("because this file was accepted but could not start: cannot open /dev/net/tun",
            File.ReadAllText(_card.File(StatusFileWriter.FileName)), StringComparison.Ordinal);

        // No last-good that differs: nothing to fall back to, and the caller exits as before.
        Assert.Null(service.FallBackAfterFailedStart("again"));
    }

    [Fact]
    public void An_old_world_readable_last_good_is_tightened_to_0600()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LastGoodPath)!);
        File.WriteAllText(LastGoodPath, MinimalServer);
        File.SetUnixFileMode(LastGoodPath, AtomicFile.Readable);
        File.WriteAllText(ConfigPath, MinimalServer);
        using var service = NewService();
        service.Start();
        service.ConfirmStarted(service.Current);
        Assert.Equal(AtomicFile.OwnerOnly, File.GetUnixFileMode(LastGoodPath));
    }

    [Fact]
    public void Atomic_writes_use_unique_temporary_names_and_leave_none_behind()
    {
        var path = _card.File("out.txt");

        // A stale fixed-name temporary file (the old scheme) neither blocks nor is reused.
        File.WriteAllText(path + ".tmp", "stale");
        Parallel.For(0, 32, i => AtomicFile.Write(path, Encoding.UTF8.GetBytes($"writer {i:00}\n")));
        Assert.Matches("^writer [0-9]{2}\n\\z", File.ReadAllText(path));
        Assert.Equal(["out.txt", "out.txt.tmp"], Directory.GetFiles(_card.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void On_fat_a_second_copy_is_kept_and_a_torn_file_falls_back_to_it()
    {
        var path = _card.File("status.txt");
        AtomicFile.Write(path, "whole\n"u8, keepCopy: true);
        Assert.Equal("whole\n", File.ReadAllText(AtomicFile.CopyPath(path)));
        Assert.Equal("whole\n", File.ReadAllText(path));

        // A power cut while the file itself was renamed on FAT: the name holds a torn or empty file.
        File.WriteAllText(path, "wh");
        var read = AtomicFile.ReadWithCopy(path, b => b.AsSpan().EndsWith("\n"u8));
        Assert.Equal("whole\n", Encoding.UTF8.GetString(read!));

        // And with the file gone altogether.
        File.Delete(path);
        Assert.Equal("whole\n", Encoding.UTF8.GetString(AtomicFile.ReadWithCopy(path, _ => true)!));
    }

    [Fact]
    public void A_torn_last_good_falls_back_to_its_copy_at_boot()
    {
        AtomicFile.Write(LastGoodPath, Encoding.UTF8.GetBytes(MinimalServer), AtomicFile.OwnerOnly, keepCopy: true);
        File.WriteAllText(LastGoodPath, MinimalServer[..40]);
        File.WriteAllText(ConfigPath, "{ broken");
        using var service = NewService();
        service.Start();
        Assert.Equal(ConfigSource.LastGood, service.Source);
        Assert.Equal("alice", Assert.Single(service.Current.Server!.Users).Name);
    }

    [Fact]
    public void The_status_file_on_the_card_is_compared_against_its_copy_when_torn()
    {
        var statusPath = _card.File(StatusFileWriter.FileName);
        var writer = new StatusFileWriter(statusPath, _time);
        Assert.True(writer.Write(["Result: accepted"]));
        AtomicFile.Write(statusPath, File.ReadAllBytes(statusPath), keepCopy: true);
        File.WriteAllText(statusPath, StatusFileWriter.Header[..10]);

        // After a reboot: the torn file is not taken for the body, the copy is, so an unchanged outcome is not rewritten.
        var rebooted = new StatusFileWriter(statusPath, _time);
        Assert.False(rebooted.Write(["Result: accepted"]));
    }
}
