using Firmware.Gateway.Board;
using Firmware.Platform.Gpio;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Gateway.Tests.Board;

public sealed class BoardControllerTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeGpioLines _lines;
    private readonly RecordingSink _sink = new();
    private readonly List<ButtonActivity> _activity = [];

    public BoardControllerTests() => _lines = new FakeGpioLines(_time);

    private static readonly BoardOptions Quiet = new() { SelfTest = false };

    private BoardController Create(BoardOptions? options = null, Func<ulong>? traffic = null)
    {
        var board = new BoardController(options ?? Quiet, _lines, _time, _sink, traffic);
        board.ButtonActivity += (_, a) => _activity.Add(a);
        return board;
    }

    private void Run(double ms)
    {
        for (var t = 0.0; t < ms; t += 5)
        {
            _time.Advance(TimeSpan.FromMilliseconds(5));
        }
    }

    // Button 1 on GPIO17, button 2 on GPIO27, active-low: pressed = low.
    private void Press(int line) => _lines.Input(line).Set(false);

    private void Release(int line) => _lines.Input(line).Set(true);

    private void Hold(int line, double ms)
    {
        Press(line);
        Run(ms);
        Release(line);
        Run(50);
    }

    [Fact]
    public void Opens_the_profile_defaults_with_pull_ups()
    {
        using var board = Create();
        Assert.Equal(
            [
                new GpioInputRequest("button1", 17, GpioBias.PullUp, true) { Debounce = BoardOptions.DefaultDebounce },
                new GpioInputRequest("button2", 27, GpioBias.PullUp, true) { Debounce = BoardOptions.DefaultDebounce },
            ],
            _lines.InputRequests);
        Assert.Equal(23, _lines.Output("power").Line);
        Assert.Equal(24, _lines.Output("tunnel").Line);
        Assert.Equal(25, _lines.Output("activity").Line);
        Assert.Empty(board.Warnings);
    }

    [Fact]
    public void Button1_gestures_post_the_default_commands()
    {
        using var board = Create();
        Hold(17, 200);
        Hold(17, 3500);
        Assert.Equal([GatewayCommand.ToggleClients, GatewayCommand.ReloadConfig], _sink.Commands);
    }

    [Fact]
    public void Very_long_hold_shows_the_warning_before_the_factory_reset()
    {
        using var board = Create();
        Press(17);
        Run(3100);
        // Past 3 s: all LEDs steady on, "let go now to reload".
        Assert.True(_lines.Output("power").On && _lines.Output("tunnel").On && _lines.Output("activity").On);
        Run(8000);
        // Past 10 s: wig-wag warning; nothing has happened yet.
        var power = _lines.Output("power");
        var tunnel = _lines.Output("tunnel");
        var now = _time.GetUtcNow();
        for (var ms = 100; ms < 1000; ms += 60)
        {
            var at = now - TimeSpan.FromMilliseconds(ms);
            Assert.NotEqual(power.StateAt(at), tunnel.StateAt(at));
        }
        Assert.Empty(_sink.Commands);

        Release(17);
        Run(50);
        Assert.Equal([GatewayCommand.FactoryReset], _sink.Commands);
        // Feedback over: back to the normal patterns (idle: tunnel off).
        Assert.False(_lines.Output("tunnel").On);
    }

    [Fact]
    public void Button2_short_shows_the_status_code_and_long_does_nothing_by_default()
    {
        using var board = Create();
        board.Publish(new GatewayHealth(ConfigState.Ok, TunnelState.AuthFailed, 0, 0, 0));
        Run(1400); // the heartbeat is in its long dark phase now
        var shownAt = _time.GetUtcNow();
        Hold(27, 100);
        Run(7000);
        Hold(27, 4000);

        Assert.Equal([GatewayCommand.ShowStatus], _sink.Commands);
        // Code 4 on the power LED: four 250 ms flashes, twice.
        var power = _lines.Output("power");
        var flashes = power.Writes.Count(w => w.On && w.At >= shownAt && w.At < shownAt + TimeSpan.FromSeconds(6));
        Assert.Equal(8, flashes);
        Assert.Contains(_activity, a => a.Event.Kind == ButtonEventKind.LongPress && a.Command == GatewayCommand.None);
    }

    [Fact]
    public void Reboot_can_be_bound_to_button2_long()
    {
        using var board = Create(Quiet with { Button2 = ButtonOptions.Button2Defaults with { Long = GatewayCommand.Reboot } });
        Hold(27, 3200);
        Assert.Equal([GatewayCommand.Reboot], _sink.Commands);
    }

    [Fact]
    public void Holding_button1_at_boot_for_ten_seconds_is_a_factory_reset()
    {
        _lines.InitialLevels[17] = false; // held down when the gateway starts
        using var board = Create();
        Run(10_100);
        Assert.Empty(_sink.Commands);
        Release(17);
        Run(50);
        Assert.Equal([GatewayCommand.FactoryReset], _sink.Commands);
    }

    [Fact]
    public void Button2_held_at_boot_does_nothing()
    {
        _lines.InitialLevels[27] = false;
        using var board = Create();
        Run(11_000);
        Release(27);
        Run(50);
        Assert.Empty(_sink.Commands);
    }

    [Fact]
    public void Button1_held_at_boot_and_released_early_does_nothing()
    {
        _lines.InitialLevels[17] = false;
        using var board = Create();
        Run(5000);
        Release(17);
        Run(50);
        Assert.Empty(_sink.Commands);
    }

    [Fact]
    public void Long_press_carries_across_a_config_reload_and_uses_the_new_binding()
    {
        using var board = Create();
        Press(17);
        Run(1500);
        var errors = board.ApplyOptions(Quiet with { Button1 = ButtonOptions.Button1Defaults with { Long = GatewayCommand.ShowStatus } });
        Assert.Empty(errors);
        Run(2000);
        Release(17);
        Run(50);

        Assert.Equal([GatewayCommand.ShowStatus], _sink.Commands);
        Assert.Equal(2, _lines.InputRequests.Count); // the line was not reopened
    }

    [Fact]
    public void Reload_that_moves_a_button_reopens_its_line_and_drops_the_press()
    {
        using var board = Create();
        Press(17);
        Run(1000);
        Assert.Empty(board.ApplyOptions(Quiet with { Button1 = ButtonOptions.Button1Defaults with { Pin = 22 } }));
        Assert.False(_lines.IsInputOpen(17));
        Assert.True(_lines.IsInputOpen(22));
        _lines.Input(17).Set(true); // a late edge from the old line
        Run(3000);
        Assert.Empty(_sink.Commands);

        Hold(22, 100);
        Assert.Equal([GatewayCommand.ToggleClients], _sink.Commands);
    }

    [Fact]
    public void Reload_that_moves_an_led_switches_the_output()
    {
        using var board = Create();
        board.Publish(new GatewayHealth(ConfigState.Ok, TunnelState.Up, 0, 0, 0));
        var old = _lines.Output("tunnel");
        Assert.True(old.On);
        Assert.Empty(board.ApplyOptions(Quiet with { TunnelLed = new LedOptions { Pin = 26 } }));
        Assert.True(old.Disposed);
        Assert.False(old.On);
        Assert.Equal(26, _lines.Output("tunnel").Line);
        Assert.True(_lines.Output("tunnel").On);
    }

    [Fact]
    public void Invalid_reload_changes_nothing()
    {
        using var board = Create();
        var errors = board.ApplyOptions(Quiet with { TunnelLed = new LedOptions { Pin = 14 } });
        Assert.Equal("board.leds.tunnel.pin", Assert.Single(errors).Path);
        Assert.Equal(24, _lines.Output("tunnel").Line);
        Hold(17, 100);
        Assert.Equal([GatewayCommand.ToggleClients], _sink.Commands);
    }

    [Fact]
    public void Active_high_button_reads_pressed_high_with_pull_down()
    {
        using var board = Create(Quiet with { Button1 = ButtonOptions.Button1Defaults with { ActiveLow = false } });
        Assert.Equal(GpioBias.PullDown, _lines.InputRequests[0].Bias);
        var input = _lines.Input(17);
        Assert.False(input.Level);
        input.Set(true);
        Run(100);
        input.Set(false);
        Run(50);
        Assert.Equal([GatewayCommand.ToggleClients], _sink.Commands);
    }

    [Fact]
    public void Double_press_binding()
    {
        using var board = Create(Quiet with { Button1 = ButtonOptions.Button1Defaults with { Double = GatewayCommand.ShowStatus } });
        Hold(17, 100);
        Run(100);
        Hold(17, 100);
        Run(1000);
        Hold(17, 100);
        Run(1000);
        Assert.Equal([GatewayCommand.ShowStatus, GatewayCommand.ToggleClients], _sink.Commands);
    }

    [Fact]
    public void Tunnel_led_follows_the_published_state()
    {
        using var board = Create();
        var tunnel = _lines.Output("tunnel");
        board.Publish(new GatewayHealth(ConfigState.Ok, TunnelState.Connecting, 0, 0, 0));
        var connectingAt = _time.GetUtcNow();
        Run(2000);
        board.Publish(new GatewayHealth(ConfigState.Ok, TunnelState.Up, 0, 0, 0));
        var upAt = _time.GetUtcNow();
        Run(1000);
        board.Publish(new GatewayHealth(ConfigState.Ok, TunnelState.AuthFailed, 0, 0, 0));
        var failedAt = _time.GetUtcNow();
        Run(1000);

        string Sample(DateTimeOffset from, int count) =>
            new([.. Enumerable.Range(0, count).Select(i => tunnel.StateAt(from + TimeSpan.FromMilliseconds(50 * i)) ? '#' : '.')]);

        Assert.Equal("##########..........##########..........", Sample(connectingAt, 40));
        Assert.Equal("####################", Sample(upAt, 20));
        Assert.Equal("##..##..##..##..##..", Sample(failedAt, 20));
    }

    [Fact]
    public void Power_led_self_test_then_heartbeat()
    {
        var start = _time.GetUtcNow();
        using var board = Create(new BoardOptions());
        Run(3000);
        var power = _lines.Output("power");
        string Sample(DateTimeOffset from, int count) =>
            new([.. Enumerable.Range(0, count).Select(i => power.StateAt(from + TimeSpan.FromMilliseconds(50 * i)) ? '#' : '.')]);
        // Self-test (850 ms), then the heartbeat starting at 850 ms.
        Assert.Equal("###......########", Sample(start, 17));
        Assert.Equal("##...##.............", Sample(start + TimeSpan.FromMilliseconds(850), 20));
    }

    [Fact]
    public void Activity_led_reads_the_traffic_probe()
    {
        ulong packets = 0;
        using var board = Create(traffic: () => packets);
        board.Publish(new GatewayHealth(ConfigState.Ok, TunnelState.Up, 0, 0, 0));
        for (var i = 0; i < 100; i++)
        {
            packets += 3;
            Run(10);
        }
        var flashes = _lines.Output("activity").Writes.Count(w => w.On);
        Assert.InRange(flashes, 9, 10);
    }

    [Fact]
    public void Activity_led_uses_published_counters_without_a_probe()
    {
        using var board = Create();
        board.Publish(new GatewayHealth(ConfigState.Ok, TunnelState.Up, 0, 0, 0));
        Run(500);
        Assert.DoesNotContain(_lines.Output("activity").Writes, w => w.On);
        board.Publish(new GatewayHealth(ConfigState.Ok, TunnelState.Up, 0, 5, 7));
        Run(500);
        Assert.Single(_lines.Output("activity").Writes, w => w.On);
    }

    [Fact]
    public void Leds_use_one_timer_and_idle_buttons_none()
    {
        var counting = new CountingTimeProvider(_time);
        using var board = new BoardController(new BoardOptions(), _lines, counting, _sink, () => 1);
        board.Publish(new GatewayHealth(ConfigState.Ok, TunnelState.Connecting, 3, 0, 0));
        Run(5000);
        Assert.Equal(1, counting.TimersCreated);
    }

    [Fact]
    public void Broken_lines_are_warnings_and_the_rest_works()
    {
        _lines.BrokenLines.Add(27);
        _lines.BrokenLines.Add(25);
        using var board = Create();
        Assert.Equal(2, board.Warnings.Count);
        Assert.Contains(board.Warnings, w => w.StartsWith("board.buttons.button2: cannot open GPIO 27", StringComparison.Ordinal));
        Assert.Contains(board.Warnings, w => w.StartsWith("board.leds.activity: cannot open GPIO 25", StringComparison.Ordinal));
        Hold(17, 100);
        Assert.Equal([GatewayCommand.ToggleClients], _sink.Commands);
    }

    [Fact]
    public void Full_command_queue_drops_without_blocking()
    {
        using var board = Create();
        _sink.Full = true;
        Hold(17, 100);
        var posted = Assert.Single(_activity, a => a.Command == GatewayCommand.ToggleClients);
        Assert.False(posted.Posted);
    }

    [Fact]
    public void Invalid_options_are_refused_at_construction()
    {
        var e = Assert.Throws<ArgumentException>(() => Create(Quiet with { Profile = "pi9" }));
        Assert.Contains("board.profile", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Disabled_board_opens_nothing()
    {
        using var board = Create(Quiet with { Enabled = false });
        Assert.Empty(_lines.InputRequests);
        Assert.False(_lines.HasOutput("power"));
    }

    [Fact]
    public void Dispose_turns_leds_off_and_closes_lines()
    {
        var board = Create();
        board.Publish(new GatewayHealth(ConfigState.Error, TunnelState.NotWanted, 0, 0, 0));
        Assert.True(_lines.Output("power").On);
        board.Dispose();
        foreach (var name in new[] { "power", "tunnel", "activity" })
        {
            Assert.False(_lines.Output(name).On);
            Assert.True(_lines.Output(name).Disposed);
        }
        Assert.False(_lines.IsInputOpen(17));
        Assert.False(_lines.IsInputOpen(27));
        // Edges and timers after dispose are ignored.
        Press(17);
        Run(100);
        Assert.Empty(_sink.Commands);
    }

    [Fact]
    public void Led_class_device_gets_its_trigger_back_on_dispose()
    {
        var root = Directory.CreateTempSubdirectory("leds");
        try
        {
            var act = Directory.CreateDirectory(Path.Combine(root.FullName, "ACT"));
            File.WriteAllText(Path.Combine(act.FullName, "trigger"), "none [mmc0] timer heartbeat\n");
            File.WriteAllText(Path.Combine(act.FullName, "brightness"), "0\n");
            File.WriteAllText(Path.Combine(act.FullName, "max_brightness"), "255\n");
            _lines.LedRoot = root.FullName;

            var board = Create(Quiet with { ActivityLed = new LedOptions { Device = "ACT" } });
            Assert.Equal("none", File.ReadAllText(Path.Combine(act.FullName, "trigger")));
            board.Publish(new GatewayHealth(ConfigState.Ok, TunnelState.Up, 0, 0, 0));
            board.Publish(new GatewayHealth(ConfigState.Ok, TunnelState.Up, 0, 1, 0));
            Run(120);
            Assert.Equal("255", File.ReadAllText(Path.Combine(act.FullName, "brightness")));
            board.Dispose();
            Assert.Equal("mmc0", File.ReadAllText(Path.Combine(act.FullName, "trigger")));
            Assert.Equal("0", File.ReadAllText(Path.Combine(act.FullName, "brightness")));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }
}
