using Firmware.Gateway.Board;

namespace Firmware.Gateway.Tests.Board;

/// <summary>
/// A Pi has no real-time clock and steps its wall clock when time sync arrives: a press held across that step must
/// be timed by the monotonic clock, and the LEDs must keep their rhythm (issue 12 item 7, issue 14).
/// </summary>
public sealed class WallClockStepTests
{
    private readonly WallStepClock _clock = new();
    private readonly List<ButtonEvent> _events = [];

    private ButtonGestureDetector Create(bool pressedAtStart = false) =>
        new(_clock, new ButtonTimings(TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(3),
            TimeSpan.FromSeconds(10), DoublePressEnabled: false), _events.Add, pressedAtStart);

    private List<ButtonEventKind> Kinds() => _events.Select(e => e.Kind).ToList();

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void Wall_step_in_the_middle_of_a_short_press_is_still_a_short_press(int hours)
    {
        using var d = Create();
        d.OnRaw(true);
        _clock.Advance(TimeSpan.FromMilliseconds(500));
        _clock.StepWall(TimeSpan.FromHours(hours));
        _clock.Advance(TimeSpan.FromMilliseconds(500));
        d.OnRaw(false);
        _clock.Advance(TimeSpan.FromMilliseconds(100));

        Assert.Equal([ButtonEventKind.Pressed, ButtonEventKind.Released, ButtonEventKind.ShortPress], Kinds());
        Assert.Equal(1000, _events[^1].Held.TotalMilliseconds, 1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void Wall_step_in_the_middle_of_a_long_press_is_still_a_long_press(int hours)
    {
        using var d = Create();
        d.OnRaw(true);
        _clock.Advance(TimeSpan.FromSeconds(1));
        _clock.StepWall(TimeSpan.FromHours(hours));
        _clock.Advance(TimeSpan.FromSeconds(3));
        d.OnRaw(false);
        _clock.Advance(TimeSpan.FromMilliseconds(100));

        Assert.Equal(
            [ButtonEventKind.Pressed, ButtonEventKind.LongThresholdReached, ButtonEventKind.Released, ButtonEventKind.LongPress],
            Kinds());
        Assert.Equal(4000, _events[^1].Held.TotalMilliseconds, 1);
    }

    [Fact]
    public void Forward_step_while_held_at_boot_is_no_factory_reset()
    {
        using var d = Create(pressedAtStart: true);
        _clock.Advance(TimeSpan.FromSeconds(2));
        _clock.StepWall(TimeSpan.FromHours(1));
        _clock.Advance(TimeSpan.FromSeconds(1));
        d.OnRaw(false);
        _clock.Advance(TimeSpan.FromMilliseconds(100));

        Assert.DoesNotContain(ButtonEventKind.BootHold, Kinds());
        Assert.DoesNotContain(ButtonEventKind.VeryLongThresholdReached, Kinds());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void Led_blink_keeps_its_rhythm_across_a_wall_step(int hours)
    {
        var lines = new FakeGpioLines(_clock);
        using var wheel = new LedTimerWheel(_clock, () => 0);
        var led = (FakeGpioLines.FakeOutput)lines.OpenOutput("led", 23);
        wheel.Add("led", led);
        wheel.SetPattern(0, LedPattern.SlowBlink);
        _clock.Advance(TimeSpan.FromSeconds(1.5));
        _clock.StepWall(TimeSpan.FromHours(hours));
        var before = led.Writes.Count;
        _clock.Advance(TimeSpan.FromSeconds(4));

        // Slow blink: one change every 500 ms, so 8 in 4 s; a stalled or resynced wheel shows fewer or a phase jump.
        Assert.Equal(8, led.Writes.Count - before);
    }

    [Fact]
    public void Board_timers_fire_on_time_after_a_backward_wall_step()
    {
        var fired = 0;
        using var timer = new Firmware.Protocol.ProtocolTimer(_clock, () => fired++);
        timer.Start(TimeSpan.FromSeconds(3));
        _clock.Advance(TimeSpan.FromSeconds(1));
        _clock.StepWall(TimeSpan.FromHours(-1));
        _clock.Advance(TimeSpan.FromSeconds(2.1));
        Assert.Equal(1, fired);
    }
}
