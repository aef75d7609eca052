namespace Firmware.Platform.Gpio;

/// <summary>The internal bias a driver is asked to apply to an input line.</summary>
public enum GpioBias
{
    /// <summary>No internal resistor: the wiring provides one.</summary>
    None,

    /// <summary>Internal pull-up: a button wired to GND reads low while pressed.</summary>
    PullUp,

    /// <summary>Internal pull-down: a button wired to 3.3 V reads high while pressed.</summary>
    PullDown,
}

/// <summary>What to open as a button input.</summary>
/// <param name="Name">A short name for messages and the console driver ("button1").</param>
/// <param name="Line">The line offset on the board's GPIO chip (the BCM GPIO number on a Raspberry Pi).</param>
/// <param name="Bias">Internal pull resistor to request.</param>
/// <param name="ActiveLow">True when the pressed level is low. Real drivers do not need it (they report levels);
/// simulating drivers use it to turn "press" into the right level.</param>
public sealed record GpioInputRequest(string Name, int Line, GpioBias Bias, bool ActiveLow)
{
    /// <summary>The debounce period the kernel is asked to apply (drivers without one ignore it; the board's
    /// own debounce runs either way).</summary>
    public TimeSpan Debounce { get; init; }
}

/// <summary>A level change of an input.</summary>
/// <param name="Level">The electrical level after the edge: true = high.</param>
/// <param name="Timestamp">When the edge happened, in <see cref="TimeProvider.GetTimestamp"/> units of the board's
/// clock (the kernel's monotonic event timestamp on real hardware); null = "now", when the driver has none.</param>
public readonly record struct GpioLevelChange(bool Level, long? Timestamp = null);

/// <summary>An open input line. Level changes arrive through the callback given when it was opened.</summary>
public interface IGpioInput : IDisposable
{
    /// <summary>The electrical level now: true = high.</summary>
    bool ReadLevel();
}

/// <summary>An open output (an LED): a GPIO line or a kernel LED-class device.</summary>
public interface IGpioOutput : IDisposable
{
    /// <summary>Turns the output on (true) or off.</summary>
    void Write(bool on);
}

/// <summary>
/// The small seam between the board logic and the hardware: open an input with bias and edge callbacks, open an
/// output, set its value. Callbacks may arrive on any thread; the receiver serializes them.
/// </summary>
public interface IGpioLines : IDisposable
{
    /// <summary>Says which driver this is and what it drives, for the log ("GPIO uAPI v2 on gpiochip0 (pinctrl-bcm2711)").</summary>
    string Description { get; }

    /// <summary>Opens a button input; <paramref name="onLevelChanged"/> receives the new level after each edge.</summary>
    IGpioInput OpenInput(GpioInputRequest request, Action<GpioLevelChange> onLevelChanged);

    /// <summary>Opens a GPIO line as an output, initially off.</summary>
    IGpioOutput OpenOutput(string name, int line);

    /// <summary>Opens a kernel LED-class device (/sys/class/leds/<paramref name="device"/>), initially off.</summary>
    IGpioOutput OpenLedDevice(string name, string device);
}
