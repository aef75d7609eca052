using System.Globalization;

namespace Firmware.Platform.Gpio;

/// <summary>
/// GPIO for the demo and for machines without any: LED changes become text lines ("[led] tunnel: on"), and buttons
/// are pressed by calling <see cref="Press"/>/<see cref="Release"/> or by feeding lines such as "click button1",
/// "hold button1 3.5", "press button2", "release button2" to <see cref="RunScriptAsync"/>.
/// Output is rate-limited per LED: changes closer together than the interval are merged and only the state at the
/// end of the interval is printed, so a heartbeat cannot flood a terminal or a journal.
/// </summary>
public sealed class ConsoleGpioLines : IGpioLines
{
    private readonly TextWriter _output;
    private readonly TimeProvider _time;
    private readonly TimeSpan _minInterval;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LedLine> _leds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ButtonLine> _buttons = new(StringComparer.Ordinal);
    private readonly ITimer _flushTimer;
    private bool _flushArmed;
    private bool _disposed;

    /// <param name="output">Where LED and button lines go.</param>
    /// <param name="time">Clock for the rate limit and for "hold"/"click" in scripts.</param>
    /// <param name="minInterval">Shortest time between two lines about the same LED (default 500 ms).</param>
    public ConsoleGpioLines(TextWriter output, TimeProvider time, TimeSpan? minInterval = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(time);
        _output = output;
        _time = time;
        _minInterval = minInterval ?? TimeSpan.FromMilliseconds(500);
        _flushTimer = time.CreateTimer(static s => ((ConsoleGpioLines)s!).Flush(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public string Description => "console (LEDs printed, buttons from commands)";

    /// <summary>Names of the buttons opened so far.</summary>
    public IReadOnlyCollection<string> ButtonNames
    {
        get
        {
            lock (_gate)
            {
                return [.. _buttons.Keys];
            }
        }
    }

    public IGpioInput OpenInput(GpioInputRequest request, Action<GpioLevelChange> onLevelChanged)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onLevelChanged);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var button = new ButtonLine(this, request, onLevelChanged);
            _buttons[request.Name] = button;
            return button;
        }
    }

    public IGpioOutput OpenOutput(string name, int line) => OpenLed(name);

    public IGpioOutput OpenLedDevice(string name, string device) => OpenLed(name);

    /// <summary>Presses the named button (the level goes to its active level). Returns false for an unknown name.</summary>
    public bool Press(string name) => SetPressed(name, true);

    /// <summary>Releases the named button. Returns false for an unknown name.</summary>
    public bool Release(string name) => SetPressed(name, false);

    /// <summary>
    /// Reads button commands, one per line, until the reader ends or <paramref name="cancel"/> fires:
    /// "press NAME", "release NAME", "click NAME" (a 100 ms press), "hold NAME SECONDS". Blank lines and lines
    /// starting with '#' are skipped; anything else is reported as not understood.
    /// </summary>
    public async Task RunScriptAsync(TextReader input, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(input);
        while (await input.ReadLineAsync(cancel).ConfigureAwait(false) is { } line)
        {
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0 || words[0].StartsWith('#'))
            {
                continue;
            }

            var known = words.Length >= 2 && _buttons.ContainsKey(words[1]);
            switch (words[0])
            {
                case "press" when known && words.Length == 2:
                    Press(words[1]);
                    break;
                case "release" when known && words.Length == 2:
                    Release(words[1]);
                    break;
                case "click" when known && words.Length == 2:
                    await HoldAsync(words[1], TimeSpan.FromMilliseconds(100), cancel).ConfigureAwait(false);
                    break;
                case "hold" when known && words.Length == 3
                    && double.TryParse(words[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                    && seconds is >= 0 and <= 3600:
                    await HoldAsync(words[1], TimeSpan.FromSeconds(seconds), cancel).ConfigureAwait(false);
                    break;
                default:
                    WriteLine($"[button] not understood: {line.Trim()} (press|release|click NAME, hold NAME SECONDS)");
                    break;
            }
        }
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
            _flushTimer.Dispose();
        }
    }

    private async Task HoldAsync(string name, TimeSpan duration, CancellationToken cancel)
    {
        Press(name);
        try
        {
            await Task.Delay(duration, _time, cancel).ConfigureAwait(false);
        }
        finally
        {
            Release(name);
        }
    }

    private bool SetPressed(string name, bool pressed)
    {
        ButtonLine? button;
        lock (_gate)
        {
            if (!_buttons.TryGetValue(name, out button) || button.Closed)
            {
                return false;
            }
            var level = pressed != button.Request.ActiveLow;
            if (button.Level == level)
            {
                return true;
            }
            button.Level = level;
            WriteLine($"[button] {name}: {(pressed ? "pressed" : "released")}");
        }
        // Outside the lock: the receiver may call back into us (e.g. write an LED) from its handler.
        button.OnLevelChanged(new GpioLevelChange(pressed != button.Request.ActiveLow));
        return true;
    }

    private LedLine OpenLed(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var led = new LedLine(this, name);
            _leds[name] = led;
            return led;
        }
    }

    private void WriteLed(LedLine led, bool on)
    {
        lock (_gate)
        {
            if (_disposed || led.Closed)
            {
                return;
            }
            led.Current = on;
            if (led.Printed == on)
            {
                return;
            }

            var now = _time.GetTimestamp();
            if (led.LastPrintAt is null || _time.GetElapsedTime(led.LastPrintAt.Value, now) >= _minInterval)
            {
                Print(led, now);
            }
            else if (!_flushArmed)
            {
                _flushArmed = true;
                _flushTimer.Change(_minInterval - _time.GetElapsedTime(led.LastPrintAt.Value, now), Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void Flush()
    {
        lock (_gate)
        {
            _flushArmed = false;
            if (_disposed)
            {
                return;
            }

            var now = _time.GetTimestamp();
            TimeSpan? nextDue = null;
            foreach (var led in _leds.Values)
            {
                if (led.Closed || led.Printed == led.Current)
                {
                    continue;
                }
                var due = _minInterval - _time.GetElapsedTime(led.LastPrintAt!.Value, now);
                if (due <= TimeSpan.Zero)
                {
                    Print(led, now);
                }
                else if (nextDue is null || due < nextDue)
                {
                    nextDue = due;
                }
            }

            if (nextDue is { } wait)
            {
                _flushArmed = true;
                _flushTimer.Change(wait, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void Print(LedLine led, long now)
    {
        led.Printed = led.Current;
        led.LastPrintAt = now;
        WriteLine($"[led] {led.Name}: {(led.Current ? "on" : "off")}");
    }

    private void WriteLine(string text)
    {
        try
        {
            _output.WriteLine(text);
            _output.Flush();
        }
        catch (IOException)
        {
            // A closed terminal must not stop the gateway.
        }
        catch (ObjectDisposedException)
        {
            // Likewise a writer disposed by the host during shutdown.
        }
    }

    private sealed class LedLine(ConsoleGpioLines owner, string name) : IGpioOutput
    {
        public string Name { get; } = name;

        public bool Current { get; set; }

        public bool? Printed { get; set; }

        /// <summary>Monotonic timestamp of the last line printed about this LED.</summary>
        public long? LastPrintAt { get; set; }

        public bool Closed { get; private set; }

        public void Write(bool on) => owner.WriteLed(this, on);

        public void Dispose()
        {
            owner.WriteLed(this, false);
            lock (owner._gate)
            {
                Closed = true;
            }
        }
    }

    private sealed class ButtonLine(ConsoleGpioLines owner, GpioInputRequest request, Action<GpioLevelChange> onLevelChanged) : IGpioInput
    {
        public GpioInputRequest Request { get; } = request;

        public Action<GpioLevelChange> OnLevelChanged { get; } = onLevelChanged;

        // Starts released.
        public bool Level { get; set; } = request.ActiveLow;

        public bool Closed { get; private set; }

        public bool ReadLevel()
        {
            lock (owner._gate)
            {
                return Level;
            }
        }

        public void Dispose()
        {
            lock (owner._gate)
            {
                Closed = true;
                if (owner._buttons.TryGetValue(Request.Name, out var current) && ReferenceEquals(current, this))
                {
                    owner._buttons.Remove(Request.Name);
                }
            }
        }
    }
}
