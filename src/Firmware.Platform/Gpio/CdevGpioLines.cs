using System.Device.Gpio;
using System.Diagnostics;

namespace Firmware.Platform.Gpio;

/// <summary>
/// GPIO through the kernel's character device with our uAPI v2 driver (<see cref="GpioCdevV2Driver"/>) behind a
/// System.Device.Gpio <see cref="GpioController"/>: no libgpiod at run time, any kernel since 5.10. Buttons are
/// requested with their bias, polarity (active-low, so the kernel reports "pressed" as a rising edge) and the
/// kernel's debounce; their edges carry the kernel's CLOCK_MONOTONIC timestamps.
/// </summary>
public sealed class CdevGpioLines : IGpioLines
{
    private readonly GpioController _controller;
    private readonly GpioCdevV2Driver _driver;
    private readonly TimeProvider _time;
    private readonly string _ledRoot;
    private readonly string? _ledState;
    private readonly Lock _gate = new();
    private bool _disposed;

    private CdevGpioLines(GpioCdevV2Driver driver, TimeProvider time, string ledRoot, string? ledState)
    {
        _ledState = ledState;
        _driver = driver;
        _controller = new GpioController(driver);
        _time = time;
        _ledRoot = ledRoot;
        Description = $"GPIO uAPI v2 on {driver.ChipName} ({driver.ChipLabel})";
    }

    public string Description { get; }

    /// <summary>Opens <paramref name="chip"/>.</summary>
    /// <param name="chip">The chip (from <see cref="GpioChipDirectory"/>).</param>
    /// <param name="time">The board's clock. Kernel event timestamps are CLOCK_MONOTONIC, which is what
    /// <see cref="TimeProvider.System"/>'s timestamps (Stopwatch) count on Linux, so they are passed on only with
    /// the system clock; with any other clock an edge is stamped "now".</param>
    /// <param name="ledRoot">Where LED-class devices live.</param>
    /// <param name="ledState">Where LED-class triggers are saved while held (see <see cref="LedClassDevice"/>).</param>
    /// <exception cref="GpioUnavailableException">The chip cannot be opened.</exception>
    public static CdevGpioLines Open(GpioChip chip, TimeProvider time, string ledRoot = LedClassDevice.DefaultRoot, string? ledState = null)
    {
        ArgumentNullException.ThrowIfNull(chip);
        ArgumentNullException.ThrowIfNull(time);
        try
        {
            return new CdevGpioLines(new GpioCdevV2Driver(chip.Path), time, ledRoot, ledState);
        }
        catch (IOException e)
        {
            throw new GpioUnavailableException($"cannot open {chip.Path}: {e.Message}", e);
        }
    }

    /// <summary>A kernel event timestamp (CLOCK_MONOTONIC ns) in <see cref="Stopwatch"/> units.</summary>
    internal static long StopwatchTimestamp(ulong monotonicNs) =>
        Stopwatch.Frequency == 1_000_000_000 ? (long)monotonicNs : (long)((Int128)monotonicNs * Stopwatch.Frequency / 1_000_000_000);

    public IGpioInput OpenInput(GpioInputRequest request, Action<GpioLevelChange> onLevelChanged)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(onLevelChanged);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var mode = request.Bias switch
            {
                GpioBias.PullUp => PinMode.InputPullUp,
                GpioBias.PullDown => PinMode.InputPullDown,
                _ => PinMode.Input,
            };
            _driver.SetLineOptions(request.Line, new GpioLineOptions(request.ActiveLow, request.Debounce));
            _controller.OpenPin(request.Line, mode);
            var system = ReferenceEquals(_time, TimeProvider.System);
            var activeLow = request.ActiveLow;
            // The line is requested active-low, so the kernel's values are logical; the seam speaks electrical levels.
            Action<GpioEdgeEvent> handler = e => onLevelChanged(
                new GpioLevelChange(e.Rising != activeLow, system ? StopwatchTimestamp(e.TimestampNs) : null));
            try
            {
                _driver.AddEdgeCallback(request.Line, handler);
            }
            catch
            {
                _controller.ClosePin(request.Line);
                throw;
            }
            return new Input(this, request.Line, activeLow, handler);
        }
    }

    public IGpioOutput OpenOutput(string name, int line)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _controller.OpenPin(line, PinMode.Output, PinValue.Low);
            return new Output(this, line);
        }
    }

    public IGpioOutput OpenLedDevice(string name, string device) => LedClassDevice.Open(device, _ledRoot, _ledState);

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        _controller.Dispose();
    }

    private sealed class Input(CdevGpioLines owner, int line, bool activeLow, Action<GpioEdgeEvent> handler) : IGpioInput
    {
        private bool _closed;

        public bool ReadLevel()
        {
            lock (owner._gate)
            {
                ObjectDisposedException.ThrowIf(_closed || owner._disposed, this);
                return (owner._controller.Read(line) == PinValue.High) != activeLow;
            }
        }

        public void Dispose()
        {
            lock (owner._gate)
            {
                if (_closed || owner._disposed)
                {
                    return;
                }
                _closed = true;
            }
            // Outside the lock: stopping the edge thread waits for a callback in flight, which may take the board's lock.
            owner._driver.RemoveEdgeCallback(line, handler);
            lock (owner._gate)
            {
                if (!owner._disposed)
                {
                    owner._controller.ClosePin(line);
                }
            }
        }
    }

    private sealed class Output(CdevGpioLines owner, int line) : IGpioOutput
    {
        private bool _closed;

        public void Write(bool on)
        {
            lock (owner._gate)
            {
                ObjectDisposedException.ThrowIf(_closed || owner._disposed, this);
                owner._controller.Write(line, on ? PinValue.High : PinValue.Low);
            }
        }

        public void Dispose()
        {
            lock (owner._gate)
            {
                if (_closed || owner._disposed)
                {
                    return;
                }
                _closed = true;
                owner._controller.Write(line, PinValue.Low);
                owner._controller.ClosePin(line);
            }
        }
    }
}

/// <summary>GPIO hardware is missing or unreadable: the gateway runs on without buttons.</summary>
public sealed class GpioUnavailableException : Exception
{
    public GpioUnavailableException()
    {
    }

    public GpioUnavailableException(string message)
        : base(message)
    {
    }

    public GpioUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
