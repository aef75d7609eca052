namespace Firmware.Protocol;

/// <summary>
/// A one-shot restartable timer for the pure protocol code. Time comes from a <see cref="TimeProvider"/>
/// (a fake one in tests); where the callback runs is the host's choice: <paramref name="dispatch"/> posts it
/// into the owning session's loop so state machines never see a second thread. A callback that was already
/// posted when the timer was stopped or restarted is dropped, so a stale timeout never reaches a state machine.
/// The platform timer is moved lazily: a stop leaves it armed (its expiry finds nothing running and does
/// nothing) and a later deadline waits for it to fire and re-arms for what is left, so the GRE window's ack
/// timer, started and stopped for nearly every packet, touches the runtime's timer queue a few times a second
/// instead of twice per packet.
/// </summary>
public sealed class ProtocolTimer : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Action _callback;
    private readonly Action<Action>? _dispatch;
    private readonly Lock _gate = new();
    private ITimer? _timer;
    private long _generation;
    private long _startedAt;
    private TimeSpan _dueIn;
    /// <summary>When the platform timer fires (a timestamp), or <see cref="long.MaxValue"/> when it is not armed.</summary>
    private long _armedUntil = long.MaxValue;
    private bool _disposed;

    /// <param name="time">The time source.</param>
    /// <param name="callback">Runs when the timer expires.</param>
    /// <param name="dispatch">Posts the expiry into the owner's serialized context; null runs it inline
    /// (as a <c>FakeTimeProvider</c> does synchronously inside <c>Advance</c>).</param>
    public ProtocolTimer(TimeProvider time, Action callback, Action<Action>? dispatch = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(callback);
        _time = time;
        _callback = callback;
        _dispatch = dispatch;
    }

    /// <summary>True from <see cref="Start"/> until expiry or <see cref="Stop"/>.</summary>
    public bool IsRunning { get; private set; }

    /// <summary>Starts or restarts the timer to expire once after <paramref name="dueIn"/>.</summary>
    public void Start(TimeSpan dueIn)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _generation++;
            IsRunning = true;
            dueIn = dueIn < TimeSpan.Zero ? TimeSpan.Zero : dueIn;
            _startedAt = _time.GetTimestamp();
            _dueIn = dueIn;
            var deadline = _startedAt + TimestampTicks(dueIn);
            if (_armedUntil <= deadline)
            {
                return; // it fires first and re-arms for what is left (OnExpired)
            }
            _timer ??= _time.CreateTimer(static s => ((ProtocolTimer)s!).OnExpired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(dueIn, Timeout.InfiniteTimeSpan);
            _armedUntil = deadline;
        }
    }

    /// <summary>Stops the timer; an expiry already posted but not yet run is discarded.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _generation++;
            IsRunning = false;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _generation++;
            IsRunning = false;
            _timer?.Dispose();
            _timer = null;
            _armedUntil = long.MaxValue;
        }
    }

    private void OnExpired()
    {
        long generation;
        lock (_gate)
        {
            _armedUntil = long.MaxValue;
            if (!IsRunning || _disposed)
            {
                return;
            }
            // Durations are measured on the monotonic clock (the wall clock steps when a Pi without an RTC gets
            // its time). An expiry racing with a restart, or a timer a hair early, lands here: re-arm for what
            // is left rather than drop it, or the owner would wait forever.
            var remaining = _dueIn - _time.GetElapsedTime(_startedAt);
            if (remaining > TimeSpan.Zero)
            {
                _timer?.Change(remaining, Timeout.InfiniteTimeSpan);
                _armedUntil = _time.GetTimestamp() + TimestampTicks(remaining);
                return;
            }
            generation = _generation;
        }

        if (_dispatch is null)
        {
            RunIfCurrent(generation);
        }
        else
        {
            _dispatch(() => RunIfCurrent(generation));
        }
    }

    private long TimestampTicks(TimeSpan duration) =>
        (long)(duration.Ticks * ((double)_time.TimestampFrequency / TimeSpan.TicksPerSecond));

    private void RunIfCurrent(long generation)
    {
        lock (_gate)
        {
            if (generation != _generation || _disposed)
            {
                return;
            }
            IsRunning = false;
        }
        _callback();
    }
}
