using Firmware.Gateway.Board;
using Firmware.Gateway.Configuration;
using Firmware.Platform.Gpio;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Configuration;

/// <summary>The config file's "board" section, bound into the Board layer's <see cref="BoardOptions"/>.</summary>
public class ConfigBoardTests
{
    /// <summary>Every board key set to something other than its default.</summary>
    private const string EveryKey = """
        {
          "board": {
            "enabled": true,
            "profile": "pi5",
            "driver": "console",
            "debounceSeconds": 0.05,
            "doublePressWindowSeconds": 0.3,
            "longPressSeconds": 2.5,
            "veryLongPressSeconds": 12,
            "selfTest": false,
            "buttons": {
              "button1": { "enabled": true, "pin": 5, "activeLow": false, "bias": "pull-down",
                           "short": "show-status", "double": "toggle-clients", "long": "reboot", "veryLong": "reload-config" },
              "button2": { "enabled": false, "pin": 6, "activeLow": true, "bias": "none",
                           "short": "none", "double": "reload-config", "long": "factory-reset", "veryLong": "reboot" }
            },
            "leds": {
              "power": { "enabled": true, "pin": 12 },
              "tunnel": { "enabled": false, "pin": 13 },
              "activity": { "enabled": true, "device": "ACT" }
            }
          }
        }
        """;

    [Fact]
    public void Absent_section_is_the_board_layers_defaults()
    {
        var result = Load(MinimalServer);
        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        Assert.Equal(new BoardOptions(), result.Config!.Board);
        Assert.Equal(result.Config.Board, Load("""{ "board": { "buttons": {}, "leds": { "power": {} } } }""").Config!.Board);
    }

    [Fact]
    public void Defaults_are_the_issues_bindings_and_reboot_is_never_bound()
    {
        var board = Load("{}").Config!.Board;
        Assert.Equal("pi4b", board.Profile);
        Assert.Equal(GpioDriverKind.Auto, board.Driver);
        Assert.Equal(GatewayCommand.ToggleClients, board.Button1.Short);
        Assert.Equal(GatewayCommand.ReloadConfig, board.Button1.Long);
        Assert.Equal(GatewayCommand.FactoryReset, board.Button1.VeryLong);
        Assert.Equal(GatewayCommand.None, board.Button1.Double);
        Assert.Equal(GatewayCommand.ShowStatus, board.Button2.Short);
        Assert.Equal(GatewayCommand.None, board.Button2.Long);
        Assert.Equal(GatewayCommand.None, board.Button2.VeryLong);
        Assert.Equal(GatewayCommand.None, board.Button2.Double);
        Assert.Equal(TimeSpan.FromMilliseconds(30), board.Debounce);
        Assert.Equal(TimeSpan.FromMilliseconds(400), board.DoublePressWindow);
        Assert.Equal(TimeSpan.FromSeconds(3), board.LongPress);
        Assert.Equal(TimeSpan.FromSeconds(10), board.VeryLongPress);
        Assert.DoesNotContain(GatewayCommand.Reboot, new[]
        {
            board.Button1.Short, board.Button1.Double, board.Button1.Long, board.Button1.VeryLong,
            board.Button2.Short, board.Button2.Double, board.Button2.Long, board.Button2.VeryLong,
        });
    }

    [Fact]
    public void Binds_every_board_key()
    {
        var result = Load(EveryKey);
        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        var expected = new BoardOptions
        {
            Enabled = true,
            Profile = "pi5",
            Driver = GpioDriverKind.Console,
            Debounce = TimeSpan.FromMilliseconds(50),
            DoublePressWindow = TimeSpan.FromMilliseconds(300),
            LongPress = TimeSpan.FromMilliseconds(2500),
            VeryLongPress = TimeSpan.FromSeconds(12),
            SelfTest = false,
            Button1 = new ButtonOptions
            {
                Enabled = true,
                Pin = 5,
                ActiveLow = false,
                Bias = GpioBias.PullDown,
                Short = GatewayCommand.ShowStatus,
                Double = GatewayCommand.ToggleClients,
                Long = GatewayCommand.Reboot,
                VeryLong = GatewayCommand.ReloadConfig,
            },
            Button2 = new ButtonOptions
            {
                Enabled = false,
                Pin = 6,
                ActiveLow = true,
                Bias = GpioBias.None,
                Short = GatewayCommand.None,
                Double = GatewayCommand.ReloadConfig,
                Long = GatewayCommand.FactoryReset,
                VeryLong = GatewayCommand.Reboot,
            },
            PowerLed = new LedOptions { Enabled = true, Pin = 12 },
            TunnelLed = new LedOptions { Enabled = false, Pin = 13 },
            ActivityLed = new LedOptions { Enabled = true, Device = "ACT" },
        };
        Assert.Equal(expected, result.Config!.Board);
    }

    [Fact]
    public void The_every_key_document_does_name_every_board_key()
    {
        var root = ConfigJsonReader.Parse(System.Text.Encoding.UTF8.GetBytes(EveryKey), [])!;
        var inDocument = new SortedSet<string>(StringComparer.Ordinal);
        Collect(root["board"]!, inDocument);
        var inTable = new SortedSet<string>(
            ConfigKeys.All.Select(k => k.Path).Where(p => p.StartsWith("board.", StringComparison.Ordinal)), StringComparer.Ordinal);
        // An LED takes pin or device, so "device" is shown on one LED and "pin" on the others.
        inTable.ExceptWith(["board.leds.power.device", "board.leds.tunnel.device", "board.leds.activity.pin"]);
        Assert.Equal(inTable, inDocument);

        static void Collect(ConfigNode node, ISet<string> paths)
        {
            foreach (var (_, child) in node.Properties)
            {
                paths.Add(child.Path);
                Collect(child, paths);
            }
        }
    }

    [Theory]
    [InlineData("none", GatewayCommand.None)]
    [InlineData("toggle-clients", GatewayCommand.ToggleClients)]
    [InlineData("reload-config", GatewayCommand.ReloadConfig)]
    [InlineData("factory-reset", GatewayCommand.FactoryReset)]
    [InlineData("show-status", GatewayCommand.ShowStatus)]
    [InlineData("reboot", GatewayCommand.Reboot)]
    public void Command_words_are_kebab_case(string word, GatewayCommand command)
    {
        var result = Load($$"""{ "board": { "buttons": { "button2": { "veryLong": "{{word}}" } } } }""");
        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        Assert.Equal(command, result.Config!.Board.Button2.VeryLong);
        Assert.Equal(word, ConfigWords.Of(command));
    }

    [Fact]
    public void Command_word_list_is_exactly_the_commands()
    {
        Assert.Equal(["none", "toggle-clients", "reload-config", "factory-reset", "show-status", "reboot"], ConfigKeys.CommandNames);
        Assert.Equal(["auto", "console", "none"], ConfigKeys.DriverNames);
        Assert.Equal(["none", "pull-up", "pull-down"], ConfigKeys.BiasNames);
    }

    [Fact]
    public void Unknown_command_word_suggests_the_right_one_with_its_line()
    {
        var json = """
            {
              "board": {
                "buttons": {
                  "button1": { "short": "toggle-client" },
                  "button2": { "long": "ToggleClients" }
                }
              }
            }
            """;
        var result = Load(json);
        Assert.False(result.Accepted);
        Assert.Equal(
            "error: line 4, board.buttons.button1.short: 'toggle-client' is not one of none, toggle-clients, reload-config, factory-reset, show-status, reboot; did you mean 'toggle-clients'?",
            Single(result, "board.buttons.button1.short").ToString());
        Assert.Equal(5, Single(result, "board.buttons.button2.long").Line);
    }

    [Theory]
    [InlineData("\"profile\": \"pi4\"", "board.profile", "'pi4' is not one of pi3b, pi4b, pi5, zero2w; did you mean 'pi4b'?")]
    [InlineData("\"driver\": \"gpio\"", "board.driver", "'gpio' is not one of auto, console, none")]
    [InlineData("\"debounceSeconds\": 1", "board.debounceSeconds", "1 is outside 0..0.5")]
    [InlineData("\"longPressSeconds\": 0.1", "board.longPressSeconds", "0.1 is outside 0.5..60")]
    [InlineData("\"buttons\": { \"button1\": { \"bias\": \"pullup\" } }", "board.buttons.button1.bias", "'pullup' is not one of none, pull-up, pull-down; did you mean 'pull-up'?")]
    [InlineData("\"buttons\": { \"button1\": { \"bias\": \"pull-down\" } }", "board.buttons.button1.bias", "pull-down with an active-low button reads pressed all the time")]
    [InlineData("\"buttons\": { \"button1\": { \"short\": \"reboot\" } }", "board.buttons.button1.short", "reboot may only be bound to a long or very long press")]
    [InlineData("\"buttons\": { \"button2\": { \"double\": \"factory-reset\" } }", "board.buttons.button2.double", "factory-reset may only be bound to a long or very long press")]
    [InlineData("\"buttons\": { \"button1\": { \"long\": \"factory-reset\" } }", "board.buttons.button1.long", "factory-reset may only be bound to veryLong")]
    [InlineData("\"buttons\": { \"button1\": { \"pin\": -1 } }", "board.buttons.button1.pin", "-1 is outside 0..1023")]
    [InlineData("\"leds\": { \"power\": { \"device\": \"../brightness\" } }", "board.leds.power.device", "'../brightness' is not an LED device name")]
    [InlineData("\"leds\": { \"power\": { \"pin\": 5, \"device\": \"ACT\" } }", "board.leds.power.device", "give pin or device, not both")]
    [InlineData("\"selfTest\": \"yes\"", "board.selfTest", "expected true or false, got a string (\"yes\")")]
    public void Wrong_board_values_are_errors_on_their_line(string member, string path, string message)
    {
        var json = "{\n \"board\": {\n  " + member + "\n }\n}";
        var result = Load(json);
        Assert.False(result.Accepted);
        var error = Single(result, path);
        Assert.Equal(message, error.Message);
        Assert.Equal(3, error.Line);
    }

    [Fact]
    public void Pin_used_twice_is_reported_at_the_second_with_the_first_ones_line()
    {
        var json = """
            {
              "board": {
                "buttons": {
                  "button2": { "pin": 5 }
                },
                "leds": {
                  "tunnel": {
                    "pin": 5
                  }
                }
              }
            }
            """;
        var result = Load(json);
        Assert.False(result.Accepted);
        Assert.Equal("error: line 8, board.leds.tunnel.pin: pin 5 is already used by board.buttons.button2.pin (line 4)",
            Single(result, "board.leds.tunnel.pin").ToString());
        Assert.Single(result.Errors);
    }

    [Fact]
    public void Pin_taking_a_profile_default_is_reported_where_it_is_written()
    {
        // GPIO 23 is the power LED's default pin; button 1 is checked first but it is the key in the file.
        var json = "{\n  \"board\": {\n    \"buttons\": {\n      \"button1\": { \"pin\": 23 }\n    }\n  }\n}";
        var result = Load(json);
        Assert.Equal("error: line 4, board.buttons.button1.pin: pin 23 is already used by board.leds.power.pin (the pi4b default)",
            Single(result, "board.buttons.button1.pin").ToString());
        Assert.True(Load(json.Replace("{ \"pin\": 23 }", "{ \"pin\": 23 } }, \"leds\": { \"power\": { \"device\": \"PWR\" }", StringComparison.Ordinal)).Accepted);
    }

    [Fact]
    public void Pin_outside_the_profiles_safe_set_names_the_set()
    {
        var json = "{\n  \"board\": {\n    \"profile\": \"zero2w\",\n    \"leds\": {\n      \"activity\": { \"pin\": 14 }\n    }\n  }\n}";
        Assert.Equal(
            "error: line 5, board.leds.activity.pin: pin 14 is not in the zero2w safe set (4, 5, 6, 12, 13, 16, 17, 22, 23, 24, 25, 26, 27)",
            Single(Load(json), "board.leds.activity.pin").ToString());
    }

    [Fact]
    public void Error_about_a_key_left_out_points_at_its_section()
    {
        var json = "{\n  \"board\": {\n    \"longPressSeconds\": 20\n  }\n}";
        var error = Single(Load(json), "board.veryLongPressSeconds");
        Assert.Equal("error: line 2, board.veryLongPressSeconds: must be longer than longPressSeconds (20 s)", error.ToString());
    }

    [Fact]
    public void Disabled_parts_free_their_pins_and_a_disabled_board_checks_no_pins()
    {
        Assert.True(Load("""{ "board": { "buttons": { "button1": { "enabled": false } }, "leds": { "power": { "pin": 17 } } } }""").Accepted);
        Assert.True(Load("""{ "board": { "enabled": false, "buttons": { "button1": { "pin": 5 }, "button2": { "pin": 5 } } } }""").Accepted);
    }

    [Fact]
    public void Board_change_is_seen_by_value()
    {
        var before = Load(EveryKey).Config!;
        Assert.False(ConfigDiff.Between(before, Load(EveryKey).Config!).BoardChanged);
        Assert.True(ConfigDiff.Between(before, Load(EveryKey.Replace("\"ACT\"", "\"PWR\"", StringComparison.Ordinal)).Config!).BoardChanged);
        Assert.True(ConfigDiff.Between(before, Load(EveryKey.Replace("0.05", "0.06", StringComparison.Ordinal)).Config!).BoardChanged);
        var diff = ConfigDiff.Between(before, Load(EveryKey.Replace("\"pin\": 12", "\"pin\": 16", StringComparison.Ordinal)).Config!);
        Assert.Equal("board", diff.ToString());
    }

    [Fact]
    public void Mppe_allows_both_modes_by_default_without_a_warning_and_still_warns_for_stateful_only()
    {
        var result = Load(MinimalServer);
        Assert.Empty(result.Diagnostics);
        Assert.True(result.Config!.Server!.Mppe.AllowStateful);
        var statefulOnly = Load(MinimalServer.Replace("\"users\"", "\"mppe\": { \"allowStateless\": false }, \"users\"", StringComparison.Ordinal));
        Assert.True(statefulOnly.Accepted);
        Assert.StartsWith("weak: stateful MPPE only", Single(statefulOnly, "server.mppe.allowStateless", ConfigSeverity.Warning).Message,
            StringComparison.Ordinal);
    }
}
