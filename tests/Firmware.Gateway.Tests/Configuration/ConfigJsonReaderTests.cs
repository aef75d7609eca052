using System.Text;
using Firmware.Gateway.Configuration;
using static Firmware.Gateway.Tests.Configuration.ConfigTestSupport;

namespace Firmware.Gateway.Tests.Configuration;

public class ConfigJsonReaderTests
{
    [Fact]
    public void Accepts_bom_crlf_comments_and_trailing_commas()
    {
        var text = "// header\r\n{\r\n  /* block */ \"server\": {\r\n    \"localAddress\": \"192.168.100.1\",\r\n    \"pool\": [\"192.168.100.10-50\",],\r\n"
            + "    \"users\": [{\"name\": \"a\", \"password\": \"p\",},],\r\n  },\r\n}\r\n";
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes(text)).ToArray();
        var result = Load(bytes);
        Assert.True(result.Accepted, string.Join("\n", result.Diagnostics));
        Assert.Equal("192.168.100.10-192.168.100.50", result.Config!.Server!.Pool[0].ToString());
    }

    [Theory]
    [InlineData("utf-16LE")]
    [InlineData("utf-16BE")]
    public void Decodes_utf16_with_a_bom_and_keeps_line_numbers(string encodingName)
    {
        var encoding = encodingName == "utf-16LE" ? Encoding.Unicode : Encoding.BigEndianUnicode;
        var json = "{\n\n  \"ppp\": { \"mru\": \"x\" }\n}\n";
        var bytes = encoding.GetPreamble().Concat(encoding.GetBytes(json)).ToArray();
        var error = Single(Load(bytes), "ppp.mru");
        Assert.Equal(3, error.Line);
        Assert.Equal("expected a number, got a string (\"x\")", error.Message);
    }

    [Fact]
    public void Rejects_utf16_without_a_bom_with_a_clear_message()
    {
        var result = Load(Encoding.Unicode.GetBytes("{ \"ppp\": {} }"));
        Assert.False(result.Accepted);
        Assert.Contains("UTF-16 without a byte-order mark", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \r\n\t ")]
    public void Empty_file_is_a_clear_error(string text)
    {
        var error = Assert.Single(Load(text).Errors);
        Assert.StartsWith("the file is empty", error.Message, StringComparison.Ordinal);
        Assert.Equal("error: the file is empty; it must hold a JSON object { ... } (see the example pptp-gateway.json)", error.ToString());
    }

    [Fact]
    public void Binary_garbage_is_a_clear_error()
    {
        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);
        garbage[0] = 0x89;
        var result = Load(garbage);
        Assert.False(result.Accepted);
        Assert.Single(result.Errors);
    }

    [Fact]
    public void Random_and_mutated_bytes_never_throw()
    {
        var random = new Random(1234);
        var seed = Encoding.UTF8.GetBytes(MinimalServer);
        for (var i = 0; i < 2000; i++)
        {
            byte[] input;
            if (i % 2 == 0)
            {
                input = new byte[random.Next(0, 300)];
                random.NextBytes(input);
            }
            else
            {
                input = (byte[])seed.Clone();
                for (var m = random.Next(1, 6); m > 0; m--)
                {
                    input[random.Next(input.Length)] = (byte)random.Next(256);
                }
                input = input[..random.Next(input.Length + 1)];
            }
            var result = Load(input);
            Assert.Equal(result.Accepted, !result.Errors.Any());
        }
    }

    [Fact]
    public void Syntax_error_reports_line_and_column()
    {
        var error = Assert.Single(Load("{\n  \"ppp\": {\n    \"mru\": 1400\n    \"mtu\": 1400\n  }\n}").Errors);
        Assert.Equal(4, error.Line);
        Assert.Equal(5, error.Column);
        Assert.StartsWith("error: line 4, column 5: syntax error:", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_write_says_the_file_was_cut_off()
    {
        var full = MinimalServer;
        var error = Assert.Single(Load(full[..(full.Length / 2)]).Errors);
        Assert.Contains("cut off while saving", error.Message, StringComparison.Ordinal);
        Assert.True(error.Line > 1);
    }

    [Fact]
    public void Deep_nesting_is_rejected_without_recursion_trouble()
    {
        var deep = new string('[', 100_000) + new string(']', 100_000);
        var error = Assert.Single(Load("{\"x\": " + deep + "}").Errors);
        Assert.Contains($"nested more than {ConfigJsonReader.MaxNesting} levels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_keys_are_errors_with_both_lines()
    {
        var result = Load("{\n  \"ppp\": { \"mru\": 1400 },\n  \"ppp\": { \"mru\": 1300 },\n  \"Tun\": {},\n  \"tun\": {}\n}");
        var errors = result.Errors.ToList();
        Assert.Equal(2, errors.Count);
        Assert.Equal("error: line 3, ppp: duplicate key 'ppp' (also on line 2); JSON keys must be unique, keep one", errors[0].ToString());
        Assert.Equal("error: line 5, tun: key 'tun' differs from 'Tun' on line 4 only in letter case; keep one", errors[1].ToString());
    }

    [Theory]
    [InlineData("[]", "a list [ ]")]
    [InlineData("\"server\"", "a string")]
    [InlineData("42", "a number")]
    public void Top_level_must_be_an_object(string json, string got)
    {
        var error = Assert.Single(Load(json).Errors);
        Assert.Equal($"the configuration must be a JSON object {{ ... }}, not {got}", error.Message);
    }

    [Fact]
    public void Trailing_content_after_the_object_is_an_error()
    {
        var error = Assert.Single(Load("{}\n{}").Errors);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void Files_over_one_mebibyte_are_rejected_before_parsing()
    {
        using var temp = new TempDirectory();
        var path = temp.File("huge.json");
        using (var stream = File.Create(path))
        {
            stream.SetLength(50L * 1024 * 1024);
        }
        var result = ConfigLoader.LoadFile(path, Lan);
        var error = Assert.Single(result.Errors);
        Assert.Equal("the file is 52428800 bytes; a configuration may be at most 1048576 bytes (1 MiB). Is this the right file?", error.Message);
    }

    [Fact]
    public void Missing_file_is_an_error_not_an_exception()
    {
        var result = ConfigLoader.LoadFile("/nonexistent-dir-xyz/pptp-gateway.json", Lan);
        Assert.Equal("the folder holding the file does not exist", Assert.Single(result.Errors).Message);
    }
}
