using System.Text.Json;
using System.Xml.Linq;
using Firmware.Gateway.Board;
using Firmware.Platform.Gpio;

namespace Firmware.Gateway.Tests.Board;

public sealed class BoardProfileTests
{
    private static string ProfileDir => Path.Combine(RepoPaths.Root, "board", "raspberrypi");

    public static TheoryData<string> ProfileNames => new(BoardProfiles.All.Select(p => p.Name));

    [Fact]
    public void Every_json_profile_has_a_code_profile_and_back()
    {
        var files = Directory.GetFiles(ProfileDir, "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(BoardProfiles.All.Select(p => p.Name).Order(StringComparer.Ordinal), files);
    }

    [Theory]
    [MemberData(nameof(ProfileNames))]
    public void Json_profile_matches_the_code_table(string name)
    {
        var profile = BoardProfiles.Find(name)!;
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(ProfileDir, name + ".json")));
        var root = json.RootElement;
        Assert.Equal(profile.Name, root.GetProperty("name").GetString());
        Assert.Equal(profile.Description, root.GetProperty("description").GetString());
        Assert.Equal(profile.ChipLabel, root.GetProperty("gpioChipLabel").GetString());
        var buttons = root.GetProperty("buttons");
        var leds = root.GetProperty("leds");
        Assert.Equal(
            profile.Pins,
            new BoardPins(
                buttons.GetProperty("button1").GetInt32(), buttons.GetProperty("button2").GetInt32(),
                leds.GetProperty("power").GetInt32(), leds.GetProperty("tunnel").GetInt32(), leds.GetProperty("activity").GetInt32()));
        Assert.Equal(profile.SafePins, root.GetProperty("safePins").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(profile.OnboardLeds, root.GetProperty("onboardLeds").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(name + "-wiring.svg", root.GetProperty("wiring").GetString());
    }

    [Theory]
    [MemberData(nameof(ProfileNames))]
    public void Wiring_picture_exists_and_shows_the_default_pins(string name)
    {
        var profile = BoardProfiles.Find(name)!;
        var svg = XDocument.Load(Path.Combine(ProfileDir, name + "-wiring.svg"));
        var text = string.Join(" ", svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value));
        var pins = profile.Pins;
        foreach (var gpio in new[] { pins.Button1, pins.Button2, pins.PowerLed, pins.TunnelLed, pins.ActivityLed })
        {
            Assert.Contains($"pin {RaspberryPiHeader.PhysicalPin(gpio)} GPIO{gpio}", text, StringComparison.Ordinal);
        }
        Assert.Contains(profile.ChipLabel, text, StringComparison.Ordinal);
        Assert.Contains("330 Ω", text, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ProfileNames))]
    public void Defaults_are_valid_for_every_profile(string name)
    {
        Assert.Empty(new BoardOptions { Profile = name }.Validate());
    }

    [Theory]
    [MemberData(nameof(ProfileNames))]
    public void Safe_sets_leave_out_eeprom_i2c_spi_uart_and_pcm(string name)
    {
        var profile = BoardProfiles.Find(name)!;
        foreach (var reserved in new[] { 0, 1, 2, 3, 7, 8, 9, 10, 11, 14, 15, 18, 19, 20, 21 })
        {
            Assert.False(profile.IsSafe(reserved), $"GPIO {reserved} must not be in the {name} safe set");
        }
    }

    [Fact]
    public void Pin_outside_the_safe_set_names_the_option()
    {
        var errors = new BoardOptions { TunnelLed = new LedOptions { Pin = 14 } }.Validate();
        var error = Assert.Single(errors);
        Assert.Equal("board.leds.tunnel.pin", error.Path);
        Assert.StartsWith("board.leds.tunnel.pin: pin 14 is not in the pi4b safe set", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Pin_used_twice_is_an_error_on_the_second_user()
    {
        var errors = new BoardOptions { ActivityLed = new LedOptions { Pin = 17 } }.Validate();
        var error = Assert.Single(errors);
        Assert.Equal("board.leds.activity.pin: pin 17 is already used by board.buttons.button1.pin (the pi4b default)", error.ToString());
        Assert.Equal("board.buttons.button1.pin", error.OtherPath);
    }

    [Fact]
    public void Clash_with_a_default_pin_is_reported_at_the_chosen_pin_whatever_the_order()
    {
        // button 1 is checked first, but it is the one the user moved onto the power LED's default pin 23.
        var error = Assert.Single(new BoardOptions { Button1 = ButtonOptions.Button1Defaults with { Pin = 23 } }.Validate());
        Assert.Equal("board.buttons.button1.pin: pin 23 is already used by board.leds.power.pin (the pi4b default)", error.ToString());
    }

    [Fact]
    public void Clash_between_two_chosen_pins_is_reported_at_the_second()
    {
        var error = Assert.Single(new BoardOptions
        {
            Button2 = ButtonOptions.Button2Defaults with { Pin = 5 },
            TunnelLed = new LedOptions { Pin = 5 },
        }.Validate());
        Assert.Equal("board.leds.tunnel.pin: pin 5 is already used by board.buttons.button2.pin", error.ToString());
    }

    [Fact]
    public void Disabled_parts_and_led_devices_free_their_pins()
    {
        Assert.Empty(new BoardOptions
        {
            Button1 = ButtonOptions.Button1Defaults with { Enabled = false },
            PowerLed = new LedOptions { Pin = 17 },
            TunnelLed = new LedOptions { Device = "ACT", Pin = 23 },
        }.Validate());
    }

    [Fact]
    public void All_errors_come_at_once()
    {
        var errors = new BoardOptions
        {
            Button1 = ButtonOptions.Button1Defaults with { Short = GatewayCommand.FactoryReset, Long = GatewayCommand.FactoryReset },
            Button2 = ButtonOptions.Button2Defaults with { Pin = 2, Double = GatewayCommand.Reboot },
            PowerLed = new LedOptions { Device = "../x" },
            Debounce = TimeSpan.FromSeconds(1),
            VeryLongPress = TimeSpan.FromSeconds(2),
        }.Validate();
        Assert.Equal(
            ["board.debounceSeconds", "board.veryLongPressSeconds", "board.buttons.button1.short", "board.buttons.button1.long",
             "board.buttons.button2.pin", "board.buttons.button2.double", "board.leds.power.device"],
            errors.Select(e => e.Path));
    }

    [Fact]
    public void Unknown_profile_lists_the_known_ones()
    {
        var error = Assert.Single(new BoardOptions { Profile = "pi2" }.Validate());
        Assert.Equal("board.profile: unknown board profile 'pi2' (known: pi3b, pi4b, pi5, zero2w)", error.ToString());
    }

    [Fact]
    public void Bias_that_holds_the_button_pressed_is_an_error()
    {
        var error = Assert.Single(new BoardOptions { Button2 = ButtonOptions.Button2Defaults with { Bias = GpioBias.PullDown } }.Validate());
        Assert.Equal("board.buttons.button2.bias", error.Path);
        Assert.Empty(new BoardOptions { Button2 = ButtonOptions.Button2Defaults with { Bias = GpioBias.None } }.Validate());
    }

    [Fact]
    public void Pi5_header_chip_is_looked_up_by_its_label()
    {
        Assert.Equal("pinctrl-rp1", BoardProfiles.Pi5.ChipLabel);
        Assert.Equal("pinctrl-bcm2711", BoardProfiles.Pi4B.ChipLabel);
    }

    [Theory]
    [InlineData(17, 11)]
    [InlineData(27, 13)]
    [InlineData(23, 16)]
    [InlineData(24, 18)]
    [InlineData(25, 22)]
    [InlineData(2, 3)]
    [InlineData(14, 8)]
    [InlineData(40, -1)]
    public void Header_pin_numbers(int gpio, int physical)
    {
        Assert.Equal(physical, RaspberryPiHeader.PhysicalPin(gpio));
    }
}
