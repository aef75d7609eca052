using System.Device.Gpio;
using System.Device.Gpio.Drivers;

namespace Firmware.Platform.Gpio;

/// <summary>
/// GPIO through the kernel's character device with System.Device.Gpio's libgpiod v1 driver. The driver type is
/// constructed directly (never the auto-detecting <c>GpioController()</c>), which keeps the trimmed binary free of
/// board-detection code we do not use.
/// </summary>
public sealed class LibgpiodGpioLines : IGpioLines
{
    private readonly GpioController _controller;
    private readonly string _ledRoot;
    private readonly Lock _gate = new();
    private bool _disposed;

    private LibgpiodGpioLines(GpioController controller, string description, string ledRoot)
    {
        _controller = controller;
        Description = description;
        _ledRoot = ledRoot;
    }

    public string Description { get; }

    /// <summary>Opens <paramref name="chip"/> with System.Device.Gpio's libgpiod v1 driver (libgpiod.so.2).</summary>
    /// <remarks>
    /// Why not LibGpiodV2Driver (libgpiod 2.x, libgpiod.so.3) first: in System.Device.Gpio 4.2.0 it makes the Native AOT
    /// publish fail with trim warning IL2091 in System.Device.Gpio.UnmanagedArray`1.ReadToManagedArray() (its 'T' lacks
    /// the constructor annotations Marshal.PtrToStructure&lt;T&gt; asks for). The binary must have no trim warnings, so
    /// the v2 path is left out; on a system with only libgpiod 2.x the factory reports GPIO as unavailable (a warning).
    /// </remarks>
    /// <exception cref="GpioUnavailableException">libgpiod v1 could not drive the chip.</exception>
    public static LibgpiodGpioLines Open(GpioChip chip, string ledRoot = LedClassDevice.DefaultRoot)
    {
        ArgumentNullException.ThrowIfNull(chip);
        var number = chip.Number;
        if (number < 0)
        {
            throw new GpioUnavailableException($"{chip.Name} is not a gpiochipN device");
        }

        try
        {
            var v1 = new LibGpiodDriver(number);
            return Wrap(v1, "libgpiod v1", chip, ledRoot);
        }
        catch (Exception e) when (IsLibraryOrDeviceProblem(e))
        {
            throw new GpioUnavailableException(
                $"libgpiod v1 (libgpiod.so.2) cannot open {chip.Name}: {e.Message} "
                + "(libgpiod 2.x alone is not supported by this build)", e);
        }
    }

    private static LibgpiodGpioLines Wrap(GpioDriver driver, string version, GpioChip chip, string ledRoot)
    {
        try
        {
            // Construction is lazy in places; touching the chip proves the library and the device both work.
            var controller = new GpioController(driver);
            _ = controller.PinCount;
            return new LibgpiodGpioLines(controller, $"{version} on {chip.Name} ({chip.Label})", ledRoot);
        }
        catch
        {
            driver.Dispose();
            throw;
        }
    }

    internal static bool IsLibraryOrDeviceProblem(Exception e) =>
        e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or IOException
            or UnauthorizedAccessException or InvalidOperationException or PlatformNotSupportedException
            or ArgumentException or System.ComponentModel.Win32Exception;

    public IGpioInput OpenInput(GpioInputRequest request, Action<bool> onLevelChanged)
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
            _controller.OpenPin(request.Line, mode);
            PinChangeEventHandler handler = (_, e) => onLevelChanged(e.ChangeType == PinEventTypes.Rising);
            try
            {
                _controller.RegisterCallbackForPinValueChangedEvent(
                    request.Line, PinEventTypes.Rising | PinEventTypes.Falling, handler);
            }
            catch
            {
                _controller.ClosePin(request.Line);
                throw;
            }
            return new Input(this, request.Line, handler);
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

    public IGpioOutput OpenLedDevice(string name, string device) => LedClassDevice.Open(device, _ledRoot);

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

    private sealed class Input(LibgpiodGpioLines owner, int line, PinChangeEventHandler handler) : IGpioInput
    {
        private bool _closed;

        public bool ReadLevel()
        {
            lock (owner._gate)
            {
                ObjectDisposedException.ThrowIf(_closed || owner._disposed, this);
                return owner._controller.Read(line) == PinValue.High;
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
                owner._controller.UnregisterCallbackForPinValueChangedEvent(line, handler);
                owner._controller.ClosePin(line);
            }
        }
    }

    private sealed class Output(LibgpiodGpioLines owner, int line) : IGpioOutput
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

/// <summary>GPIO hardware is missing, unreadable or has no usable libgpiod: the gateway runs on without buttons.</summary>
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
