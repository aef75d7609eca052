using System.Text;
using Firmware.Gateway.Board;
using Firmware.Platform.Gpio;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Gateway.Tests.Board;

public sealed class LedTimerWheelTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeGpioLines _lines;
    private ulong _traffic;

    public LedTimerWheelTests() => _lines = new FakeGpioLines(_time);

    private (LedTimerWheel Wheel, FakeGpioLines.FakeOutput[] Leds) Create(int count = 3)
    {
        var wheel = new LedTimerWheel(_time, () => _traffic);
        var leds = new FakeGpioLines.FakeOutput[count];
        for (var i = 0; i < count; i++)
        {
            var output = (FakeGpioLines.FakeOutput)_lines.OpenOutput($"led{i}", 20 + i);
            leds[i] = output;
            wheel.Add($"led{i}", output);
        }
        return (wheel, leds);
    }

    /// <summary>Advances in 5 ms steps (timers fire close to on time, as on a real box).</summary>
    private void Run(double ms, Action? eachStep = null)
    {
        for (var t = 0.0; t < ms; t += 5)
        {
            eachStep?.Invoke();
            _time.Advance(TimeSpan.FromMilliseconds(5));
        }
    }

    /// <summary>'#' = on, '.' = off, one character per 50 ms starting at <paramref name="from"/>.</summary>
    private static string Sample(FakeGpioLines.FakeOutput led, DateTimeOffset from, int samples)
    {
        var text = new StringBuilder(samples);
        for (var i = 0; i < samples; i++)
        {
            text.Append(led.StateAt(from + TimeSpan.FromMilliseconds(50 * i)) ? '#' : '.');
        }
        return text.ToString();
    }

    [Fact]
    public void Heartbeat_is_two_short_flashes_a_second()
    {
        var (wheel, leds) = Create(1);
        using (wheel)
        {
            var start = _time.GetUtcNow();
            wheel.SetPattern(0, LedPattern.Heartbeat);
            Run(2000);
            Assert.Equal("##...##.............##...##.............", Sample(leds[0], start, 40));
        }
    }

    [Fact]
    public void Slow_and_fast_blink()
    {
        var (wheel, leds) = Create(2);
        using (wheel)
        {
            var start = _time.GetUtcNow();
            wheel.SetPattern(0, LedPattern.SlowBlink);
            wheel.SetPattern(1, LedPattern.FastBlink);
            Run(2000);
            Assert.Equal("##########..........##########..........", Sample(leds[0], start, 40));
            Assert.Equal("##..##..##..##..##..##..##..##..##..##..", Sample(leds[1], start, 40));
        }
    }

    [Fact]
    public void Blink_code_three_flashes_then_a_pause()
    {
        var (wheel, leds) = Create(1);
        using (wheel)
        {
            var start = _time.GetUtcNow();
            wheel.SetPattern(0, LedPattern.BlinkCode(3));
            Run(6000);
            // 3 × (250 on, 250 off) with the last off stretched to 1750 ms: a 3 s cycle.
            var cycle = "#####.....#####.....#####" + new string('.', 35);
            Assert.Equal(60, cycle.Length);
            Assert.Equal(cycle + cycle, Sample(leds[0], start, 120));
        }
    }

    [Fact]
    public void Self_test_sweeps_then_each_led_goes_to_its_normal_pattern()
    {
        var (wheel, leds) = Create();
        using (wheel)
        {
            var start = _time.GetUtcNow();
            wheel.SetPattern(0, LedPattern.On);
            for (var i = 0; i < 3; i++)
            {
                wheel.SetOverlay(i, LedPattern.SelfTest(i));
            }
            Run(1500);
            // 150 ms slots: power, tunnel, activity; then all on for 400 ms; then normal (power on, others off).
            Assert.Equal("###......#######################", Sample(leds[0], start, 32));
            Assert.Equal("...###...########...............", Sample(leds[1], start, 32));
            Assert.Equal("......###########...............", Sample(leds[2], start, 32));
            Assert.Equal(LedPattern.On, wheel.Showing(0));
        }
    }

    [Fact]
    public void Warning_alternates_between_neighbours()
    {
        var (wheel, leds) = Create(2);
        using (wheel)
        {
            var start = _time.GetUtcNow();
            wheel.SetOverlay(0, LedPattern.Warning(0));
            wheel.SetOverlay(1, LedPattern.Warning(1));
            Run(1000);
            var a = Sample(leds[0], start, 20);
            var b = Sample(leds[1], start, 20);
            Assert.Contains('#', a);
            for (var i = 0; i < a.Length; i++)
            {
                Assert.NotEqual(a[i], b[i]);
            }
        }
    }

    [Fact]
    public void Clearing_an_overlay_returns_to_the_normal_pattern()
    {
        var (wheel, leds) = Create(1);
        using (wheel)
        {
            wheel.SetPattern(0, LedPattern.Off);
            wheel.SetOverlay(0, LedPattern.On);
            Run(100);
            Assert.True(leds[0].On);
            wheel.SetOverlay(0, null);
            Assert.False(leds[0].On);
            Assert.Equal(LedPattern.Off, wheel.Showing(0));
        }
    }

    [Fact]
    public void Setting_the_playing_pattern_again_does_not_restart_it()
    {
        var (wheel, leds) = Create(1);
        using (wheel)
        {
            var start = _time.GetUtcNow();
            wheel.SetPattern(0, LedPattern.SlowBlink);
            Run(250);
            wheel.SetPattern(0, LedPattern.SlowBlink);
            Run(750);
            Assert.Equal("##########..........", Sample(leds[0], start, 20));
        }
    }

    [Fact]
    public void Writes_happen_only_on_changes()
    {
        var (wheel, leds) = Create(1);
        using (wheel)
        {
            wheel.SetPattern(0, LedPattern.On);
            wheel.SetPattern(0, LedPattern.Off);
            wheel.SetPattern(0, LedPattern.Off);
            Run(1000);
            Assert.Equal([false, true, false], leds[0].Writes.Select(w => w.On));
        }
    }

    [Fact]
    public void Three_leds_with_different_patterns_use_one_timer()
    {
        var counting = new CountingTimeProvider(_time);
        using var wheel = new LedTimerWheel(counting, () => _traffic);
        var outputs = Enumerable.Range(0, 3).Select(i => (FakeGpioLines.FakeOutput)_lines.OpenOutput($"led{i}", i)).ToArray();
        for (var i = 0; i < 3; i++)
        {
            wheel.Add($"led{i}", outputs[i]);
        }
        wheel.SetPattern(0, LedPattern.Heartbeat);
        wheel.SetPattern(1, LedPattern.SlowBlink);
        wheel.SetPattern(2, LedPattern.Traffic);
        Run(5000, () => _traffic++);

        Assert.Equal(1, counting.TimersCreated);
        Assert.All(outputs, o => Assert.True(o.Writes.Count > 10));
    }

    [Fact]
    public void Traffic_flashes_at_most_50ms_per_100ms()
    {
        var (wheel, leds) = Create(1);
        using (wheel)
        {
            var start = _time.GetUtcNow();
            wheel.SetPattern(0, LedPattern.Traffic);
            Run(1000, () => _traffic++); // a packet every 5 ms
            var busy = Sample(leds[0], start + TimeSpan.FromMilliseconds(25), 20);
            Assert.Equal("..#.#.#.#.#.#.#.#.#.", busy);

            leds[0].Writes.Clear();
            Run(1000); // quiet
            Assert.All(leds[0].Writes, w => Assert.False(w.On));
        }
    }

    [Fact]
    public void One_packet_one_flash()
    {
        var (wheel, leds) = Create(1);
        using (wheel)
        {
            wheel.SetPattern(0, LedPattern.Traffic);
            Run(300);
            _traffic += 1;
            Run(700);
            Assert.Single(leds[0].Writes, w => w.On);
        }
    }

    [Fact]
    public void Late_timer_catches_up_without_losing_phase()
    {
        var (wheel, leds) = Create(1);
        using (wheel)
        {
            var start = _time.GetUtcNow();
            wheel.SetPattern(0, LedPattern.SlowBlink);
            _time.Advance(TimeSpan.FromMilliseconds(1730)); // one big jump: the timer runs late
            Run(1000);
            Assert.False(leds[0].StateAt(start + TimeSpan.FromMilliseconds(1800)));
            Assert.True(leds[0].StateAt(start + TimeSpan.FromMilliseconds(2100)));
            Assert.False(leds[0].StateAt(start + TimeSpan.FromMilliseconds(2600)));
        }
    }

    [Fact]
    public void A_failing_led_is_reported_and_left_alone()
    {
        using var wheel = new LedTimerWheel(_time, () => 0);
        var failures = new List<string>();
        wheel.WriteFailed = (name, _) => failures.Add(name);
        var broken = new ThrowingOutput();
        wheel.Add("broken", broken);
        wheel.SetPattern(0, LedPattern.FastBlink);
        Run(1000);
        Assert.Equal(["broken"], failures);
        Assert.True(broken.Disposed);
    }

    [Fact]
    public void Dispose_turns_leds_off_and_releases_them()
    {
        var (wheel, leds) = Create();
        wheel.SetPattern(0, LedPattern.On);
        wheel.SetPattern(1, LedPattern.On);
        wheel.Dispose();
        Assert.All(leds, l => Assert.False(l.On));
        Assert.All(leds, l => Assert.True(l.Disposed));
    }

    private sealed class ThrowingOutput : IGpioOutput
    {
        public bool Disposed { get; private set; }

        public void Write(bool on)
        {
            if (on)
            {
                throw new IOException("gone");
            }
        }

        public void Dispose() => Disposed = true;
    }
}
