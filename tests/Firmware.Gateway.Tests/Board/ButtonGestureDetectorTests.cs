using Firmware.Gateway.Board;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Gateway.Tests.Board;

public sealed class ButtonGestureDetectorTests
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(30);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly List<(TimeSpan At, ButtonEvent Event)> _events = [];
    private readonly DateTimeOffset _start;

    public ButtonGestureDetectorTests() => _start = _time.GetUtcNow();

    private ButtonGestureDetector Create(bool doublePress = false, bool pressedAtStart = false) =>
        new(_time, new ButtonTimings(Debounce, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10), doublePress),
            e => _events.Add((_time.GetUtcNow() - _start, e)), pressedAtStart);

    private List<ButtonEventKind> Gestures() =>
        _events.Select(e => e.Event.Kind)
            .Where(k => k is ButtonEventKind.ShortPress or ButtonEventKind.DoublePress or ButtonEventKind.LongPress
                or ButtonEventKind.VeryLongPress or ButtonEventKind.BootHold)
            .ToList();

    private List<ButtonEventKind> Kinds() => _events.Select(e => e.Event.Kind).ToList();

    /// <summary>Advances in 1 ms steps so timers fire at their due times, as on a real box.</summary>
    private void Ms(double ms)
    {
        for (var i = 0; i < (int)ms; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }
    }

    private void Hold(ButtonGestureDetector d, double ms)
    {
        d.OnRaw(true);
        Ms(ms);
        d.OnRaw(false);
        Ms(Debounce.TotalMilliseconds);
    }

    [Fact]
    public void Bounce_train_within_debounce_is_one_press()
    {
        using var d = Create();
        // Contact bounce: five edges 3 ms apart, then the contact settles closed.
        foreach (var level in new[] { true, false, true, false, true })
        {
            d.OnRaw(level);
            Ms(3);
        }
        Ms(200);
        // And bounce on release too.
        foreach (var level in new[] { false, true, false, true, false })
        {
            d.OnRaw(level);
            Ms(2);
        }
        Ms(100);

        Assert.Equal([ButtonEventKind.Pressed, ButtonEventKind.Released, ButtonEventKind.ShortPress], Kinds());
    }

    [Fact]
    public void Glitch_shorter_than_debounce_is_ignored()
    {
        using var d = Create();
        d.OnRaw(true);
        Ms(29);
        d.OnRaw(false);
        Ms(500);
        Assert.Empty(_events);
    }

    [Fact]
    public void Press_time_is_the_first_edge_of_the_settled_level()
    {
        using var d = Create();
        d.OnRaw(true);
        Ms(Debounce.TotalMilliseconds);
        Assert.Equal(ButtonEventKind.Pressed, Assert.Single(_events).Event.Kind);
        Assert.Equal(Debounce, _events[0].At);
    }

    [Theory]
    [InlineData(2999, ButtonEventKind.ShortPress)]
    [InlineData(3000, ButtonEventKind.LongPress)]
    [InlineData(9999, ButtonEventKind.LongPress)]
    [InlineData(10000, ButtonEventKind.VeryLongPress)]
    [InlineData(31, ButtonEventKind.ShortPress)]
    public void Held_duration_decides_the_gesture_exactly_at_the_thresholds(int heldMs, ButtonEventKind expected)
    {
        using var d = Create();
        Hold(d, heldMs);
        Ms(1000);
        Assert.Equal([expected], Gestures());
        Assert.Equal(TimeSpan.FromMilliseconds(heldMs), _events.Single(e => e.Event.Kind == expected).Event.Held);
    }

    [Fact]
    public void Threshold_feedback_arrives_while_holding_at_the_threshold_times()
    {
        using var d = Create();
        d.OnRaw(true);
        Ms(12_000);
        var long_ = _events.Single(e => e.Event.Kind == ButtonEventKind.LongThresholdReached);
        var veryLong = _events.Single(e => e.Event.Kind == ButtonEventKind.VeryLongThresholdReached);
        Assert.Equal(TimeSpan.FromSeconds(3), long_.At);
        Assert.Equal(TimeSpan.FromSeconds(10), veryLong.At);
        Assert.Empty(Gestures());
    }

    [Fact]
    public void Release_pending_debounce_at_the_long_threshold_shows_no_long_feedback()
    {
        using var d = Create();
        d.OnRaw(true);
        Ms(2999);
        d.OnRaw(false);
        Ms(100);
        Assert.DoesNotContain(ButtonEventKind.LongThresholdReached, Kinds());
        Assert.Equal([ButtonEventKind.ShortPress], Gestures());
    }

    [Fact]
    public void Short_press_without_double_binding_is_reported_at_once()
    {
        using var d = Create(doublePress: false);
        d.OnRaw(true);
        Ms(100);
        d.OnRaw(false);
        Ms(30);
        Assert.Equal(TimeSpan.FromMilliseconds(130), _events.Single(e => e.Event.Kind == ButtonEventKind.ShortPress).At);
    }

    [Fact]
    public void Double_press_inside_the_window()
    {
        using var d = Create(doublePress: true);
        Hold(d, 100);
        Ms(200); // gap between release edge and second press edge: 230 ms
        Hold(d, 100);
        Ms(1000);
        Assert.Equal([ButtonEventKind.DoublePress], Gestures());
    }

    [Theory]
    [InlineData(399, true)]
    [InlineData(401, false)]
    public void Double_press_window_is_measured_between_the_edges(int gapMs, bool isDouble)
    {
        using var d = Create(doublePress: true);
        d.OnRaw(true);
        Ms(100);
        d.OnRaw(false);
        Ms(gapMs);
        d.OnRaw(true);
        Ms(100);
        d.OnRaw(false);
        Ms(1000);
        Assert.Equal(isDouble ? [ButtonEventKind.DoublePress] : [ButtonEventKind.ShortPress, ButtonEventKind.ShortPress], Gestures());
    }

    [Fact]
    public void Double_capable_button_delays_a_single_short_press_by_the_window_only()
    {
        using var d = Create(doublePress: true);
        d.OnRaw(true);
        Ms(100);
        d.OnRaw(false);
        Ms(2000);
        var shortPress = _events.Single(e => e.Event.Kind == ButtonEventKind.ShortPress);
        // Release edge at 100 ms, seen at 130 ms, window 400 ms: reported at 530 ms.
        Assert.Equal(TimeSpan.FromMilliseconds(530), shortPress.At);
    }

    [Fact]
    public void Triple_press_is_a_double_then_a_short()
    {
        using var d = Create(doublePress: true);
        Hold(d, 80);
        Ms(100);
        Hold(d, 80);
        Ms(100);
        Hold(d, 80);
        Ms(1000);
        Assert.Equal([ButtonEventKind.DoublePress, ButtonEventKind.ShortPress], Gestures());
    }

    [Fact]
    public void Second_press_turning_long_reports_the_first_short_at_the_long_threshold()
    {
        using var d = Create(doublePress: true);
        Hold(d, 100);
        Ms(100);
        d.OnRaw(true);
        Ms(2000);
        Assert.Empty(Gestures());
        Ms(1500);
        Assert.Equal([ButtonEventKind.ShortPress], Gestures());
        d.OnRaw(false);
        Ms(30);
        Assert.Equal([ButtonEventKind.ShortPress, ButtonEventKind.LongPress], Gestures());
    }

    [Fact]
    public void Held_at_start_and_released_early_is_no_gesture()
    {
        using var d = Create(pressedAtStart: true);
        Ms(4000);
        d.OnRaw(false);
        Ms(100);
        Assert.Empty(Gestures());
    }

    [Fact]
    public void Held_at_start_for_ten_seconds_is_a_boot_hold()
    {
        using var d = Create(pressedAtStart: true);
        Ms(10_000);
        Assert.Contains(ButtonEventKind.VeryLongThresholdReached, Kinds());
        Assert.True(d.HeldSinceBoot);
        d.OnRaw(false);
        Ms(30);
        Assert.Equal([ButtonEventKind.BootHold], Gestures());
        Assert.False(d.HeldSinceBoot);
    }

    [Fact]
    public void New_timings_while_holding_keep_the_press_start()
    {
        using var d = Create();
        d.OnRaw(true);
        Ms(1000);
        d.UpdateTimings(new ButtonTimings(Debounce, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), false));
        Ms(1500);
        Assert.Equal(TimeSpan.FromSeconds(2), _events.Single(e => e.Event.Kind == ButtonEventKind.LongThresholdReached).At);
        d.OnRaw(false);
        Ms(30);
        Assert.Equal([ButtonEventKind.LongPress], Gestures());
    }

    [Fact]
    public void Zero_debounce_acts_on_every_edge()
    {
        using var d = new ButtonGestureDetector(
            _time, new ButtonTimings(TimeSpan.Zero, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(10), false),
            e => _events.Add((_time.GetUtcNow() - _start, e)), false);
        d.OnRaw(true);
        d.OnRaw(false);
        Assert.Equal([ButtonEventKind.ShortPress], Gestures());
    }
}
