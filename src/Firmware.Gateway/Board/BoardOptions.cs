using System.Globalization;
using Firmware.Platform.Gpio;

namespace Firmware.Gateway.Board;

/// <summary>One problem in the board options, with the option's path ("board.leds.tunnel.pin").</summary>
/// <param name="Path">The option's key in the config file.</param>
/// <param name="Message">What is wrong.</param>
/// <param name="OtherPath">The option it clashes with, if any (the config layer adds that key's line).</param>
public sealed record BoardOptionError(string Path, string Message, string? OtherPath = null)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>A button: where it is, how it is wired, and what its gestures do.</summary>
public sealed record ButtonOptions
{
    /// <summary>Default bindings of button 1: connect/disconnect, reload config, factory reset.</summary>
    public static ButtonOptions Button1Defaults { get; } = new()
    {
        Short = GatewayCommand.ToggleClients,
        Long = GatewayCommand.ReloadConfig,
        VeryLong = GatewayCommand.FactoryReset,
    };

    /// <summary>Default bindings of button 2: status blink code; reboot only if bound on purpose.</summary>
    public static ButtonOptions Button2Defaults { get; } = new() { Short = GatewayCommand.ShowStatus };

    public bool Enabled { get; init; } = true;

    /// <summary>Header GPIO; null = the profile's default.</summary>
    public int? Pin { get; init; }

    /// <summary>True (default) for a button wired to GND: pressed reads low.</summary>
    public bool ActiveLow { get; init; } = true;

    /// <summary>Internal resistor; null = pull-up for active-low, pull-down for active-high.</summary>
    public GpioBias? Bias { get; init; }

    public GatewayCommand Short { get; init; }

    /// <summary>Two short presses in quick succession. Binding it delays the single short press by the
    /// double-press window (the board must wait to see whether a second press follows).</summary>
    public GatewayCommand Double { get; init; }

    public GatewayCommand Long { get; init; }

    public GatewayCommand VeryLong { get; init; }

    /// <summary>The bias actually requested from the driver.</summary>
    public GpioBias EffectiveBias => Bias ?? (ActiveLow ? GpioBias.PullUp : GpioBias.PullDown);
}

/// <summary>An LED: a header GPIO (through a resistor to GND) or a kernel LED-class device such as "ACT".</summary>
public sealed record LedOptions
{
    public bool Enabled { get; init; } = true;

    /// <summary>Header GPIO; null = the profile's default (ignored when <see cref="Device"/> is set).</summary>
    public int? Pin { get; init; }

    /// <summary>LED-class device name under /sys/class/leds (e.g. "ACT"); when set, no GPIO line is used.</summary>
    public string? Device { get; init; }
}

/// <summary>
/// The board section of the config, and the only description of it: the config layer binds "board": {...} into
/// this record (timings as seconds: "debounceSeconds": 0.03), takes its defaults and limits from here, and
/// reports <see cref="Validate"/>'s errors at the offending key's line. Everything has a default, so an absent
/// section means "pi4b profile, default pins and actions".
/// </summary>
public sealed record BoardOptions
{
    public static readonly TimeSpan DefaultDebounce = TimeSpan.FromMilliseconds(30);
    public static readonly TimeSpan DefaultDoublePressWindow = TimeSpan.FromMilliseconds(400);
    public static readonly TimeSpan DefaultLongPress = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan DefaultVeryLongPress = TimeSpan.FromSeconds(10);

    /// <summary>Allowed range of <see cref="Debounce"/> (the config schema shows the same limits).</summary>
    public static readonly (TimeSpan Min, TimeSpan Max) DebounceLimits = (TimeSpan.Zero, TimeSpan.FromMilliseconds(500));

    public static readonly (TimeSpan Min, TimeSpan Max) DoublePressWindowLimits = (TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(2));

    public static readonly (TimeSpan Min, TimeSpan Max) LongPressLimits = (TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(60));

    public static readonly (TimeSpan Min, TimeSpan Max) VeryLongPressLimits = (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(120));

    public bool Enabled { get; init; } = true;

    /// <summary>Board profile name: pi3b, pi4b, pi5, zero2w.</summary>
    public string Profile { get; init; } = "pi4b";

    public GpioDriverKind Driver { get; init; } = GpioDriverKind.Auto;

    public ButtonOptions Button1 { get; init; } = ButtonOptions.Button1Defaults;

    public ButtonOptions Button2 { get; init; } = ButtonOptions.Button2Defaults;

    public LedOptions PowerLed { get; init; } = new();

    public LedOptions TunnelLed { get; init; } = new();

    public LedOptions ActivityLed { get; init; } = new();

    /// <summary>A level must hold this long to count (contact bounce is shorter).</summary>
    public TimeSpan Debounce { get; init; } = DefaultDebounce;

    /// <summary>A second press starting this soon after the first one's release makes a double press.</summary>
    public TimeSpan DoublePressWindow { get; init; } = DefaultDoublePressWindow;

    public TimeSpan LongPress { get; init; } = DefaultLongPress;

    public TimeSpan VeryLongPress { get; init; } = DefaultVeryLongPress;

    /// <summary>Sweep the LEDs once at start.</summary>
    public bool SelfTest { get; init; } = true;

    /// <summary>The chosen profile, or null if the name is unknown.</summary>
    public BoardProfile? ResolveProfile() => BoardProfiles.Find(Profile);

    /// <summary>
    /// Every problem at once; empty when the options can be used. Paths are the config file's keys
    /// ("board.leds.tunnel.pin"), so the config layer can point at the line.
    /// </summary>
    public IReadOnlyList<BoardOptionError> Validate()
    {
        var errors = new List<BoardOptionError>();
        var profile = ResolveProfile();
        if (profile is null)
        {
            errors.Add(new("board.profile",
                $"unknown board profile '{Profile}' (known: {string.Join(", ", BoardProfiles.All.Select(p => p.Name))})"));
        }

        CheckTime(errors, "board.debounceSeconds", Debounce, DebounceLimits);
        CheckTime(errors, "board.doublePressWindowSeconds", DoublePressWindow, DoublePressWindowLimits);
        CheckTime(errors, "board.longPressSeconds", LongPress, LongPressLimits);
        CheckTime(errors, "board.veryLongPressSeconds", VeryLongPress, VeryLongPressLimits);
        if (VeryLongPress <= LongPress)
        {
            errors.Add(new("board.veryLongPressSeconds", $"must be longer than longPressSeconds ({Seconds(LongPress)} s)"));
        }
        if (LongPress <= Debounce || LongPress <= DoublePressWindow)
        {
            errors.Add(new("board.longPressSeconds", "must be longer than debounceSeconds and doublePressWindowSeconds"));
        }

        if (!Enabled || profile is null)
        {
            return errors;
        }

        var pins = new List<PinUse>();
        CheckButton(errors, pins, profile, "board.buttons.button1", Button1, profile.Pins.Button1);
        CheckButton(errors, pins, profile, "board.buttons.button2", Button2, profile.Pins.Button2);
        CheckLed(errors, pins, profile, "board.leds.power", PowerLed, profile.Pins.PowerLed);
        CheckLed(errors, pins, profile, "board.leds.tunnel", TunnelLed, profile.Pins.TunnelLed);
        CheckLed(errors, pins, profile, "board.leds.activity", ActivityLed, profile.Pins.ActivityLed);
        CheckPinsUsedOnce(errors, pins, profile);
        return errors;
    }

    /// <summary>A header pin taken by a button or LED; <paramref name="Chosen"/> is false for the profile's default.</summary>
    private readonly record struct PinUse(string Path, int Pin, bool Chosen);

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static void CheckTime(List<BoardOptionError> errors, string path, TimeSpan value, (TimeSpan Min, TimeSpan Max) limits)
    {
        if (value < limits.Min || value > limits.Max)
        {
            errors.Add(new(path, $"{Seconds(value)} s is outside {Seconds(limits.Min)}..{Seconds(limits.Max)} s"));
        }
    }

    private static void CheckButton(
        List<BoardOptionError> errors, List<PinUse> pins, BoardProfile profile, string path, ButtonOptions button, int defaultPin)
    {
        ArgumentNullException.ThrowIfNull(button);
        if (!button.Enabled)
        {
            return;
        }
        CheckPin(errors, pins, profile, path + ".pin", button.Pin, defaultPin);

        // Drastic actions must not happen by a slip of the finger: factory reset only on the very long hold,
        // reboot only on a long or very long one.
        CheckBinding(errors, path + ".short", button.Short);
        CheckBinding(errors, path + ".double", button.Double);
        if (button.Long == GatewayCommand.FactoryReset)
        {
            errors.Add(new(path + ".long", "factory-reset may only be bound to veryLong"));
        }
        if (button.Bias is GpioBias.PullUp && !button.ActiveLow)
        {
            errors.Add(new(path + ".bias", "pull-up with an active-high button reads pressed all the time"));
        }
        if (button.Bias is GpioBias.PullDown && button.ActiveLow)
        {
            errors.Add(new(path + ".bias", "pull-down with an active-low button reads pressed all the time"));
        }
    }

    private static void CheckBinding(List<BoardOptionError> errors, string path, GatewayCommand command)
    {
        if (command is GatewayCommand.FactoryReset or GatewayCommand.Reboot)
        {
            var word = command == GatewayCommand.Reboot ? "reboot" : "factory-reset";
            errors.Add(new(path, $"{word} may only be bound to a long or very long press"));
        }
    }

    private static void CheckLed(
        List<BoardOptionError> errors, List<PinUse> pins, BoardProfile profile, string path, LedOptions led, int defaultPin)
    {
        ArgumentNullException.ThrowIfNull(led);
        if (!led.Enabled)
        {
            return;
        }
        if (led.Device is { } device)
        {
            if (device.Length == 0 || device.Contains('/', StringComparison.Ordinal) || device is "." or "..")
            {
                errors.Add(new(path + ".device", $"'{device}' is not an LED device name"));
            }
            return;
        }
        CheckPin(errors, pins, profile, path + ".pin", led.Pin, defaultPin);
    }

    private static void CheckPin(List<BoardOptionError> errors, List<PinUse> pins, BoardProfile profile, string path, int? chosen, int defaultPin)
    {
        var pin = chosen ?? defaultPin;
        if (!profile.IsSafe(pin))
        {
            errors.Add(new(path, $"pin {pin} is not in the {profile.Name} safe set ({string.Join(", ", profile.SafePins)})"));
            return;
        }
        pins.Add(new(path, pin, chosen is not null));
    }

    /// <summary>
    /// A pin may do one job. The profile's defaults claim their pins first, so a clash between a chosen pin and a
    /// default one is reported at the chosen one: that is the key the user wrote.
    /// </summary>
    private static void CheckPinsUsedOnce(List<BoardOptionError> errors, List<PinUse> pins, BoardProfile profile)
    {
        var owners = new Dictionary<int, PinUse>();
        foreach (var use in pins.Where(p => !p.Chosen).Concat(pins.Where(p => p.Chosen)))
        {
            if (owners.TryGetValue(use.Pin, out var owner))
            {
                var whose = owner.Chosen ? owner.Path : $"{owner.Path} (the {profile.Name} default)";
                errors.Add(new(use.Path, $"pin {use.Pin} is already used by {whose}", owner.Path));
            }
            else
            {
                owners.Add(use.Pin, use);
            }
        }
    }
}
