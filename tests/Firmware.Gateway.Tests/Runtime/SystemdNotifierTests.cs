using System.Net.Sockets;
using System.Text;
using Firmware.Gateway.Runtime;
using Firmware.Gateway.Tests.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Gateway.Tests.Runtime;

/// <summary>A stand-in for systemd's notify socket: a bound Unix datagram socket that the tests read.</summary>
internal sealed class FakeNotifySocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly DirectoryInfo? _directory;

    public FakeNotifySocket(bool isAbstract = false)
    {
        if (isAbstract)
        {
            var name = $"pgw-notify-test-{Guid.NewGuid():N}";
            _socket.Bind(new UnixDomainSocketEndPoint("\0" + name));
            Path = "@" + name;
        }
        else
        {
            _directory = Directory.CreateTempSubdirectory("pgw-notify-");
            Path = System.IO.Path.Combine(_directory.FullName, "notify.sock");
            _socket.Bind(new UnixDomainSocketEndPoint(Path));
        }
    }

    /// <summary>What $NOTIFY_SOCKET would say.</summary>
    public string Path { get; }

    /// <summary>The next datagram, or null if none arrives within <paramref name="timeout"/>.</summary>
    public string? Receive(TimeSpan timeout)
    {
        var buffer = new byte[4096];
        _socket.ReceiveTimeout = (int)Math.Max(1, timeout.TotalMilliseconds);
        try
        {
            var n = _socket.Receive(buffer);
            return Encoding.UTF8.GetString(buffer, 0, n);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            return null;
        }
    }

    /// <summary>Waits for a datagram containing <paramref name="text"/>; fails with what came instead.</summary>
    public string WaitFor(string text, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var seen = new List<string>();
        while (clock.Elapsed < timeout)
        {
            var message = Receive(timeout - clock.Elapsed);
            if (message is null)
            {
                break;
            }
            if (message.Contains(text, StringComparison.Ordinal))
            {
                return message;
            }
            seen.Add(message);
        }
        Assert.Fail($"no notify message with \"{text}\" within {timeout.TotalSeconds:0.#} s; got: [{string.Join(" | ", seen)}]");
        return "";
    }

    /// <summary>Reads and forgets what is queued now.</summary>
    public void Drain()
    {
        while (Receive(TimeSpan.FromMilliseconds(1)) is not null)
        {
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _directory?.Delete(recursive: true);
    }
}

public sealed class SystemdNotifierTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Send_puts_one_datagram_on_the_notify_socket(bool isAbstract)
    {
        using var systemd = new FakeNotifySocket(isAbstract);
        using var notifier = new SystemdNotifier(systemd.Path);
        Assert.True(notifier.Enabled);
        notifier.Send("READY=1\nSTATUS=starting");
        Assert.Equal("READY=1\nSTATUS=starting", systemd.Receive(Wait));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("relative/path")]
    public void Without_a_usable_notify_socket_nothing_is_sent(string? path)
    {
        using var notifier = new SystemdNotifier(path);
        Assert.False(notifier.Enabled);
        notifier.Send("READY=1");
    }

    [Fact]
    public void A_vanished_socket_is_not_an_error()
    {
        var systemd = new FakeNotifySocket();
        using var notifier = new SystemdNotifier(systemd.Path);
        systemd.Dispose();
        notifier.Send("WATCHDOG=1");
    }

    [Theory]
    [InlineData("20000000", null, 20_000)]
    [InlineData("500000", "4242", 500)]
    [InlineData("500000", "1", null)]
    [InlineData(null, null, null)]
    [InlineData("0", null, null)]
    [InlineData("junk", null, null)]
    public void Watchdog_interval_comes_from_WATCHDOG_USEC_for_this_process(string? usec, string? pid, int? expectedMs)
    {
        var environment = new Dictionary<string, string?> { ["WATCHDOG_USEC"] = usec, ["WATCHDOG_PID"] = pid };
        var interval = SystemdNotifier.WatchdogInterval(name => environment.GetValueOrDefault(name), processId: 4242);
        Assert.Equal(expectedMs is null ? null : TimeSpan.FromMilliseconds(expectedMs.Value), interval);
    }

    [Fact]
    public async Task Healthy_loops_get_a_ping_with_the_status_line()
    {
        using var systemd = new FakeNotifySocket();
        using var notifier = new SystemdNotifier(systemd.Path);
        var logger = new CapturingLogger<SystemdNotifierTests>();
        TimeSpan? asked = null;
        await using var watchdog = new SystemdWatchdog(notifier, TimeSpan.FromSeconds(20),
            timeout => { asked = timeout; return Task.FromResult<string?>(null); }, () => "server: 1 session(s) up", TimeProvider.System, logger);

        await watchdog.TickAsync();

        Assert.Equal("WATCHDOG=1\nSTATUS=server: 1 session(s) up", systemd.Receive(Wait));
        Assert.Equal(TimeSpan.FromSeconds(5), asked);
        Assert.Equal(1, watchdog.Pings);
        Assert.Empty(logger.Lines);
    }

    [Fact]
    public async Task A_stuck_loop_stops_the_pings_and_says_why_until_it_answers_again()
    {
        using var systemd = new FakeNotifySocket();
        using var notifier = new SystemdNotifier(systemd.Path);
        var logger = new CapturingLogger<SystemdNotifierTests>();
        string? problem = "tunnel server:198.51.100.11 has not answered for 5 s";
        await using var watchdog = new SystemdWatchdog(notifier, TimeSpan.FromSeconds(20),
            _ => Task.FromResult<string?>(problem), () => "ok", TimeProvider.System, logger);

        await watchdog.TickAsync();
        await watchdog.TickAsync();
        Assert.Equal("STATUS=unhealthy: tunnel server:198.51.100.11 has not answered for 5 s", systemd.Receive(Wait));
        Assert.Equal("STATUS=unhealthy: tunnel server:198.51.100.11 has not answered for 5 s", systemd.Receive(Wait));
        Assert.Equal(0, watchdog.Pings);
        // Said once in the log, not every tick.
        Assert.Equal(["Critical: watchdog: tunnel server:198.51.100.11 has not answered for 5 s; not pinging systemd, which restarts the service"], logger.Lines);

        problem = null;
        await watchdog.TickAsync();
        Assert.Equal("WATCHDOG=1\nSTATUS=ok", systemd.Receive(Wait));
        Assert.Equal("Information: watchdog: every loop answers again", logger.Lines[^1]);
    }

    [Fact]
    public async Task A_probe_that_times_out_is_a_stuck_loop()
    {
        using var systemd = new FakeNotifySocket();
        using var notifier = new SystemdNotifier(systemd.Path);
        await using var watchdog = new SystemdWatchdog(notifier, TimeSpan.FromSeconds(2),
            _ => Task.FromException<string?>(new TimeoutException()), () => "ok", TimeProvider.System, new CapturingLogger<SystemdNotifierTests>());
        await watchdog.TickAsync();
        Assert.Equal("STATUS=unhealthy: a loop did not answer within 0.5 s", systemd.Receive(Wait));
        Assert.Equal(0, watchdog.Pings);
    }

    [Fact]
    public async Task The_loop_pings_every_half_interval_on_its_clock()
    {
        using var systemd = new FakeNotifySocket();
        using var notifier = new SystemdNotifier(systemd.Path);
        var time = new FakeTimeProvider();
        await using var watchdog = new SystemdWatchdog(notifier, TimeSpan.FromSeconds(20),
            _ => Task.FromResult<string?>(null), () => "ok", time, new CapturingLogger<SystemdNotifierTests>());
        watchdog.Start();
        Assert.Equal("WATCHDOG=1\nSTATUS=ok", systemd.Receive(Wait)); // at once, before the first interval
        Assert.Null(systemd.Receive(TimeSpan.FromMilliseconds(200)));  // no more until the clock moves
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
            Assert.Equal("WATCHDOG=1\nSTATUS=ok", systemd.Receive(Wait));
        }
    }
}
