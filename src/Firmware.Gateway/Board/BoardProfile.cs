namespace Firmware.Gateway.Board;

/// <summary>Default header lines for the two buttons and three LEDs (line offsets = BCM GPIO numbers).</summary>
public sealed record BoardPins(int Button1, int Button2, int PowerLed, int TunnelLed, int ActivityLed);

/// <summary>
/// A board: which GPIO chip carries the 40-pin header, the default pins, and the pins that are safe to use.
/// The chip is named by LABEL, never by number: the number depends on probe order and kernel version (a Pi 5's
/// header is on "pinctrl-rp1", gpiochip4 before Linux 6.6.45-ish and gpiochip0 after), the label does not.
/// The data is mirrored in board/raspberrypi/*.json for people and tools; a test keeps both in step.
/// </summary>
/// <param name="Name">Profile name used in the config ("pi4b").</param>
/// <param name="Description">The boards it covers.</param>
/// <param name="ChipLabel">Label of the GPIO chip carrying the header lines.</param>
/// <param name="Pins">Default pins.</param>
/// <param name="SafePins">Header GPIOs a button or LED may use.</param>
/// <param name="OnboardLeds">LED-class names of the board's own LEDs (usable as "device" in the LED options).</param>
public sealed record BoardProfile(
    string Name, string Description, string ChipLabel, BoardPins Pins, IReadOnlyList<int> SafePins, IReadOnlyList<string> OnboardLeds)
{
    public bool IsSafe(int pin) => SafePins.Contains(pin);
}

/// <summary>The built-in board profiles.</summary>
public static class BoardProfiles
{
    /// <summary>
    /// Header GPIOs free on a typical gateway. Left out, and why:
    /// 0, 1 ID_SD/ID_SC: the HAT ID EEPROM bus (I2C0), read by the firmware at boot.
    /// 2, 3 I2C1 SDA/SCL: fixed 1.8 kΩ pull-ups on the board and the usual home of an RTC, which a box
    ///      without network time wants.
    /// 7–11 SPI0 (CE1, CE0, MISO, MOSI, SCLK): display and radio HATs.
    /// 14, 15 UART TXD/RXD: the serial console, the way into a headless box when the network config is wrong.
    /// 18–21 PCM/I2S (18 also PWM0): audio HATs; not needed here, so not risked.
    /// What remains: 4 (GPCLK0/1-Wire only if enabled), 5, 6, 12, 13 (PWM if enabled), 16, 17, 22–27.
    /// </summary>
    private static readonly int[] Header40Safe = [4, 5, 6, 12, 13, 16, 17, 22, 23, 24, 25, 26, 27];

    /// <summary>Buttons on GPIO17 (pin 11) and GPIO27 (pin 13) with GND on pin 9/14; LEDs on GPIO23 (16),
    /// GPIO24 (18), GPIO25 (22) with GND on pin 20: two short rows of neighbouring pins.</summary>
    private static readonly BoardPins Header40Defaults = new(Button1: 17, Button2: 27, PowerLed: 23, TunnelLed: 24, ActivityLed: 25);

    public static BoardProfile Pi3B { get; } = new(
        "pi3b", "Raspberry Pi 3 Model B / B+", "pinctrl-bcm2835", Header40Defaults, Header40Safe, ["ACT", "PWR"]);

    public static BoardProfile Pi4B { get; } = new(
        "pi4b", "Raspberry Pi 4 Model B", "pinctrl-bcm2711", Header40Defaults, Header40Safe, ["ACT", "PWR"]);

    public static BoardProfile Pi5 { get; } = new(
        "pi5", "Raspberry Pi 5", "pinctrl-rp1", Header40Defaults, Header40Safe, ["ACT", "PWR"]);

    public static BoardProfile Zero2W { get; } = new(
        "zero2w", "Raspberry Pi Zero 2 W", "pinctrl-bcm2835", Header40Defaults, Header40Safe, ["ACT"]);

    public static IReadOnlyList<BoardProfile> All { get; } = [Pi3B, Pi4B, Pi5, Zero2W];

    /// <summary>The profile called <paramref name="name"/> (case-insensitive), or null.</summary>
    public static BoardProfile? Find(string? name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>The 40-pin header's physical pin numbers, for messages and wiring pictures.</summary>
public static class RaspberryPiHeader
{
    private static readonly int[] PhysicalByGpio =
    [
        27, 28, 3, 5, 7, 29, 31, 26, 24, 21, 19, 23, 32, 33, 8, 10, 36, 11, 12, 35, 38, 40, 15, 16, 18, 22, 37, 13,
    ];

    /// <summary>Ground pins.</summary>
    public static IReadOnlyList<int> GroundPins { get; } = [6, 9, 14, 20, 25, 30, 34, 39];

    /// <summary>Physical pin (1–40) of BCM GPIO <paramref name="gpio"/> (0–27), or -1.</summary>
    public static int PhysicalPin(int gpio) => gpio is >= 0 and < 28 ? PhysicalByGpio[gpio] : -1;
}
