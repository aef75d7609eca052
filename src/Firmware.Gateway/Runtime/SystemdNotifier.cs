using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Runtime;

/// <summary>
/// sd_notify(3) without libsystemd: one datagram per message to the socket systemd names in $NOTIFY_SOCKET
/// (a path, or '@' for an abstract name). Messages: READY=1, STOPPING=1, STATUS=..., WATCHDOG=1. Outside
/// systemd (no $NOTIFY_SOCKET) every call does nothing. A lost datagram is not an error: systemd is the
/// only reader and it either hears us or restarts us.
/// </summary>
internal sealed class SystemdNotifier : IDisposable
{
    private readonly UnixDomainSocketEndPoint? _endpoint;
    private readonly Socket? _socket;
    private readonly Lock _gate = new();

    public SystemdNotifier(string? socketPath)
    {
        if (string.IsNullOrEmpty(socketPath) || (socketPath[0] != '/' && socketPath[0] != '@'))
        {
            return;
        }
        // An '@' names an abstract socket: its first byte is NUL.
        _endpoint = new UnixDomainSocketEndPoint(socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    /// <summary>From $NOTIFY_SOCKET, as systemd starts a Type=notify service.</summary>
    public static SystemdNotifier FromEnvironment(Func<string, string?> getEnvironment)
        => new(getEnvironment("NOTIFY_SOCKET"));

    public bool Enabled => _socket is not null;

    /// <summary>
    /// The watchdog interval systemd expects pings within ($WATCHDOG_USEC), or null when it set none or set
    /// it for another process ($WATCHDOG_PID).
    /// </summary>
    public static TimeSpan? WatchdogInterval(Func<string, string?> getEnvironment, int processId)
    {
        var pid = getEnvironment("WATCHDOG_PID");
        if (!string.IsNullOrEmpty(pid) && pid != processId.ToString(CultureInfo.InvariantCulture))
        {
            return null;
        }
        return long.TryParse(getEnvironment("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out var usec) && usec > 0
            ? TimeSpan.FromMicroseconds(usec)
            : null;
    }

    /// <summary>Sends one message ("READY=1", "STATUS=...", several joined by newlines).</summary>
    public void Send(string state)
    {
        if (_socket is null)
        {
            return;
        }
        lock (_gate)
        {
            try
            {
                _socket.SendTo(Encoding.UTF8.GetBytes(state), _endpoint!);
            }
            catch (SocketException)
            {
                // systemd went away or the socket is gone: nobody to tell.
            }
            catch (ObjectDisposedException)
            {
                // Raced Dispose at exit.
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _socket?.Dispose();
        }
    }
}

/// <summary>
/// The service's watchdog: every half interval it asks whether every loop of the gateway is alive (each
/// answers a probe posted to it within a quarter interval) and only then sends WATCHDOG=1, with a STATUS=
/// line. A stuck loop stops the pings, so systemd restarts the service (WatchdogSec=, Restart=on-failure);
/// a stopped process (SIGSTOP) stops them by itself.
/// </summary>
internal sealed partial class SystemdWatchdog : IAsyncDisposable
{
    private readonly SystemdNotifier _notifier;
    private readonly TimeSpan _interval;
    private readonly Func<TimeSpan, Task<string?>> _probe;
    private readonly Func<string> _status;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private string? _lastProblem;
    private int _disposed;

    /// <param name="notifier">Where the pings go.</param>
    /// <param name="interval">systemd's WatchdogSec.</param>
    /// <param name="probe">Null when every loop answered within the given time, else what is stuck.</param>
    /// <param name="status">The one-line state for STATUS=.</param>
    /// <param name="time">The clock the ticks run on.</param>
    /// <param name="logger">Hears when the gateway turns unhealthy and healthy again.</param>
    public SystemdWatchdog(SystemdNotifier notifier, TimeSpan interval, Func<TimeSpan, Task<string?>> probe, Func<string> status,
        TimeProvider time, ILogger logger)
    {
        _notifier = notifier;
        _interval = interval;
        _probe = probe;
        _status = status;
        _time = time;
        _logger = logger;
    }

    /// <summary>How many pings were sent (tests).</summary>
    public int Pings { get; private set; }

    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>One tick: probe, then ping or report. Public for tests; the loop calls it.</summary>
    public async Task TickAsync()
    {
        string? problem;
        try
        {
            problem = await _probe(_interval / 4).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            problem = $"a loop did not answer within {(_interval / 4).TotalSeconds:0.###} s";
        }
        if (problem is null)
        {
            if (_lastProblem is not null)
            {
                LogHealthyAgain(_logger);
                _lastProblem = null;
            }
            Pings++;
            _notifier.Send("WATCHDOG=1\nSTATUS=" + _status());
            return;
        }
        if (problem != _lastProblem)
        {
            LogUnhealthy(_logger, problem);
            _lastProblem = problem;
        }
        _notifier.Send("STATUS=unhealthy: " + problem);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_interval / 2, _time);
        try
        {
            await TickAsync().ConfigureAwait(false);
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await TickAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops the ticks; safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "watchdog: {Problem}; not pinging systemd, which restarts the service")]
    private static partial void LogUnhealthy(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "watchdog: every loop answers again")]
    private static partial void LogHealthyAgain(ILogger logger);
}
