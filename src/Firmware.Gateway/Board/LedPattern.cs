namespace Firmware.Gateway.Board;

/// <summary>The shapes an LED can show.</summary>
public enum LedPatternKind
{
    Off,
    On,

    /// <summary>500 ms on, 500 ms off.</summary>
    SlowBlink,

    /// <summary>100 ms on, 100 ms off.</summary>
    FastBlink,

    /// <summary>Two short flashes a second, like a pulse: the process is alive and healthy.</summary>
    Heartbeat,

    /// <summary>N flashes (250 ms on, 250 ms off), a 1.5 s gap, again.</summary>
    BlinkCode,

    /// <summary>A blink code shown twice, then back to the normal pattern.</summary>
    BlinkCodeTwice,

    /// <summary>One-shot start-up sweep: the LEDs light one after another, then all together, then normal.</summary>
    SelfTest,

    /// <summary>LEDs flash alternately (wig-wag, 125 ms): "let go now and something drastic happens".</summary>
    Warning,

    /// <summary>One-shot: off for <see cref="LedPattern.Argument"/> milliseconds, then normal (the other LEDs
    /// while one shows a code).</summary>
    Dark,

    /// <summary>A 50 ms flash when the traffic counter moved since the last look; a look every 100 ms.</summary>
    Traffic,
}

/// <summary>One phase of a pattern: the LED is <paramref name="On"/> for <paramref name="Duration"/>.</summary>
public readonly record struct LedStep(bool On, TimeSpan Duration);

/// <summary>A pattern with its parameter (<paramref name="Argument"/>: flash count for codes, position for the
/// self-test and the warning). Equal patterns compare equal, so publishing the same state does not restart it.</summary>
public sealed record LedPattern(LedPatternKind Kind, int Argument = 0)
{
    public static readonly TimeSpan TrafficPoll = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan TrafficFlash = TimeSpan.FromMilliseconds(50);

    public static LedPattern Off { get; } = new(LedPatternKind.Off);

    public static LedPattern On { get; } = new(LedPatternKind.On);

    public static LedPattern SlowBlink { get; } = new(LedPatternKind.SlowBlink);

    public static LedPattern FastBlink { get; } = new(LedPatternKind.FastBlink);

    public static LedPattern Heartbeat { get; } = new(LedPatternKind.Heartbeat);

    public static LedPattern Traffic { get; } = new(LedPatternKind.Traffic);

    public static LedPattern BlinkCode(int flashes) => new(LedPatternKind.BlinkCode, CheckFlashes(flashes));

    /// <summary>In words, for `pptp-gateway status` ("blink code 3"), so a person can compare with the README's table.</summary>
    public string Describe() => Kind switch
    {
        LedPatternKind.Off => "off",
        LedPatternKind.On => "on",
        LedPatternKind.SlowBlink => "slow blink",
        LedPatternKind.FastBlink => "fast blink",
        LedPatternKind.Heartbeat => "heartbeat",
        LedPatternKind.Traffic => "traffic",
        LedPatternKind.BlinkCode => $"blink code {Argument}",
        _ => Kind.ToString().ToLowerInvariant(),
    };

    public static LedPattern BlinkCodeTwice(int flashes) => new(LedPatternKind.BlinkCodeTwice, CheckFlashes(flashes));

    /// <summary>Off for <paramref name="duration"/>, then back to normal.</summary>
    public static LedPattern Dark(TimeSpan duration) => new(LedPatternKind.Dark, (int)Math.Clamp(duration.TotalMilliseconds, 1, 60_000));

    /// <summary>How long a one-shot pattern lasts; infinite for repeating ones.</summary>
    public TimeSpan Duration => IsOneShot
        ? Steps().Aggregate(TimeSpan.Zero, (sum, step) => sum + step.Duration)
        : Timeout.InfiniteTimeSpan;

    /// <summary>The self-test for the LED at <paramref name="position"/> (0 = power, 1 = tunnel, 2 = activity).</summary>
    public static LedPattern SelfTest(int position) => new(LedPatternKind.SelfTest, Math.Clamp(position, 0, 2));

    /// <summary>The warning for the LED at <paramref name="position"/>: even positions start on, odd start off.</summary>
    public static LedPattern Warning(int position) => new(LedPatternKind.Warning, position & 1);

    /// <summary>True when the pattern ends by itself (and the LED goes back to its normal pattern).</summary>
    public bool IsOneShot => Kind is LedPatternKind.SelfTest or LedPatternKind.BlinkCodeTwice or LedPatternKind.Dark;

    /// <summary>The steps, played in order from when the pattern is set; repeating unless <see cref="IsOneShot"/>.
    /// <see cref="LedPatternKind.Off"/>/<see cref="LedPatternKind.On"/> have one endless step;
    /// <see cref="LedPatternKind.Traffic"/> has none (it is driven by the counter).</summary>
    public IReadOnlyList<LedStep> Steps() => Kind switch
    {
        LedPatternKind.Off => [new(false, Timeout.InfiniteTimeSpan)],
        LedPatternKind.On => [new(true, Timeout.InfiniteTimeSpan)],
        LedPatternKind.SlowBlink => [new(true, Ms(500)), new(false, Ms(500))],
        LedPatternKind.FastBlink => [new(true, Ms(100)), new(false, Ms(100))],
        LedPatternKind.Heartbeat => [new(true, Ms(100)), new(false, Ms(150)), new(true, Ms(100)), new(false, Ms(650))],
        LedPatternKind.BlinkCode => Code(Argument),
        LedPatternKind.BlinkCodeTwice => [.. Code(Argument), .. Code(Argument)],
        LedPatternKind.SelfTest => SelfTestSteps(Argument),
        LedPatternKind.Dark => [new(false, Ms(Argument))],
        LedPatternKind.Warning => Argument == 0
            ? [new(true, Ms(125)), new(false, Ms(125))]
            : [new(false, Ms(125)), new(true, Ms(125))],
        _ => [],
    };

    private static LedStep[] Code(int flashes)
    {
        var steps = new LedStep[flashes * 2];
        for (var i = 0; i < flashes; i++)
        {
            steps[2 * i] = new(true, Ms(250));
            steps[(2 * i) + 1] = new(false, i == flashes - 1 ? Ms(1750) : Ms(250));
        }
        return steps;
    }

    private static LedStep[] SelfTestSteps(int position)
    {
        // Sweep: LED p lights in slot p (150 ms each), then all three together for 400 ms; 850 ms in all.
        var steps = new List<LedStep>(4);
        if (position > 0)
        {
            steps.Add(new(false, Ms(150 * position)));
        }
        steps.Add(new(true, Ms(150)));
        if (position < 2)
        {
            steps.Add(new(false, Ms(150 * (2 - position))));
        }
        steps.Add(new(true, Ms(400)));
        return [.. steps];
    }

    private static int CheckFlashes(int flashes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(flashes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(flashes, 9);
        return flashes;
    }

    private static TimeSpan Ms(int milliseconds) => TimeSpan.FromMilliseconds(milliseconds);
}
