using Firmware.Gateway.Board;
using Firmware.Platform.Gpio;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Gateway.Tests.Board;

public sealed class GpioDriverTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("gpio");

    public void Dispose() => _temp.Delete(recursive: true);

    private string MakeLed(string name, string trigger, string max = "1")
    {
        var dir = Directory.CreateDirectory(Path.Combine(_temp.FullName, name));
        File.WriteAllText(Path.Combine(dir.FullName, "trigger"), trigger);
        File.WriteAllText(Path.Combine(dir.FullName, "brightness"), "1\n");
        File.WriteAllText(Path.Combine(dir.FullName, "max_brightness"), max + "\n");
        return dir.FullName;
    }

    [Theory]
    [InlineData("none rc-feedback [mmc0] timer oneshot", "mmc0")]
    [InlineData("[none] mmc0", "none")]
    [InlineData("default-on [heartbeat]\n", "heartbeat")]
    [InlineData("none mmc0", null)]
    [InlineData("", null)]
    public void Active_trigger_is_the_bracketed_word(string file, string? expected)
    {
        Assert.Equal(expected, LedClassDevice.ParseActiveTrigger(file));
    }

    [Fact]
    public void Led_class_device_takes_over_and_restores_the_trigger()
    {
        var dir = MakeLed("PWR", "none [default-on] mmc0 timer", "255");
        var led = LedClassDevice.Open("PWR", _temp.FullName);
        Assert.Equal("default-on", led.OriginalTrigger);
        Assert.Equal("none", File.ReadAllText(Path.Combine(dir, "trigger")));
        Assert.Equal("0", File.ReadAllText(Path.Combine(dir, "brightness")));
        led.Write(true);
        Assert.Equal("255", File.ReadAllText(Path.Combine(dir, "brightness")));
        led.Dispose();
        Assert.Equal("default-on", File.ReadAllText(Path.Combine(dir, "trigger")));
        Assert.Equal("0", File.ReadAllText(Path.Combine(dir, "brightness")));
        Assert.Throws<ObjectDisposedException>(() => led.Write(true));
    }

    [Fact]
    public void Led_trigger_is_restored_at_the_next_start_after_kill_9()
    {
        var dir = MakeLed("ACT", "none [mmc0] timer");
        var state = Path.Combine(_temp.FullName, "run-leds");
        var first = LedClassDevice.Open("ACT", _temp.FullName, state);
        first.Write(true);
        Assert.Equal("mmc0", File.ReadAllText(Path.Combine(state, "ACT.trigger")));
        // kill -9: no Dispose. The kernel now reports the trigger we set.
        File.WriteAllText(Path.Combine(dir, "trigger"), "[none] mmc0 timer");

        // The next start puts the saved trigger back before anything else.
        Assert.Equal(["ACT: mmc0"], LedClassDevice.RestoreSaved(_temp.FullName, state));
        Assert.Equal("mmc0", File.ReadAllText(Path.Combine(dir, "trigger")));
        Assert.Equal("0", File.ReadAllText(Path.Combine(dir, "brightness")));
        Assert.False(File.Exists(Path.Combine(state, "ACT.trigger")));
        Assert.Empty(LedClassDevice.RestoreSaved(_temp.FullName, state));
    }

    [Fact]
    public void Led_opened_again_after_kill_9_keeps_the_real_original_trigger()
    {
        var dir = MakeLed("PWR", "none [default-on] mmc0");
        var state = Path.Combine(_temp.FullName, "run-leds");
        _ = LedClassDevice.Open("PWR", _temp.FullName, state);
        File.WriteAllText(Path.Combine(dir, "trigger"), "[none] default-on mmc0");

        // Opened again without RestoreSaved (the same LED in the next run): the saved trigger is the original.
        var second = LedClassDevice.Open("PWR", _temp.FullName, state);
        Assert.Equal("default-on", second.OriginalTrigger);
        second.Dispose();
        Assert.Equal("default-on", File.ReadAllText(Path.Combine(dir, "trigger")));
        Assert.False(File.Exists(Path.Combine(state, "PWR.trigger")));
    }

    [Fact]
    public void Led_class_device_that_does_not_exist_is_an_io_error()
    {
        Assert.ThrowsAny<IOException>(() => LedClassDevice.Open("nope", _temp.FullName));
        Assert.Throws<ArgumentException>(() => LedClassDevice.Open("../etc", _temp.FullName));
    }

    [Fact]
    public void Console_driver_prints_led_changes()
    {
        using var output = new StringWriter();
        using var lines = new ConsoleGpioLines(output, _time);
        var tunnel = lines.OpenOutput("tunnel", 24);
        tunnel.Write(true);
        _time.Advance(TimeSpan.FromSeconds(1));
        tunnel.Write(false);
        Assert.Equal(["[led] tunnel: on", "[led] tunnel: off"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Console_driver_rate_limits_and_prints_the_final_state()
    {
        using var output = new StringWriter();
        using var lines = new ConsoleGpioLines(output, _time, TimeSpan.FromMilliseconds(500));
        var power = lines.OpenOutput("power", 23);
        power.Write(true);
        for (var i = 0; i < 10; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(20));
            power.Write(i % 2 == 0);
        }
        // Ends off at 200 ms; nothing more printed until the interval has passed.
        Assert.Equal(["[led] power: on"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        _time.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(["[led] power: on", "[led] power: off"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Console_driver_merges_a_blink_that_returns_to_the_printed_state()
    {
        using var output = new StringWriter();
        using var lines = new ConsoleGpioLines(output, _time, TimeSpan.FromMilliseconds(500));
        var power = lines.OpenOutput("power", 23);
        power.Write(true);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        power.Write(false);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        power.Write(true);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(["[led] power: on"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Console_script_presses_buttons_of_a_board()
    {
        using var output = new StringWriter();
        using var lines = new ConsoleGpioLines(output, _time);
        var sink = new RecordingSink();
        using var board = new BoardController(new BoardOptions { SelfTest = false }, lines, _time, sink);

        await lines.RunScriptAsync(new StringReader("# demo\npress button1\n"), CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        await lines.RunScriptAsync(new StringReader("\nrelease button1\nfrobnicate\n"), CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal([GatewayCommand.ToggleClients], sink.Commands);

        var hold = lines.RunScriptAsync(new StringReader("hold button1 3.5\n"), CancellationToken.None);
        for (var i = 0; i < 40 && !hold.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Yield();
        }
        await hold.WaitAsync(TimeSpan.FromSeconds(10));
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal([GatewayCommand.ToggleClients, GatewayCommand.ReloadConfig], sink.Commands);

        var text = output.ToString();
        Assert.Contains("[button] button1: pressed", text, StringComparison.Ordinal);
        Assert.Contains("[button] not understood: frobnicate", text, StringComparison.Ordinal);
        Assert.Contains("[led] power: on", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Console_press_of_an_unknown_button_is_refused()
    {
        using var lines = new ConsoleGpioLines(TextWriter.Null, _time);
        Assert.False(lines.Press("button9"));
    }

    [Fact]
    public void Factory_without_gpio_chips_warns_and_runs_without_buttons()
    {
        var result = GpioDriverFactory.Create(new GpioDriverRequest(GpioDriverKind.Auto, "pinctrl-bcm2711", _time) { DevRoot = _temp.FullName });
        Assert.IsType<NullGpioLines>(result.Lines);
        Assert.NotNull(result.Warning);
        Assert.Contains("no GPIO chip labelled 'pinctrl-bcm2711' (found: none)", result.Warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Factory_reports_a_device_that_is_not_a_gpio_chip()
    {
        File.WriteAllText(Path.Combine(_temp.FullName, "gpiochip0"), "not a device");
        var result = GpioDriverFactory.Create(new GpioDriverRequest(GpioDriverKind.Auto, "pinctrl-rp1", _time) { DevRoot = _temp.FullName });
        Assert.IsType<NullGpioLines>(result.Lines);
        Assert.Contains("gpiochip0: not a GPIO chip", result.Warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Factory_gives_console_and_none_without_warnings()
    {
        var console = GpioDriverFactory.Create(new GpioDriverRequest(GpioDriverKind.Console, "x", _time, TextWriter.Null));
        using var consoleLines = console.Lines;
        Assert.IsType<ConsoleGpioLines>(console.Lines);
        Assert.Null(console.Warning);
        var none = GpioDriverFactory.Create(new GpioDriverRequest(GpioDriverKind.None, "x", _time));
        Assert.IsType<NullGpioLines>(none.Lines);
        Assert.Null(none.Warning);
    }

    [Fact]
    public void Null_driver_runs_a_board_without_anything_happening()
    {
        var sink = new RecordingSink();
        using var board = new BoardController(new BoardOptions(), new NullGpioLines(), _time, sink);
        board.Publish(new GatewayHealth(ConfigState.Ok, TunnelState.Up, 1, 5, 5));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Empty(sink.Commands);
        Assert.Empty(board.Warnings);
    }

    [Theory]
    [InlineData("gpiochip0", 0)]
    [InlineData("gpiochip4", 4)]
    [InlineData("gpiochip", -1)]
    [InlineData("gpiochipX", -1)]
    public void Chip_number_comes_from_the_name(string name, int number)
    {
        Assert.Equal(number, new GpioChip(name, "label", 54).Number);
    }

    [Fact]
    public void Chip_is_found_by_label_not_by_number()
    {
        // A Pi 5 on a newer kernel: the RP1 header chip is gpiochip0; on older ones it was gpiochip4.
        GpioChip[] newer = [new("gpiochip0", "pinctrl-rp1", 54), new("gpiochip10", "gpio-brcmstb@107d508500", 32)];
        GpioChip[] older = [new("gpiochip0", "gpio-brcmstb@107d508500", 32), new("gpiochip4", "pinctrl-rp1", 54)];
        Assert.Equal(0, GpioChipDirectory.FindByLabel(newer, BoardProfiles.Pi5.ChipLabel)!.Number);
        Assert.Equal(4, GpioChipDirectory.FindByLabel(older, BoardProfiles.Pi5.ChipLabel)!.Number);
        Assert.Null(GpioChipDirectory.FindByLabel(older, "pinctrl-bcm2711"));
    }
}
