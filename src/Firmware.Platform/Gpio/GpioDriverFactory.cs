namespace Firmware.Platform.Gpio;

/// <summary>Which GPIO driver to use.</summary>
public enum GpioDriverKind
{
    /// <summary>The board's GPIO chip (found by label) through the kernel's GPIO uAPI v2 (no libgpiod); no GPIO = a warning and no buttons.</summary>
    Auto,

    /// <summary>Print LEDs, take button presses from commands: the demo and machines with no GPIO.</summary>
    Console,

    /// <summary>Buttons and LEDs switched off.</summary>
    None,
}

/// <summary>What the factory needs to know.</summary>
/// <param name="Kind">Which driver.</param>
/// <param name="ChipLabel">The label of the chip carrying the header lines ("pinctrl-bcm2711").</param>
/// <param name="Time">Clock for the console driver's rate limit.</param>
/// <param name="ConsoleOutput">Where the console driver prints (standard output if null).</param>
public sealed record GpioDriverRequest(GpioDriverKind Kind, string ChipLabel, TimeProvider Time, TextWriter? ConsoleOutput = null)
{
    /// <summary>Where GPIO character devices live (a temp directory in tests).</summary>
    public string DevRoot { get; init; } = "/dev";

    /// <summary>Where LED-class devices live (a temp directory in tests).</summary>
    public string LedRoot { get; init; } = LedClassDevice.DefaultRoot;

    /// <summary>Where LED-class triggers are saved while we hold the LEDs (the run directory's "leds"); null: nowhere.</summary>
    public string? LedStateDirectory { get; init; }
}

/// <summary>The driver to use and, if it is not the one asked for, why: log it as a WARNING and run on.</summary>
public sealed record GpioDriverResult(IGpioLines Lines, string? Warning);

/// <summary>Builds the GPIO driver. Never throws for missing hardware, libraries or permissions.</summary>
public static class GpioDriverFactory
{
    public static GpioDriverResult Create(GpioDriverRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        switch (request.Kind)
        {
            case GpioDriverKind.Console:
                return new(new ConsoleGpioLines(request.ConsoleOutput ?? Console.Out, request.Time), null);
            case GpioDriverKind.None:
                return new(new NullGpioLines(), null);
        }

        var chips = GpioChipDirectory.Enumerate(request.DevRoot, out var problems);
        var chip = GpioChipDirectory.FindByLabel(chips, request.ChipLabel);
        if (chip is null)
        {
            var seen = chips.Count == 0 ? "none" : string.Join(", ", chips.Select(c => $"{c.Name} ({c.Label})"));
            var why = problems.Count == 0 ? string.Empty : "; " + string.Join("; ", problems);
            return Unavailable($"no GPIO chip labelled '{request.ChipLabel}' (found: {seen}{why})");
        }

        try
        {
            return new(CdevGpioLines.Open(chip, request.Time, request.LedRoot, request.LedStateDirectory), null);
        }
        catch (GpioUnavailableException e)
        {
            return Unavailable(e.Message);
        }
    }

    private static GpioDriverResult Unavailable(string reason) =>
        new(new NullGpioLines(), $"GPIO unavailable, running without buttons and LEDs: {reason}");
}
