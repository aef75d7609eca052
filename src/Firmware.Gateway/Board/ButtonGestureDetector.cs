using Firmware.Protocol;

namespace Firmware.Gateway.Board;

/// <summary>What a button did.</summary>
public enum ButtonEventKind
{
    /// <summary>A debounced press began (feedback only).</summary>
    Pressed,

    /// <summary>Still held at the long-press threshold: letting go now makes a long press (feedback).</summary>
    LongThresholdReached,

    /// <summary>Still held at the very-long threshold: letting go now makes a very long press (feedback).</summary>
    VeryLongThresholdReached,

    /// <summary>The debounced release (feedback only).</summary>
    Released,

    ShortPress,
    DoublePress,
    LongPress,
    VeryLongPress,

    /// <summary>Held since the board started and released after the very-long threshold (factory reset at boot).
    /// A press already held at start and released earlier produces no gesture at all.</summary>
    BootHold,
}

/// <summary>A button event and how long the button had been held when it happened.</summary>
public readonly record struct ButtonEvent(ButtonEventKind Kind, TimeSpan Held);

/// <summary>The timings a detector uses; taken from <see cref="BoardOptions"/>.</summary>
public sealed record ButtonTimings(TimeSpan Debounce, TimeSpan DoublePressWindow, TimeSpan LongPress, TimeSpan VeryLongPress, bool DoublePressEnabled)
{
    public static ButtonTimings From(BoardOptions options, ButtonOptions button)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(button);
        return new(options.Debounce, options.DoublePressWindow, options.LongPress, options.VeryLongPress, button.Double != GatewayCommand.None);
    }
}

/// <summary>
/// Turns raw button levels into gestures, with no hardware: the driver's edges go in through <see cref="OnRaw"/>,
/// time comes from a <see cref="TimeProvider"/>: durations are measured on its monotonic timestamps
/// (<see cref="TimeProvider.GetTimestamp"/>, and the kernel's event timestamps for edges), never the wall clock, which
/// a Pi without a real-time clock steps at boot: a press held across that step must not read as a factory reset.
/// <para>Debounce: a new level counts once it has held for the debounce time; the press/release time is that of
/// the edge that started the stable level, so durations are not skewed by the debounce.</para>
/// <para>Gestures are decided on release: held &lt; long = short, &lt; very long = long, else very long.
/// Threshold events while holding let the LEDs show what letting go would do.</para>
/// <para>Double press (only when enabled): a short press is held back for the double-press window after its release;
/// a second press starting inside the window makes a double press if it is short too. The trade-off: with a double
/// action bound, every single short press is reported that much later (400 ms by default), never more: if the second
/// press turns into a long one, the first is reported as short the moment the long threshold is crossed.</para>
/// Not thread-safe: the owner serializes calls and timer callbacks (through <paramref name="dispatch"/>).
/// </summary>
internal sealed class ButtonGestureDetector : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Action<ButtonEvent> _onEvent;
    private readonly ProtocolTimer _debounceTimer;
    private readonly ProtocolTimer _holdTimer;
    private readonly ProtocolTimer _doubleTimer;
    private ButtonTimings _timings;
    private bool _raw;
    private long _rawChangedAt;
    private bool _stable;
    private long _pressedAt;
    private int _thresholdsReported;
    private bool _heldAtBoot;
    private bool _awaitingSecond;
    private bool _secondPress;
    private TimeSpan _heldBackShort;

    /// <param name="time">Clock.</param>
    /// <param name="timings">Debounce and thresholds.</param>
    /// <param name="onEvent">Receives events, in the owner's serialized context.</param>
    /// <param name="pressedAtStart">The button was already down when the board started (boot hold).</param>
    /// <param name="dispatch">Runs timer expiries in the owner's serialized context.</param>
    public ButtonGestureDetector(
        TimeProvider time, ButtonTimings timings, Action<ButtonEvent> onEvent, bool pressedAtStart, Action<Action>? dispatch = null)
    {
        _time = time;
        _timings = timings;
        _onEvent = onEvent;
        _debounceTimer = new ProtocolTimer(time, OnDebounced, dispatch);
        _holdTimer = new ProtocolTimer(time, EvaluateHold, dispatch);
        _doubleTimer = new ProtocolTimer(time, OnDoubleWindowClosed, dispatch);
        var now = time.GetTimestamp();
        _rawChangedAt = now;
        if (pressedAtStart)
        {
            _raw = _stable = true;
            _pressedAt = now;
            _heldAtBoot = true;
            EvaluateHold();
        }
    }

    /// <summary>True while the debounced state is "pressed".</summary>
    public bool IsPressed => _stable;

    /// <summary>True while the press in progress began before the board started.</summary>
    public bool HeldSinceBoot => _heldAtBoot;

    /// <summary>New timings take effect at once; a press in progress keeps its start time.</summary>
    public void UpdateTimings(ButtonTimings timings)
    {
        _timings = timings;
        if (_stable && _raw)
        {
            _holdTimer.Stop();
            EvaluateHold();
        }
        if (!timings.DoublePressEnabled && _awaitingSecond)
        {
            _doubleTimer.Stop();
            OnDoubleWindowClosed();
        }
    }

    /// <summary>The button's logical state after an edge: true = pressed (polarity already applied).</summary>
    /// <param name="pressed">The new state.</param>
    /// <param name="timestamp">When the edge happened, in <see cref="TimeProvider.GetTimestamp"/> units (the kernel's
    /// monotonic event timestamp); null = now. A stamp from the future (a driver whose clock is not ours) counts as now.</param>
    public void OnRaw(bool pressed, long? timestamp = null)
    {
        if (pressed == _raw)
        {
            return;
        }
        _raw = pressed;
        var now = _time.GetTimestamp();
        _rawChangedAt = timestamp is { } at && at < now ? Math.Max(at, _rawChangedAt) : now;
        // The new level counts once it has held for the debounce time since its edge (a late-delivered edge waits less).
        var remaining = _timings.Debounce - _time.GetElapsedTime(_rawChangedAt, now);
        if (remaining <= TimeSpan.Zero)
        {
            OnDebounced();
        }
        else
        {
            _debounceTimer.Start(remaining);
        }
    }

    public void Dispose()
    {
        _debounceTimer.Dispose();
        _holdTimer.Dispose();
        _doubleTimer.Dispose();
    }

    private void OnDebounced()
    {
        if (_raw == _stable)
        {
            // A glitch that came back: if a threshold fell due meanwhile, it was held back; look again.
            if (_stable && !_holdTimer.IsRunning)
            {
                EvaluateHold();
            }
            return;
        }

        _stable = _raw;
        if (_stable)
        {
            OnPressed(_rawChangedAt);
        }
        else
        {
            OnReleased(_time.GetElapsedTime(_pressedAt, _rawChangedAt));
        }
    }

    private void OnPressed(long at)
    {
        _pressedAt = at;
        _thresholdsReported = 0;
        if (_awaitingSecond)
        {
            _awaitingSecond = false;
            _doubleTimer.Stop();
            _secondPress = true;
        }
        _onEvent(new(ButtonEventKind.Pressed, TimeSpan.Zero));
        EvaluateHold();
    }

    private void EvaluateHold()
    {
        // While a release is being debounced the release decides; a threshold due now waits for the outcome.
        if (!_stable || !_raw)
        {
            return;
        }

        var held = _time.GetElapsedTime(_pressedAt);
        if (_thresholdsReported < 1 && held >= _timings.LongPress)
        {
            _thresholdsReported = 1;
            ReportHeldBackShort();
            _onEvent(new(ButtonEventKind.LongThresholdReached, held));
        }
        if (_thresholdsReported < 2 && held >= _timings.VeryLongPress)
        {
            _thresholdsReported = 2;
            _onEvent(new(ButtonEventKind.VeryLongThresholdReached, held));
        }

        var next = _thresholdsReported switch
        {
            0 => _timings.LongPress,
            1 => _timings.VeryLongPress,
            _ => (TimeSpan?)null,
        };
        if (next is { } threshold)
        {
            _holdTimer.Start(threshold - held);
        }
    }

    private void OnReleased(TimeSpan held)
    {
        _holdTimer.Stop();
        _onEvent(new(ButtonEventKind.Released, held));
        if (_heldAtBoot)
        {
            _heldAtBoot = false;
            if (held >= _timings.VeryLongPress)
            {
                _onEvent(new(ButtonEventKind.BootHold, held));
            }
            return;
        }

        if (held >= _timings.VeryLongPress)
        {
            _onEvent(new(ButtonEventKind.VeryLongPress, held));
        }
        else if (held >= _timings.LongPress)
        {
            _onEvent(new(ButtonEventKind.LongPress, held));
        }
        else if (_secondPress)
        {
            _secondPress = false;
            _onEvent(new(ButtonEventKind.DoublePress, held));
        }
        else if (_timings.DoublePressEnabled)
        {
            // The window runs from the debounced release, and a second press is seen after its own debounce:
            // both are late by the same debounce, so "gap between the edges < window" is what counts.
            _awaitingSecond = true;
            _heldBackShort = held;
            _doubleTimer.Start(_timings.DoublePressWindow);
        }
        else
        {
            _onEvent(new(ButtonEventKind.ShortPress, held));
        }
    }

    private void OnDoubleWindowClosed()
    {
        if (_awaitingSecond)
        {
            _awaitingSecond = false;
            _onEvent(new(ButtonEventKind.ShortPress, _heldBackShort));
        }
    }

    private void ReportHeldBackShort()
    {
        if (_secondPress)
        {
            _secondPress = false;
            _onEvent(new(ButtonEventKind.ShortPress, _heldBackShort));
        }
    }
}
