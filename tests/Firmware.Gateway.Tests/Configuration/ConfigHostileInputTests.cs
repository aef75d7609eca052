using System.Diagnostics;
using System.Text;
using Firmware.Gateway.Cli;
using Firmware.Gateway.Configuration;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Configuration;

/// <summary>
/// Files that crashed, hung or slowed the reader and binder, or that validated and then failed at start
/// (issue 12, item 5). Each must now come back as diagnostics with a line and a reason.
/// </summary>
public sealed class ConfigHostileInputTests
{
    private static string WithUser(string userJson) =>
        MinimalServer.Replace(
            "{ \"name\": \"alice\", \"ntHash\": \"8846F7EAEE8FB117AD06BDD830B7586C\" }", userJson, StringComparison.Ordinal);

    /// <summary>Loads on another thread and fails the test (instead of hanging or crashing it) past the deadline.</summary>
    private static ConfigLoadResult LoadWithin(string json, int milliseconds = 10_000)
    {
        var task = Task.Run(() => Load(json));
        Assert.True(task.Wait(milliseconds), $"loading did not finish within {milliseconds} ms");
        return task.Result;
    }

    [Theory]
    [InlineData("{ \"a:b\": 1 }")]
    [InlineData("{ \"server:users\": [] }")]
    [InlineData("{ \"x\": { \"y\": 1 }, \"x:y\": 2 }")]
    [InlineData("{ \"x:y\": 2, \"x\": { \"y\": 1 } }")]
    [InlineData("{ \"logging\": { \"level\": \"debug\" }, \"logging:level\": \"error\" }")]
    [InlineData("{ \"x\": [1, 2], \"x:0\": 3 }")]
    [InlineData("{ \":\": 1, \"::\": 2, \"\": 3 }")]
    [InlineData("{ \"server\": { \"users:0:name\": \"x\", \"users\": [ { \"name\": \"y\" } ] } }")]
    public void Keys_with_colons_are_reported_not_thrown(string json)
    {
        var result = LoadWithin(json);
        Assert.Contains(result.Diagnostics, d => d.Message.Contains("unknown key", StringComparison.Ordinal) && d.Line > 0);
    }

    [Fact]
    public void Check_config_reports_a_colon_key_and_exits_normally()
    {
        using var temp = new TempDirectory();
        var path = temp.File("colon.json");
        File.WriteAllText(path, "{\n  \"x\": { \"y\": 1 },\n  \"x:y\": 2\n}\n");
        var stdout = new StringWriter();
        var exit = GatewayCommandLine.Run(["check-config", path], new GatewayEnvironment(_ => null, Lan), stdout, new StringWriter());
        Assert.Equal(0, exit);
        Assert.Contains("warning: line 3, x:y: unknown key 'x:y' (ignored)", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_password_longer_than_ms_chap_allows_is_rejected_at_its_line()
    {
        var result = Load(WithUser("{ \"name\": \"alice\",\n \"password\": \"" + new string('p', 300) + "\" }"));
        Assert.False(result.Accepted);
        var error = Single(result, "server.users[0].password");
        Assert.Equal(6, error.Line);
        Assert.Contains("at most 256 characters", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ppp", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_256_character_password_is_accepted_for_ms_chap()
    {
        var result = Load(WithUser("{ \"name\": \"alice\", \"password\": \"" + new string('p', 256) + "\" }"));
        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
    }

    [Fact]
    public void A_password_pap_cannot_carry_is_rejected_when_pap_is_allowed()
    {
        var json = WithUser("{ \"name\": \"alice\", \"password\": \"" + new string('é', 200) + "\" }")
            .Replace("\"users\"", "\"authMethods\": [\"pap\", \"mschapv2\"], \"users\"", StringComparison.Ordinal);
        var error = Single(Load(json), "server.users[0].password");
        Assert.Contains("255 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_password_and_user_longer_than_the_wire_allows_are_rejected()
    {
        var json = "{ \"clients\": [ { \"name\": \"office\", \"server\": \"vpn.example.com\", \"user\": \""
            + new string('u', 256) + "\", \"password\": \"" + new string('p', 257) + "\" } ] }";
        var result = Load(json);
        Assert.Contains("at most 255 bytes", Single(result, "clients[0].user").Message, StringComparison.Ordinal);
        Assert.Contains("at most 256 characters", Single(result, "clients[0].password").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_user_name_longer_than_255_bytes_is_rejected()
    {
        var error = Single(Load(WithUser("{ \"name\": \"" + new string('n', 256) + "\", \"password\": \"x\" }")), "server.users[0].name");
        Assert.Contains("at most 255 bytes", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tun", "serverPrefix")]
    [InlineData("tun", "clientPrefix")]
    [InlineData("forwarding", "masqueradeOut")]
    public void A_final_newline_does_not_slip_past_a_pattern(string section, string key)
    {
        var json = MinimalServer.TrimEnd().TrimEnd('}') + $", \"{section}\": {{ \"{key}\": \"pptps\\n\" }} }}";
        var error = Single(Load(json), section + "." + key);
        Assert.Contains("control character (U+000A)", error.Message, StringComparison.Ordinal);
        Assert.False(ConfigBinder.MatchesPattern("pptps\n", ConfigKeys.Get(section + "." + key).Pattern!));
        Assert.True(ConfigBinder.MatchesPattern("pptps", ConfigKeys.Get(section + "." + key).Pattern!));
    }

    [Fact]
    public void A_final_newline_does_not_slip_past_the_interface_or_nt_hash_pattern()
    {
        var json = "{ \"clients\": [ { \"name\": \"office\", \"server\": \"vpn.example.com\", \"user\": \"u\","
            + " \"ntHash\": \"8846F7EAEE8FB117AD06BDD830B758\\n\", \"interface\": \"vpn0\\n\" } ] }";
        var result = Load(json);
        Assert.Contains("control character (U+000A)", Single(result, "clients[0].interface").Message, StringComparison.Ordinal);
        Assert.Contains("32 hex digits", Single(result, "clients[0].ntHash").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_key_pattern_is_anchored_at_the_very_end()
    {
        foreach (var key in ConfigKeys.All.Where(k => k.Pattern is not null))
        {
            Assert.False(ConfigBinder.MatchesPattern("a\n", key.Pattern!), key.Path);
        }
    }

    [Theory]
    [InlineData("server.users[0].name", "{ \"name\": \"ali\\u0001ce\", \"password\": \"x\" }")]
    [InlineData("server.users[0].name", "{ \"name\": \"alice\\n\", \"password\": \"x\" }")]
    [InlineData("server.users[0].name", "{ \"name\": \"ali\\u007fce\", \"password\": \"x\" }")]
    [InlineData("server.users[0].name", "{ \"name\": \"ali\\u0085ce\", \"password\": \"x\" }")]
    public void Control_characters_in_names_are_rejected(string path, string user)
    {
        var error = Single(Load(WithUser(user)), path);
        Assert.Contains("control character", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_names_that_differ_only_in_control_characters_are_both_rejected()
    {
        var json = WithUser("{ \"name\": \"a\\u0001\", \"password\": \"x\" }, { \"name\": \"a\\u0002\", \"password\": \"y\" }");
        var result = Load(json);
        Assert.False(result.Accepted);
        Assert.Contains("control character", Single(result, "server.users[0].name").Message, StringComparison.Ordinal);
        Assert.Contains("control character", Single(result, "server.users[1].name").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_strings_reject_control_characters_too()
    {
        var json = "{ \"clients\": [ { \"name\": \"office\\t\", \"server\": \"vpn.example.com\", \"user\": \"u\\u001b[31m\","
            + " \"password\": \"p\" } ], \"hooks\": { \"ipUp\": \"/etc/up\\r\" } }";
        var result = Load(json);
        Assert.Contains("control character", Single(result, "clients[0].name").Message, StringComparison.Ordinal);
        Assert.Contains("control character", Single(result, "clients[0].user").Message, StringComparison.Ordinal);
        Assert.Contains("control character", Single(result, "hooks.ipUp").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_strings_everywhere_are_rejected_with_a_limit()
    {
        var longText = new string('h', 5000);
        var json = "{ \"clients\": [ { \"name\": \"" + longText + "\", \"server\": \"" + new string('a', 300) + ".example.com\", \"user\": \"u\","
            + " \"password\": \"p\" } ], \"hooks\": { \"ipUp\": \"/" + longText + "\" }, \"$schema\": \"" + longText + "\","
            + " \"board\": { \"leds\": { \"power\": { \"device\": \"" + longText + "\" } } } }";
        var result = Load(json);
        foreach (var path in new[] { "clients[0].name", "clients[0].server", "hooks.ipUp", "$schema", "board.leds.power.device" })
        {
            Assert.Contains("at most", Single(result, path).Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../../../tmp")]
    [InlineData("a/b")]
    [InlineData(".")]
    public void An_led_device_cannot_leave_the_sysfs_led_folder(string device)
    {
        var json = "{ \"board\": { \"leds\": { \"power\": { \"device\": \"" + device + "\" } } } }";
        var result = Load(json);
        Assert.False(result.Accepted);
        Assert.Single(result.Errors, d => d.Path == "board.leds.power.device");
    }

    [Theory]
    [InlineData("\"password\": \"abc\\qdef\"", 'q')]
    [InlineData("\"password\": \"abc\\u00Zdef\"", 'Z')]
    [InlineData("\"password\": \"abc\"Xdef\"", 'X')]
    [InlineData("\"password\": \"abc\u0007def\"", '\u0007')]
    public void A_syntax_error_inside_a_password_does_not_echo_its_characters(string member, char secret)
    {
        var json = "{ \"server\": { \"users\": [ { \"name\": \"alice\", " + member + " } ] } }";
        var result = Load(json);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("syntax error", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret.ToString(), error.Message.Replace("syntax error", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("0x07", error.Message, StringComparison.Ordinal);
        Assert.True(error.Column > 0);
    }

    [Fact]
    public void Parsing_is_linear_in_the_length_of_a_list()
    {
        // One line of 1 MiB: the old column computation rescanned the line for every token.
        var items = new StringBuilder("{ \"server\": { \"dns\": [");
        while (items.Length < ConfigLoader.MaxFileBytes - 100)
        {
            items.Append("\"1.1.1.1\",");
        }
        items.Append("\"1.1.1.1\"] } }");
        var watch = Stopwatch.StartNew();
        var result = LoadWithin(items.ToString(), 30_000);
        watch.Stop();
        Assert.False(result.Accepted);
        // Well under a second in the published binary; the bound leaves room for a Debug build on a loaded
        // machine, while the quadratic column count took minutes.
        Assert.True(watch.ElapsedMilliseconds < 10_000, $"1 MiB took {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void Many_unknown_keys_are_checked_in_linear_time()
    {
        var json = new StringBuilder("{\n");
        for (var i = 0; i < 40_000; i++)
        {
            json.Append("\"k").Append(i).Append("\": [1],\n");
        }
        json.Append("\"clients\": [] }");
        var watch = Stopwatch.StartNew();
        var result = LoadWithin(json.ToString(), 30_000);
        watch.Stop();
        Assert.Equal(40_000, result.Warnings.Count(w => w.Message.StartsWith("unknown key", StringComparison.Ordinal)));
        Assert.True(watch.ElapsedMilliseconds < 10_000, $"40,000 keys took {watch.ElapsedMilliseconds} ms");
    }
}
