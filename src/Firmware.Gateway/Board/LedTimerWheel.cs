using Firmware.Platform.Gpio;

namespace Firmware.Gateway.Board;

/// <summary>
/// Plays the patterns of every LED from ONE timer: each LED keeps its next transition time, and the single timer is
/// armed for the earliest of them. (A classic tick-driven wheel would wake up every tick even when all LEDs are
/// steady; this one sleeps until the next change, so steady LEDs cost nothing.) Each LED has a normal pattern and
/// an optional overlay (feedback while a button is held, the status code, the self-test) that hides it; a one-shot
/// overlay removes itself when it ends. Output writes happen only on a change. Due times are monotonic timestamps
/// (<see cref="TimeProvider.GetTimestamp"/>): a wall-clock step at boot neither freezes nor skips a pattern. Thread-safe.
/// </summary>
internal sealed class LedTimerWheel : IDisposable
{
    /// <summary>"No transition planned" as a due time.</summary>
    private const long Never = long.MaxValue;

    private readonly TimeProvider _time;
    private readonly Func<ulong> _trafficCounter;
    private readonly Lock _gate = new();
    private readonly List<Led> _leds = [];
    private readonly ITimer _timer;
    private long _armedFor = Never;
    private bool _disposed;

    public LedTimerWheel(TimeProvider time, Func<ulong> trafficCounter)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(trafficCounter);
        _time = time;
        _trafficCounter = trafficCounter;
        _timer = time.CreateTimer(static s => ((LedTimerWheel)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Called with the LED's name and the exception when writing it failed; the LED is then left alone.</summary>
    public Action<string, Exception>? WriteFailed { get; set; }

    /// <summary>Adds an LED (initially off) and returns its index.</summary>
    public int Add(string name, IGpioOutput? output)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var led = new Led(name, output);
            _leds.Add(led);
            Start(led, LedPattern.Off, _time.GetTimestamp());
            return _leds.Count - 1;
        }
    }

    /// <summary>Swaps the hardware behind an LED (a pin changed on reload); the pattern carries on.
    /// The old output is turned off and disposed.</summary>
    public void ReplaceOutput(int index, IGpioOutput? output)
    {
        lock (_gate)
        {
            var led = _leds[index];
            Release(led);
            led.Output = output;
            led.Written = null;
            Write(led, led.Lit);
        }
    }

    /// <summary>Sets the normal pattern; setting the pattern already playing changes nothing (no restart).</summary>
    public void SetPattern(int index, LedPattern pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var led = _leds[index];
            if (led.Normal == pattern)
            {
                return;
            }
            led.Normal = pattern;
            if (led.Overlay is null)
            {
                Start(led, pattern, _time.GetTimestamp());
                Rearm();
            }
        }
    }

    /// <summary>Shows <paramref name="overlay"/> over the normal pattern; null goes back to the normal pattern.</summary>
    public void SetOverlay(int index, LedPattern? overlay)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var led = _leds[index];
            if (led.Overlay == overlay)
            {
                return;
            }
            led.Overlay = overlay;
            Start(led, overlay ?? led.Normal, _time.GetTimestamp());
            Rearm();
        }
    }

    /// <summary>The pattern an LED is showing now (the overlay if any).</summary>
    public LedPattern Showing(int index)
    {
        lock (_gate)
        {
            return _leds[index].Playing;
        }
    }

    /// <summary>Turns every LED off and releases the outputs (LED-class devices get their trigger back).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _timer.Dispose();
            foreach (var led in _leds)
            {
                Release(led);
            }
        }
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _armedFor = Never;
            var now = _time.GetTimestamp();
            foreach (var led in _leds)
            {
                Advance(led, now);
            }
            Rearm();
        }
    }

    private void Start(Led led, LedPattern pattern, long now)
    {
        led.Playing = pattern;
        led.Steps = pattern.Steps();
        led.Step = 0;
        if (pattern.Kind == LedPatternKind.Traffic)
        {
            led.LastTraffic = _trafficCounter();
            led.Due = now + Ticks(LedPattern.TrafficPoll);
            Write(led, false);
            return;
        }

        var first = led.Steps[0];
        led.Due = first.Duration == Timeout.InfiniteTimeSpan ? Never : now + Ticks(first.Duration);
        Write(led, first.On);
    }

    private void Advance(Led led, long now)
    {
        // Late timers catch up step by step so phases stay on schedule; after a long stall (suspend), resync.
        if (led.Due != Never && _time.GetElapsedTime(led.Due, now) > TimeSpan.FromSeconds(5))
        {
            led.Due = now;
        }

        while (led.Due <= now)
        {
            if (led.Playing.Kind == LedPatternKind.Traffic)
            {
                AdvanceTraffic(led);
                continue;
            }

            led.Step++;
            if (led.Step == led.Steps.Count)
            {
                if (led.Playing.IsOneShot)
                {
                    led.Overlay = null;
                    Start(led, led.Normal, led.Due);
                    continue;
                }
                led.Step = 0;
            }
            var step = led.Steps[led.Step];
            Write(led, step.On);
            led.Due += Ticks(step.Duration);
        }
    }

    private void AdvanceTraffic(Led led)
    {
        if (led.Lit)
        {
            Write(led, false);
            led.Due += Ticks(LedPattern.TrafficPoll - LedPattern.TrafficFlash);
            return;
        }

        var count = _trafficCounter();
        if (count != led.LastTraffic)
        {
            led.LastTraffic = count;
            Write(led, true);
            led.Due += Ticks(LedPattern.TrafficFlash);
        }
        else
        {
            led.Due += Ticks(LedPattern.TrafficPoll);
        }
    }

    private void Rearm()
    {
        var earliest = Never;
        foreach (var led in _leds)
        {
            if (led.Due < earliest)
            {
                earliest = led.Due;
            }
        }

        if (earliest == _armedFor)
        {
            return;
        }
        _armedFor = earliest;
        if (earliest == Never)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        // Every due time is in the future here (Start and Advance move them past now), so the timer never fires
        // inline from Change; the 1 ms floor is a guard, not a path taken.
        var now = _time.GetTimestamp();
        var wait = earliest > now ? _time.GetElapsedTime(now, earliest) : TimeSpan.Zero;
        _timer.Change(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A duration in the clock's timestamp units.</summary>
    private long Ticks(TimeSpan duration) => (long)((Int128)duration.Ticks * _time.TimestampFrequency / TimeSpan.TicksPerSecond);

    private void Write(Led led, bool on)
    {
        led.Lit = on;
        if (led.Output is null || led.Written == on)
        {
            return;
        }
        try
        {
            led.Output.Write(on);
            led.Written = on;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            var output = led.Output;
            led.Output = null;
            WriteFailed?.Invoke(led.Name, e);
            output.Dispose();
        }
    }

    private static void Release(Led led)
    {
        var output = led.Output;
        led.Output = null;
        if (output is null)
        {
            return;
        }
        try
        {
            output.Write(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ObjectDisposedException)
        {
            // Going away anyway; Dispose below still restores what it can.
        }
        output.Dispose();
    }

    private sealed class Led(string name, IGpioOutput? output)
    {
        public string Name { get; } = name;

        public IGpioOutput? Output { get; set; } = output;

        public LedPattern Normal { get; set; } = LedPattern.Off;

        public LedPattern? Overlay { get; set; }

        public LedPattern Playing { get; set; } = LedPattern.Off;

        public IReadOnlyList<LedStep> Steps { get; set; } = [];

        public int Step { get; set; }

        public long Due { get; set; } = Never;

        public bool Lit { get; set; }

        public bool? Written { get; set; }

        public ulong LastTraffic { get; set; }
    }
}
