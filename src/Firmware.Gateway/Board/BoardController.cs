using Firmware.Platform.Gpio;

namespace Firmware.Gateway.Board;

/// <summary>
/// The box's buttons and LEDs: button edges in, commands out to an <see cref="IGatewayCommandSink"/> (never blocking);
/// gateway state in through <see cref="Publish"/>, LED patterns out through one <see cref="LedTimerWheel"/>.
/// Missing or busy lines are warnings, not failures: the gateway runs on without them.
/// All state changes happen under one lock, so GPIO event threads and timers never race each other.
/// Disposing turns the LEDs off and gives LED-class devices their kernel triggers back.
/// </summary>
public sealed class BoardController : IDisposable
{
    private const int PowerIndex = 0;
    private const int TunnelIndex = 1;
    private const int ActivityIndex = 2;

    private readonly IGpioLines _lines;
    private readonly TimeProvider _time;
    private readonly IGatewayCommandSink _commands;
    private readonly Func<ulong>? _trafficProbe;
    private readonly Lock _gate = new();
    private readonly LedTimerWheel _wheel;
    private readonly Button[] _buttons = new Button[2];
    private readonly LedSlot[] _leds = new LedSlot[3];
    private readonly List<string> _warnings = [];
    private readonly Lock _warningsGate = new();
    private BoardOptions _options;
    private BoardProfile _profile;
    private GatewayHealth _health = GatewayHealth.Starting;
    private int _feedbackFrom = -1;
    private bool _disposed;

    /// <param name="options">Validated options (<see cref="BoardOptions.Validate"/>).</param>
    /// <param name="lines">The driver (from <see cref="GpioDriverFactory"/>, or a fake).</param>
    /// <param name="time">Clock for debounce, gestures and LED patterns.</param>
    /// <param name="commands">Where button commands go.</param>
    /// <param name="trafficProbe">Read every 100 ms for the activity LED (the gateway's packet counter);
    /// null uses the counters of the last published <see cref="GatewayHealth"/>.</param>
    /// <exception cref="ArgumentException">The options do not validate.</exception>
    public BoardController(
        BoardOptions options, IGpioLines lines, TimeProvider time, IGatewayCommandSink commands, Func<ulong>? trafficProbe = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(commands);
        ThrowIfInvalid(options);

        _lines = lines;
        _time = time;
        _commands = commands;
        _trafficProbe = trafficProbe;
        _options = options;
        _profile = options.ResolveProfile()!;
        _wheel = new LedTimerWheel(time, ReadTraffic)
        {
            WriteFailed = (name, e) => AddWarning($"board.leds.{name}: writing the LED failed, it is left alone: {e.Message}"),
        };

        lock (_gate)
        {
            _leds[PowerIndex] = OpenLed("power", options.PowerLed, _profile.Pins.PowerLed);
            _leds[TunnelIndex] = OpenLed("tunnel", options.TunnelLed, _profile.Pins.TunnelLed);
            _leds[ActivityIndex] = OpenLed("activity", options.ActivityLed, _profile.Pins.ActivityLed);
            foreach (var led in _leds)
            {
                led.Index = _wheel.Add(led.Name, led.Output);
            }
            ShowNormalPatterns();
            if (options.SelfTest)
            {
                for (var i = 0; i < _leds.Length; i++)
                {
                    _wheel.SetOverlay(i, LedPattern.SelfTest(i));
                }
            }

            _buttons[0] = OpenButton(0, options.Button1, _profile.Pins.Button1);
            _buttons[1] = OpenButton(1, options.Button2, _profile.Pins.Button2);
        }
    }

    /// <summary>What the driver is (for the log).</summary>
    public string DriverDescription => _lines.Description;

    /// <summary>Lines that could not be opened or written: log them as warnings.</summary>
    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (_warningsGate)
            {
                return [.. _warnings];
            }
        }
    }

    /// <summary>Raised (under the board's lock: keep handlers short, do not call back) for every button event,
    /// with the button's name ("button1") and the command it caused (None for feedback events).</summary>
    public event EventHandler<ButtonActivity>? ButtonActivity;

    /// <summary>The latest gateway state; LEDs change only when what they show changes.</summary>
    public void Publish(GatewayHealth health)
    {
        ArgumentNullException.ThrowIfNull(health);
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _health = health;
            ShowNormalPatterns();
        }
    }

    /// <summary>Blinks the status code (<see cref="LedPolicy.StatusCode"/>) twice on the power LED, others dark.</summary>
    public void ShowStatusCode()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            var code = LedPattern.BlinkCodeTwice(LedPolicy.StatusCode(_health));
            _wheel.SetOverlay(PowerIndex, code);
            var dark = LedPattern.Dark(code.Duration);
            _wheel.SetOverlay(TunnelIndex, dark);
            _wheel.SetOverlay(ActivityIndex, dark);
        }
    }

    /// <summary>
    /// Applies new options (a config reload). Invalid options change nothing and come back as errors. A button whose
    /// pin and wiring did not change keeps its line and any press in progress: only bindings and timings change.
    /// </summary>
    public IReadOnlyList<BoardOptionError> ApplyOptions(BoardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            return errors;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _options = options;
            _profile = options.ResolveProfile()!;

            var pins = _profile.Pins;
            ReplaceLedIfMoved(PowerIndex, options.PowerLed, pins.PowerLed);
            ReplaceLedIfMoved(TunnelIndex, options.TunnelLed, pins.TunnelLed);
            ReplaceLedIfMoved(ActivityIndex, options.ActivityLed, pins.ActivityLed);
            ReplaceButtonIfMoved(0, options.Button1, pins.Button1);
            ReplaceButtonIfMoved(1, options.Button2, pins.Button2);
        }
        return errors;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            foreach (var button in _buttons)
            {
                button.Close();
            }
            _wheel.Dispose();
        }
    }

    private static void ThrowIfInvalid(BoardOptions options)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid board options: " + string.Join("; ", errors), nameof(options));
        }
    }

    private ulong ReadTraffic() => _trafficProbe?.Invoke() ?? Volatile.Read(ref _health).TrafficCount;

    private void AddWarning(string warning)
    {
        lock (_warningsGate)
        {
            _warnings.Add(warning);
        }
    }

    private void ShowNormalPatterns()
    {
        var patterns = _options.Enabled ? LedPolicy.Patterns(_health) : new LedPatterns(LedPattern.Off, LedPattern.Off, LedPattern.Off);
        _wheel.SetPattern(PowerIndex, patterns.Power);
        _wheel.SetPattern(TunnelIndex, patterns.Tunnel);
        _wheel.SetPattern(ActivityIndex, patterns.Activity);
    }

    private LedSlot OpenLed(string name, LedOptions options, int defaultPin)
    {
        var slot = new LedSlot(name) { Pin = options.Pin ?? defaultPin, Device = options.Device, Enabled = options.Enabled && _options.Enabled };
        if (!slot.Enabled)
        {
            return slot;
        }
        try
        {
            slot.Output = slot.Device is { } device ? _lines.OpenLedDevice(name, device) : _lines.OpenOutput(name, slot.Pin);
        }
        catch (Exception e) when (IsLineProblem(e))
        {
            var what = slot.Device is { } d ? $"LED device '{d}'" : $"GPIO {slot.Pin}";
            AddWarning($"board.leds.{name}: cannot open {what}, LED disabled: {e.Message}");
        }
        return slot;
    }

    private void ReplaceLedIfMoved(int index, LedOptions options, int defaultPin)
    {
        var old = _leds[index];
        var enabled = options.Enabled && _options.Enabled;
        if (old.Enabled == enabled && old.Pin == (options.Pin ?? defaultPin) && old.Device == options.Device)
        {
            return;
        }
        _wheel.ReplaceOutput(index, null);
        var slot = OpenLed(old.Name, options, defaultPin);
        slot.Index = index;
        _leds[index] = slot;
        _wheel.ReplaceOutput(index, slot.Output);
        ShowNormalPatterns();
    }

    private Button OpenButton(int index, ButtonOptions options, int defaultPin)
    {
        var button = new Button($"button{index + 1}", index, options, options.Pin ?? defaultPin, _options.Enabled && options.Enabled);
        if (!button.Enabled)
        {
            return button;
        }

        var request = new GpioInputRequest(button.Name, button.Pin, options.EffectiveBias, options.ActiveLow) { Debounce = _options.Debounce };
        try
        {
            button.Input = _lines.OpenInput(request, level => OnLevel(button, level));
        }
        catch (Exception e) when (IsLineProblem(e))
        {
            AddWarning($"board.buttons.{button.Name}: cannot open GPIO {button.Pin}, button disabled: {e.Message}");
            return button;
        }

        var pressedAtStart = false;
        try
        {
            pressedAtStart = button.Input.ReadLevel() != options.ActiveLow;
        }
        catch (Exception e) when (IsLineProblem(e))
        {
            AddWarning($"board.buttons.{button.Name}: cannot read GPIO {button.Pin} at start: {e.Message}");
        }

        button.Detector = new ButtonGestureDetector(
            _time, ButtonTimings.From(_options, options), ev => OnButtonEvent(button, ev), pressedAtStart, Serialize);
        return button;
    }

    private void ReplaceButtonIfMoved(int index, ButtonOptions options, int defaultPin)
    {
        var old = _buttons[index];
        var enabled = _options.Enabled && options.Enabled;
        if (old.Enabled == enabled && old.Pin == (options.Pin ?? defaultPin)
            && old.Options.ActiveLow == options.ActiveLow && old.Options.EffectiveBias == options.EffectiveBias)
        {
            old.Options = options;
            old.Detector?.UpdateTimings(ButtonTimings.From(_options, options));
            return;
        }

        if (_feedbackFrom == index)
        {
            EndFeedback();
        }
        old.Close();
        _buttons[index] = OpenButton(index, options, defaultPin);
    }

    private void Serialize(Action action)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                action();
            }
        }
    }

    private void OnLevel(Button button, GpioLevelChange change)
    {
        lock (_gate)
        {
            // A late edge from a line closed by a reload belongs to nobody any more.
            if (_disposed || button.Closed)
            {
                return;
            }
            button.Detector?.OnRaw(change.Level != button.Options.ActiveLow, change.Timestamp);
        }
    }

    private void OnButtonEvent(Button button, ButtonEvent ev)
    {
        var options = button.Options;
        var command = GatewayCommand.None;
        switch (ev.Kind)
        {
            case ButtonEventKind.LongThresholdReached when options.Long != GatewayCommand.None && !button.Detector!.HeldSinceBoot:
                StartFeedback(button.Index, hold: true);
                break;
            case ButtonEventKind.VeryLongThresholdReached when options.VeryLong != GatewayCommand.None
                || (button.Index == 0 && button.Detector!.HeldSinceBoot):
                StartFeedback(button.Index, hold: false);
                break;
            case ButtonEventKind.Released when _feedbackFrom == button.Index:
                EndFeedback();
                break;
            case ButtonEventKind.ShortPress:
                command = options.Short;
                break;
            case ButtonEventKind.DoublePress:
                command = options.Double;
                break;
            case ButtonEventKind.LongPress:
                command = options.Long;
                break;
            case ButtonEventKind.VeryLongPress:
                command = options.VeryLong;
                break;
            case ButtonEventKind.BootHold when button.Index == 0:
                command = GatewayCommand.FactoryReset;
                break;
        }

        if (command == GatewayCommand.ShowStatus)
        {
            ShowStatusCode();
        }
        var posted = command != GatewayCommand.None && _commands.TryPost(command);
        ButtonActivity?.Invoke(this, new ButtonActivity(button.Name, ev, command, posted));
    }

    private void StartFeedback(int buttonIndex, bool hold)
    {
        _feedbackFrom = buttonIndex;
        for (var i = 0; i < _leds.Length; i++)
        {
            _wheel.SetOverlay(i, hold ? LedPattern.On : LedPattern.Warning(i));
        }
    }

    private void EndFeedback()
    {
        _feedbackFrom = -1;
        for (var i = 0; i < _leds.Length; i++)
        {
            _wheel.SetOverlay(i, null);
        }
    }

    private static bool IsLineProblem(Exception e) =>
        e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException
            or PlatformNotSupportedException or System.ComponentModel.Win32Exception;

    private sealed class LedSlot(string name)
    {
        public string Name { get; } = name;

        public int Index { get; set; }

        public bool Enabled { get; init; }

        public int Pin { get; init; }

        public string? Device { get; init; }

        public IGpioOutput? Output { get; set; }
    }

    private sealed class Button(string name, int index, ButtonOptions options, int pin, bool enabled)
    {
        public string Name { get; } = name;

        public int Index { get; } = index;

        public ButtonOptions Options { get; set; } = options;

        public int Pin { get; } = pin;

        public bool Enabled { get; } = enabled;

        public IGpioInput? Input { get; set; }

        public ButtonGestureDetector? Detector { get; set; }

        public bool Closed { get; private set; }

        public void Close()
        {
            Closed = true;
            Detector?.Dispose();
            Input?.Dispose();
        }
    }
}

/// <summary>A button event as the board handled it: for the log.</summary>
/// <param name="Button">"button1" or "button2".</param>
/// <param name="Event">What the button did.</param>
/// <param name="Command">The command it caused (None for feedback events and unbound gestures).</param>
/// <param name="Posted">False when the command queue was full and the command was dropped.</param>
public sealed record ButtonActivity(string Button, ButtonEvent Event, GatewayCommand Command, bool Posted);
