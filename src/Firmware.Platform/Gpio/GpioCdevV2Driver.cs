using System.Device.Gpio;

namespace Firmware.Platform.Gpio;

/// <summary>Per-line settings that <see cref="PinMode"/> cannot say: polarity and the kernel's debounce.</summary>
/// <param name="ActiveLow">The kernel inverts the line: values and edges are logical (pressed = high).</param>
/// <param name="Debounce">The kernel's debounce period for an input (zero = none; rounded to microseconds).</param>
public readonly record struct GpioLineOptions(bool ActiveLow, TimeSpan Debounce);

/// <summary>An edge with the kernel's timestamp.</summary>
/// <param name="Pin">The line offset.</param>
/// <param name="Rising">True for a rising edge of the line's (logical) value.</param>
/// <param name="TimestampNs">CLOCK_MONOTONIC nanoseconds at the edge, as stamped by the kernel.</param>
public readonly record struct GpioEdgeEvent(int Pin, bool Rising, ulong TimestampNs);

/// <summary>
/// A System.Device.Gpio driver on the kernel's GPIO character-device uAPI v2 (<c>/dev/gpiochipN</c>, Linux 5.10+),
/// with no libgpiod: every line is its own GPIO_V2_GET_LINE request, reconfigured in place with
/// GPIO_V2_LINE_SET_CONFIG when its mode or edge detection changes. Beyond <see cref="GpioDriver"/> it offers
/// active-low and the kernel's debounce attribute (<see cref="SetLineOptions"/>) and edges with their kernel
/// timestamps (<see cref="AddEdgeCallback"/>), which are CLOCK_MONOTONIC: a wall-clock step cannot touch them.
/// Edges are read by one thread per watched line, blocked in poll() on the line's fd and an eventfd that wakes it to
/// stop; callbacks run on that thread.
/// </summary>
public sealed class GpioCdevV2Driver : GpioDriver
{
    private const string Consumer = "pptp-gateway";

    private readonly Lock _gate = new();
    private readonly Dictionary<int, Line> _lines = [];
    private readonly Dictionary<int, GpioLineOptions> _options = [];
    private readonly int _chipFd;
    private readonly int _pinCount;
    private bool _disposed;

    /// <summary>Opens the chip at <paramref name="devicePath"/> ("/dev/gpiochip0").</summary>
    /// <exception cref="IOException">The device cannot be opened or is not a GPIO chip.</exception>
    public unsafe GpioCdevV2Driver(string devicePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(devicePath);
        DevicePath = devicePath;
        _chipFd = GpioCdevNative.Open(devicePath, GpioCdevNative.ORdWr | GpioCdevNative.OCloexec);
        if (_chipFd < 0)
        {
            throw GpioCdevNative.LastError($"open {devicePath}");
        }
        var info = stackalloc byte[GpioV2Abi.ChipInfoSize];
        if (GpioCdevNative.Ioctl(_chipFd, GpioV2Abi.GetChipInfoIoctl, info) < 0)
        {
            var e = GpioCdevNative.LastError($"GPIO_GET_CHIPINFO on {devicePath}");
            _ = GpioCdevNative.Close(_chipFd);
            throw e;
        }
        var (name, label, lines) = GpioV2Abi.DecodeChipInfo(new ReadOnlySpan<byte>(info, GpioV2Abi.ChipInfoSize));
        ChipName = name;
        ChipLabel = label;
        _pinCount = (int)lines;
    }

    public string DevicePath { get; }

    public string ChipName { get; }

    public string ChipLabel { get; }

    protected override int PinCount => _pinCount;

    /// <summary>Sets polarity and debounce for <paramref name="pin"/>; applied at once if it is open, else when opened.</summary>
    public void SetLineOptions(int pin, GpioLineOptions options)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _options[pin] = options;
            if (_lines.TryGetValue(pin, out var line))
            {
                Reconfigure(line);
            }
        }
    }

    /// <summary>Calls <paramref name="callback"/> for each edge of <paramref name="pin"/> (which must be open as an
    /// input), with the kernel's timestamp; the line is switched to detect both edges.</summary>
    public void AddEdgeCallback(int pin, Action<GpioEdgeEvent> callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (_gate)
        {
            var line = OpenLine(pin);
            line.EdgeCallbacks.Add(callback);
            EnsureWatching(line);
        }
    }

    /// <summary>Stops calling <paramref name="callback"/>. The line keeps detecting edges until it is closed.</summary>
    public void RemoveEdgeCallback(int pin, Action<GpioEdgeEvent> callback)
    {
        lock (_gate)
        {
            if (_lines.TryGetValue(pin, out var line))
            {
                _ = line.EdgeCallbacks.Remove(callback);
            }
        }
    }

    /// <summary>Who holds <paramref name="pin"/> now (the consumer the kernel reports), or null if it is free.</summary>
    public unsafe string? LineConsumer(int pin)
    {
        var info = stackalloc byte[GpioV2Abi.LineInfoSize];
        var span = new Span<byte>(info, GpioV2Abi.LineInfoSize);
        GpioV2Abi.EncodeLineInfoQuery(span, (uint)pin);
        if (GpioCdevNative.Ioctl(_chipFd, GpioV2Abi.GetLineInfoIoctl, info) < 0)
        {
            return null;
        }
        var (flags, consumer) = GpioV2Abi.DecodeLineInfo(span);
        return flags.HasFlag(GpioV2LineFlags.Used) ? (consumer.Length == 0 ? "(unnamed)" : consumer) : null;
    }

    protected override void OpenPin(int pinNumber)
    {
        lock (_gate)
        {
            _ = OpenLine(pinNumber);
        }
    }

    protected override void ClosePin(int pinNumber)
    {
        Thread? join;
        lock (_gate)
        {
            if (!_lines.Remove(pinNumber, out var line))
            {
                return;
            }
            join = Close(line);
        }
        join?.Join();
    }

    protected override void SetPinMode(int pinNumber, PinMode mode) => SetPinMode(pinNumber, mode, PinValue.Low);

    protected override void SetPinMode(int pinNumber, PinMode mode, PinValue initialValue)
    {
        if (!IsPinModeSupported(pinNumber, mode))
        {
            throw new InvalidOperationException($"pin mode {mode} is not supported by the GPIO character device driver");
        }
        lock (_gate)
        {
            var line = OpenLine(pinNumber);
            if (mode == PinMode.Output && line.Watching)
            {
                throw new InvalidOperationException($"line {pinNumber} has edge callbacks; it cannot become an output");
            }
            line.Mode = mode;
            line.OutputValue = initialValue == PinValue.High;
            Reconfigure(line);
        }
    }

    protected override PinMode GetPinMode(int pinNumber)
    {
        lock (_gate)
        {
            return Existing(pinNumber).Mode;
        }
    }

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) =>
        mode is PinMode.Input or PinMode.InputPullUp or PinMode.InputPullDown or PinMode.Output;

    protected override unsafe PinValue Read(int pinNumber)
    {
        int fd;
        lock (_gate)
        {
            fd = Existing(pinNumber).Fd;
        }
        var values = stackalloc byte[GpioV2Abi.LineValuesSize];
        var span = new Span<byte>(values, GpioV2Abi.LineValuesSize);
        GpioV2Abi.EncodeLineValues(span, false);
        if (GpioCdevNative.Ioctl(fd, GpioV2Abi.LineGetValuesIoctl, values) < 0)
        {
            throw GpioCdevNative.LastError($"GPIO_V2_LINE_GET_VALUES on {ChipName} line {pinNumber}");
        }
        return GpioV2Abi.DecodeLineValue(span) ? PinValue.High : PinValue.Low;
    }

    protected override unsafe void Write(int pinNumber, PinValue value)
    {
        lock (_gate)
        {
            var line = Existing(pinNumber);
            var values = stackalloc byte[GpioV2Abi.LineValuesSize];
            GpioV2Abi.EncodeLineValues(new Span<byte>(values, GpioV2Abi.LineValuesSize), value == PinValue.High);
            if (GpioCdevNative.Ioctl(line.Fd, GpioV2Abi.LineSetValuesIoctl, values) < 0)
            {
                throw GpioCdevNative.LastError($"GPIO_V2_LINE_SET_VALUES on {ChipName} line {pinNumber}");
            }
            line.OutputValue = value == PinValue.High;
        }
    }

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (_gate)
        {
            var line = OpenLine(pinNumber);
            line.ValueCallbacks.Add((eventTypes, callback));
            EnsureWatching(line);
        }
    }

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
        lock (_gate)
        {
            if (_lines.TryGetValue(pinNumber, out var line))
            {
                _ = line.ValueCallbacks.RemoveAll(c => c.Callback == callback);
            }
        }
    }

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken)
    {
        using var seen = new ManualResetEventSlim();
        PinEventTypes type = PinEventTypes.None;
        void OnEdge(object sender, PinValueChangedEventArgs e)
        {
            if ((e.ChangeType & eventTypes) != 0)
            {
                type = e.ChangeType;
                seen.Set();
            }
        }

        AddCallbackForPinValueChangedEvent(pinNumber, eventTypes, OnEdge);
        try
        {
            seen.Wait(cancellationToken);
            return new WaitForEventResult { EventTypes = type, TimedOut = false };
        }
        catch (OperationCanceledException)
        {
            return new WaitForEventResult { EventTypes = PinEventTypes.None, TimedOut = true };
        }
        finally
        {
            RemoveCallbackForPinValueChangedEvent(pinNumber, OnEdge);
        }
    }

    protected override void Dispose(bool disposing)
    {
        var joins = new List<Thread>();
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            foreach (var line in _lines.Values)
            {
                if (Close(line) is { } join)
                {
                    joins.Add(join);
                }
            }
            _lines.Clear();
        }
        foreach (var join in joins)
        {
            join.Join();
        }
        _ = GpioCdevNative.Close(_chipFd);
        base.Dispose(disposing);
    }

    /// <summary>
    /// Releases a line (under the lock). Its edge thread, if any, is woken and closes the line's fd itself on its way
    /// out; the caller joins it unless it is inside a callback right now. That callback may be waiting for a lock the
    /// caller holds (the board closes a button under its own lock), so waiting for it would deadlock: the thread
    /// finishes on its own instead, and the line is free a moment later.
    /// </summary>
    private static Thread? Close(Line line)
    {
        line.Closed = true;
        if (!line.WatcherRunning)
        {
            line.CloseFd();
            return null;
        }
        line.SignalStop();
        return line.InCallback ? null : line.Watcher;
    }

    private Line Existing(int pin)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _lines.TryGetValue(pin, out var line) ? line : throw new InvalidOperationException($"line {pin} is not open");
    }

    private unsafe Line OpenLine(int pin)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_lines.TryGetValue(pin, out var existing))
        {
            return existing;
        }
        if (pin < 0 || pin >= _pinCount)
        {
            throw new ArgumentOutOfRangeException(nameof(pin), pin, $"{ChipName} has lines 0–{_pinCount - 1}");
        }

        var line = new Line(pin) { Mode = PinMode.Input };
        var request = stackalloc byte[GpioV2Abi.LineRequestSize];
        var span = new Span<byte>(request, GpioV2Abi.LineRequestSize);
        GpioV2Abi.EncodeLineRequest(span, (uint)pin, Consumer, Settings(line));
        if (GpioCdevNative.Ioctl(_chipFd, GpioV2Abi.GetLineIoctl, request) < 0)
        {
            var e = GpioCdevNative.LastError($"GPIO_V2_GET_LINE on {ChipName} line {pin}");
            if (e.HResult == GpioCdevNative.EBusy && LineConsumer(pin) is { } holder)
            {
                throw new IOException($"{ChipName} line {pin} is already in use by '{holder}' (another process holds it)", e);
            }
            throw e;
        }
        line.Fd = GpioV2Abi.DecodeRequestFd(span);
        _lines[pin] = line;
        return line;
    }

    private GpioV2LineSettings Settings(Line line)
    {
        var options = _options.TryGetValue(line.Pin, out var o) ? o : default;
        var flags = line.Mode switch
        {
            PinMode.Output => GpioV2LineFlags.Output,
            PinMode.InputPullUp => GpioV2LineFlags.Input | GpioV2LineFlags.BiasPullUp,
            PinMode.InputPullDown => GpioV2LineFlags.Input | GpioV2LineFlags.BiasPullDown,
            _ => GpioV2LineFlags.Input,
        };
        if (options.ActiveLow)
        {
            flags |= GpioV2LineFlags.ActiveLow;
        }
        uint debounce = 0;
        if (line.Mode != PinMode.Output)
        {
            if (line.Watching)
            {
                flags |= GpioV2LineFlags.EdgeRising | GpioV2LineFlags.EdgeFalling;
            }
            debounce = (uint)Math.Clamp(options.Debounce.Ticks / TimeSpan.TicksPerMicrosecond, 0, uint.MaxValue);
        }
        return new GpioV2LineSettings(flags, debounce, line.OutputValue);
    }

    private unsafe void Reconfigure(Line line)
    {
        var config = stackalloc byte[GpioV2Abi.LineConfigSize];
        GpioV2Abi.EncodeLineConfig(new Span<byte>(config, GpioV2Abi.LineConfigSize), Settings(line));
        if (GpioCdevNative.Ioctl(line.Fd, GpioV2Abi.LineSetConfigIoctl, config) < 0)
        {
            throw GpioCdevNative.LastError($"GPIO_V2_LINE_SET_CONFIG on {ChipName} line {line.Pin}");
        }
    }

    private void EnsureWatching(Line line)
    {
        if (line.Watching)
        {
            return;
        }
        if (line.Mode == PinMode.Output)
        {
            throw new InvalidOperationException($"line {line.Pin} is an output; edges are watched on inputs only");
        }
        line.Watching = true;
        try
        {
            Reconfigure(line);
        }
        catch
        {
            line.Watching = false;
            throw;
        }
        line.StartWatcher(this);
    }

    /// <summary>Runs the callbacks for one edge on the line's thread; false when the line is being closed.</summary>
    private bool Dispatch(Line line, GpioV2LineEvent ev)
    {
        (PinEventTypes Types, PinChangeEventHandler Callback)[] valueCallbacks;
        Action<GpioEdgeEvent>[] edgeCallbacks;
        lock (_gate)
        {
            if (line.Closed)
            {
                return false;
            }
            line.InCallback = true;
            valueCallbacks = [.. line.ValueCallbacks];
            edgeCallbacks = [.. line.EdgeCallbacks];
        }
        try
        {
            var type = ev.Rising ? PinEventTypes.Rising : PinEventTypes.Falling;
            var edge = new GpioEdgeEvent(line.Pin, ev.Rising, ev.TimestampNs);
            foreach (var callback in edgeCallbacks)
            {
                callback(edge);
            }
            if (valueCallbacks.Length > 0)
            {
                var args = new PinValueChangedEventArgs(type, line.Pin);
                foreach (var (types, callback) in valueCallbacks)
                {
                    if ((types & type) != 0)
                    {
                        callback(this, args);
                    }
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                line.InCallback = false;
            }
        }
        return true;
    }

    /// <summary>The edge thread's way out (under the lock): it owns its eventfd, and the line's fd once closed.</summary>
    private void WatcherExited(Line line)
    {
        lock (_gate)
        {
            line.WatcherRunning = false;
            line.CloseWakeFd();
            if (line.Closed)
            {
                line.CloseFd();
            }
        }
    }

    private sealed class Line(int pin)
    {
        private int _wakeFd = -1;

        public int Pin { get; } = pin;

        public int Fd { get; set; } = -1;

        public PinMode Mode { get; set; }

        public bool OutputValue { get; set; }

        public bool Watching { get; set; }

        public bool Closed { get; set; }

        public bool WatcherRunning { get; set; }

        public bool InCallback { get; set; }

        public List<(PinEventTypes Types, PinChangeEventHandler Callback)> ValueCallbacks { get; } = [];

        public List<Action<GpioEdgeEvent>> EdgeCallbacks { get; } = [];

        public Thread? Watcher { get; private set; }

        public void StartWatcher(GpioCdevV2Driver owner)
        {
            _wakeFd = GpioCdevNative.EventFd(0, GpioCdevNative.EfdCloexec);
            if (_wakeFd < 0)
            {
                throw GpioCdevNative.LastError("eventfd");
            }
            var fd = Fd;
            var wake = _wakeFd;
            Watcher = new Thread(() => Watch(owner, fd, wake)) { IsBackground = true, Name = $"gpio line {Pin}" };
            WatcherRunning = true;
            Watcher.Start();
        }

        /// <summary>Wakes the edge thread; it ends without calling anyone again.</summary>
        public unsafe void SignalStop()
        {
            if (_wakeFd < 0)
            {
                return;
            }
            ulong one = 1;
            _ = GpioCdevNative.Write(_wakeFd, &one, sizeof(ulong));
        }

        public void CloseWakeFd()
        {
            if (_wakeFd >= 0)
            {
                _ = GpioCdevNative.Close(_wakeFd);
                _wakeFd = -1;
            }
        }

        public void CloseFd()
        {
            if (Fd >= 0)
            {
                _ = GpioCdevNative.Close(Fd);
                Fd = -1;
            }
        }

        private unsafe void Watch(GpioCdevV2Driver owner, int fd, int wake)
        {
            try
            {
                WatchUntilStopped(owner, fd, wake);
            }
            finally
            {
                owner.WatcherExited(this);
            }
        }

        private unsafe void WatchUntilStopped(GpioCdevV2Driver owner, int fd, int wake)
        {
            const int batch = 16;
            var buffer = stackalloc byte[GpioV2Abi.LineEventSize * batch];
            var fds = stackalloc GpioCdevNative.PollFd[2];
            fds[0] = new GpioCdevNative.PollFd { Fd = fd, Events = GpioCdevNative.PollIn };
            fds[1] = new GpioCdevNative.PollFd { Fd = wake, Events = GpioCdevNative.PollIn };
            while (true)
            {
                fds[0].Revents = fds[1].Revents = 0;
                if (GpioCdevNative.Poll(fds, 2, -1) < 0)
                {
                    if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == GpioCdevNative.EIntr)
                    {
                        continue;
                    }
                    return;
                }
                if (fds[1].Revents != 0 || (fds[0].Revents & (GpioCdevNative.PollErr | GpioCdevNative.PollHup | GpioCdevNative.PollNval)) != 0)
                {
                    return;
                }
                var n = GpioCdevNative.Read(fd, buffer, (nuint)(GpioV2Abi.LineEventSize * batch));
                if (n < 0)
                {
                    var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                    if (errno is GpioCdevNative.EIntr or GpioCdevNative.EAgain)
                    {
                        continue;
                    }
                    return;
                }
                for (var off = 0; off + GpioV2Abi.LineEventSize <= n; off += GpioV2Abi.LineEventSize)
                {
                    if (GpioV2Abi.TryDecodeLineEvent(new ReadOnlySpan<byte>(buffer + off, GpioV2Abi.LineEventSize), out var ev)
                        && !owner.Dispatch(this, ev))
                    {
                        return;
                    }
                }
            }
        }
    }
}
