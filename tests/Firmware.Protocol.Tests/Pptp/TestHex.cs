using System.Text;

namespace Firmware.Protocol.Tests.Pptp;

/// <summary>Hex helpers for hand-written golden packets.</summary>
internal static class TestHex
{
    /// <summary>Parses hex with any whitespace, '|' separators and "//" comments to end of line.</summary>
    public static byte[] Parse(string text)
    {
        var builder = new StringBuilder();
        foreach (var line in text.Split('\n'))
        {
            var code = line;
            var comment = code.IndexOf("//", StringComparison.Ordinal);
            if (comment >= 0)
            {
                code = code[..comment];
            }
            foreach (var c in code)
            {
                if (Uri.IsHexDigit(c))
                {
                    builder.Append(c);
                }
            }
        }
        return Convert.FromHexString(builder.ToString());
    }

    /// <summary>Hex of a fixed field: the given hex text followed by zero octets up to <paramref name="size"/>.</summary>
    public static string Field(string hex, int size)
    {
        var bytes = Parse(hex);
        Assert.True(bytes.Length <= size);
        // Leading newline: the field follows a hex line that may end in a comment.
        return "\n" + Convert.ToHexString(bytes) + new string('0', (size - bytes.Length) * 2);
    }

    public static string Zeros(int count) => "\n" + new string('0', count * 2);
}
