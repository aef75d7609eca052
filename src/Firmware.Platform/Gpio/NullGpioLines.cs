namespace Firmware.Platform.Gpio;

/// <summary>The driver of a box with no usable GPIO: inputs never change and outputs go nowhere.</summary>
public sealed class NullGpioLines : IGpioLines
{
    public string Description => "no GPIO (buttons and LEDs disabled)";

    public IGpioInput OpenInput(GpioInputRequest request, Action<GpioLevelChange> onLevelChanged)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new IdleInput(request.ActiveLow);
    }

    public IGpioOutput OpenOutput(string name, int line) => new NowhereOutput();

    public IGpioOutput OpenLedDevice(string name, string device) => new NowhereOutput();

    public void Dispose()
    {
    }

    private sealed class IdleInput(bool activeLow) : IGpioInput
    {
        // Idle = released: high for an active-low button, low for an active-high one.
        public bool ReadLevel() => activeLow;

        public void Dispose()
        {
        }
    }

    private sealed class NowhereOutput : IGpioOutput
    {
        public void Write(bool on)
        {
        }

        public void Dispose()
        {
        }
    }
}
