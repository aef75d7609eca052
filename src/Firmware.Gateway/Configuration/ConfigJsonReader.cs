using System.Text;
using System.Text.Json;

namespace Firmware.Gateway.Configuration;

/// <summary>
/// Reads configuration bytes as PC editors write them (UTF-8 with or without BOM, UTF-16 with a BOM as
/// Windows Notepad can save it, CRLF, comments, trailing commas) into a <see cref="ConfigNode"/> tree that
/// knows the line and column of every key. Reports syntax errors with line and column, duplicate keys, and
/// nesting beyond <see cref="MaxNesting"/>; never throws on any input.
/// </summary>
internal static class ConfigJsonReader
{
    /// <summary>The real file nests five levels; anything far deeper is a wrong or hostile file.</summary>
    public const int MaxNesting = 16;

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = MaxNesting + 8,
    };

    /// <summary>
    /// Turns the file's bytes into UTF-8 without a BOM, or returns null with an error. UTF-16 with a BOM is
    /// decoded (newlines survive, so line numbers still match what the editor shows).
    /// </summary>
    public static byte[]? DecodeText(ReadOnlySpan<byte> bytes, List<ConfigDiagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00]) || bytes.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]))
        {
            diagnostics.Add(FileError("the file is saved as UTF-32; save it as UTF-8"));
            return null;
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
        {
            return Encoding.UTF8.GetBytes(Encoding.Unicode.GetString(bytes[2..]));
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            return Encoding.UTF8.GetBytes(Encoding.BigEndianUnicode.GetString(bytes[2..]));
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            bytes = bytes[3..];
        }

        var firstNul = bytes.IndexOf((byte)0);
        if (firstNul >= 0)
        {
            diagnostics.Add(FileError(LooksLikeBomlessUtf16(bytes)
                ? "the file looks like UTF-16 without a byte-order mark; save it as UTF-8"
                : $"the file contains a NUL byte at offset {firstNul}: it is not a text file"));
            return null;
        }

        if (bytes.Trim(" \t\r\n"u8).IsEmpty)
        {
            diagnostics.Add(FileError("the file is empty; it must hold a JSON object { ... } (see the example pptp-gateway.json)"));
            return null;
        }

        return bytes.ToArray();
    }

    /// <summary>Parses UTF-8 (no BOM) into a tree; null when the syntax is broken (the error is in diagnostics).</summary>
    public static ConfigNode? Parse(ReadOnlySpan<byte> utf8, List<ConfigDiagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        var lines = new LineIndex(utf8);
        var reader = new Utf8JsonReader(utf8, ReaderOptions);
        try
        {
            if (!reader.Read())
            {
                diagnostics.Add(FileError("the file holds only comments; it must hold a JSON object { ... }"));
                return null;
            }

            var root = ReadValue(ref reader, utf8, lines, "", lines.Position(utf8, (int)reader.TokenStartIndex), diagnostics);
            if (root is null)
            {
                return null;
            }

            if (reader.Read())
            {
                var (line, column) = lines.Position(utf8, (int)reader.TokenStartIndex);
                diagnostics.Add(new(ConfigSeverity.Error, "", line, column, "syntax error: more JSON after the end of the top-level object"));
                return null;
            }
            return root;
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0) + 1;
            var column = lines.ColumnFromBytes(utf8, line, (int)(e.BytePositionInLine ?? 0));
            var hint = lines.IsAtEnd(utf8, line, (int)(e.BytePositionInLine ?? 0))
                ? " (the file ends in the middle of the JSON: was it cut off while saving?)"
                : "";
            diagnostics.Add(new(ConfigSeverity.Error, "", line, column, "syntax error: " + CleanMessage(e.Message, column) + hint));
            return null;
        }
        catch (InvalidOperationException)
        {
            // Utf8JsonReader reports text that is not valid UTF-8 this way when a string is decoded.
            var (line, column) = lines.Position(utf8, (int)reader.TokenStartIndex);
            diagnostics.Add(new(ConfigSeverity.Error, "", line, column, "a string holds bytes that are not valid UTF-8; save the file as UTF-8"));
            return null;
        }
    }

    private static ConfigNode? ReadValue(
        ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, LineIndex lines, string path, (int Line, int Column) at,
        List<ConfigDiagnostic> diagnostics)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
            case JsonTokenType.StartArray:
                if (reader.CurrentDepth >= MaxNesting)
                {
                    diagnostics.Add(new(ConfigSeverity.Error, path, at.Line, at.Column,
                        $"nested more than {MaxNesting} levels deep; this is not a pptp-gateway configuration"));
                    return null;
                }
                return reader.TokenType == JsonTokenType.StartObject
                    ? ReadObject(ref reader, utf8, lines, path, at, diagnostics)
                    : ReadArray(ref reader, utf8, lines, path, at, diagnostics);
            case JsonTokenType.String:
                return new ConfigNode(ConfigNodeKind.String, path, at.Line, at.Column, reader.GetString());
            case JsonTokenType.Number:
                return new ConfigNode(ConfigNodeKind.Number, path, at.Line, at.Column, Encoding.UTF8.GetString(reader.ValueSpan));
            case JsonTokenType.True:
                return new ConfigNode(ConfigNodeKind.Boolean, path, at.Line, at.Column, "true");
            case JsonTokenType.False:
                return new ConfigNode(ConfigNodeKind.Boolean, path, at.Line, at.Column, "false");
            default:
                return new ConfigNode(ConfigNodeKind.Null, path, at.Line, at.Column);
        }
    }

    private static ConfigNode? ReadObject(
        ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, LineIndex lines, string path, (int Line, int Column) at,
        List<ConfigDiagnostic> diagnostics)
    {
        var node = new ConfigNode(ConfigNodeKind.Object, path, at.Line, at.Column);
        var seen = new Dictionary<string, ConfigNode>(StringComparer.OrdinalIgnoreCase);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            var nameAt = lines.Position(utf8, (int)reader.TokenStartIndex);
            var childPath = ConfigNode.ChildPath(path, name);
            reader.Read();
            var child = ReadValue(ref reader, utf8, lines, childPath, nameAt, diagnostics);
            if (child is null)
            {
                return null;
            }

            if (seen.TryGetValue(name, out var first))
            {
                var firstName = first.Path[(first.Path.LastIndexOf('.') + 1)..];
                diagnostics.Add(new(ConfigSeverity.Error, childPath, nameAt.Line, nameAt.Column,
                    string.Equals(firstName, name, StringComparison.Ordinal)
                        ? $"duplicate key '{name}' (also on line {first.Line}); JSON keys must be unique, keep one"
                        : $"key '{name}' differs from '{firstName}' on line {first.Line} only in letter case; keep one"));
                continue;
            }

            seen.Add(name, child);
            node.AddProperty(name, child);
        }
        return node;
    }

    private static ConfigNode? ReadArray(
        ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, LineIndex lines, string path, (int Line, int Column) at,
        List<ConfigDiagnostic> diagnostics)
    {
        var node = new ConfigNode(ConfigNodeKind.Array, path, at.Line, at.Column);
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var itemAt = lines.Position(utf8, (int)reader.TokenStartIndex);
            var item = ReadValue(ref reader, utf8, lines, ConfigNode.ItemPath(path, index++), itemAt, diagnostics);
            if (item is null)
            {
                return null;
            }
            node.AddItem(item);
        }
        return node;
    }

    private static ConfigDiagnostic FileError(string message) => new(ConfigSeverity.Error, "", 0, 0, message);

    private static bool LooksLikeBomlessUtf16(ReadOnlySpan<byte> bytes)
    {
        var sample = bytes[..Math.Min(bytes.Length, 64)];
        var zerosAtOdd = 0;
        var zerosAtEven = 0;
        for (var i = 0; i < sample.Length; i++)
        {
            if (sample[i] == 0)
            {
                if ((i & 1) == 0)
                {
                    zerosAtEven++;
                }
                else
                {
                    zerosAtOdd++;
                }
            }
        }
        var half = sample.Length / 2;
        return half > 0 && (zerosAtOdd >= half * 3 / 4 || zerosAtEven >= half * 3 / 4);
    }

    /// <summary>
    /// Drops System.Text.Json's own position suffix, since ours goes in front, and never repeats the character
    /// it choked on: inside a password that would put a piece of the secret in the log and the status file.
    /// Its messages name that character first ("'q' is an invalid escapable character ...") or after
    /// "before" ("Invalid leading zero before '1'"); the grammar's own quotes (Expected ',') stay.
    /// </summary>
    internal static string CleanMessage(string message, int column)
    {
        ArgumentNullException.ThrowIfNull(message);
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        }
        message = (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
        var here = column > 0 ? $"the character at column {column}" : "a character";
        if (message.StartsWith('\''))
        {
            var close = message.IndexOf("' ", 1, StringComparison.Ordinal);
            message = close < 0 ? "invalid character" : here + message[(close + 1)..];
        }
        var before = message.IndexOf(" before '", StringComparison.Ordinal);
        if (before >= 0)
        {
            message = message[..before] + " before " + here;
        }
        return message;
    }

    /// <summary>
    /// Byte offsets where each line starts, to turn token offsets into 1-based line and column. Tokens come in
    /// file order, so the character count of a line is carried forward from the previous token on it instead of
    /// being counted again from the line's start: one long line costs linear time, not quadratic.
    /// </summary>
    private sealed class LineIndex
    {
        private readonly List<int> _starts;
        private int _cachedLine = -1;
        private int _cachedOffset;
        private int _cachedChars;

        public LineIndex(ReadOnlySpan<byte> utf8)
        {
            _starts = [0];
            for (var i = 0; i < utf8.Length; i++)
            {
                if (utf8[i] == (byte)'\n')
                {
                    _starts.Add(i + 1);
                }
            }
        }

        public (int Line, int Column) Position(ReadOnlySpan<byte> utf8, int offset)
        {
            var index = _starts.BinarySearch(offset);
            var line = index >= 0 ? index : ~index - 1;
            return (line + 1, CharColumn(utf8, line, offset));
        }

        public int ColumnFromBytes(ReadOnlySpan<byte> utf8, int line, int bytePosition)
        {
            if (line < 1 || line > _starts.Count)
            {
                return bytePosition + 1;
            }
            return CharColumn(utf8, line - 1, Math.Min(utf8.Length, _starts[line - 1] + bytePosition));
        }

        public bool IsAtEnd(ReadOnlySpan<byte> utf8, int line, int bytePosition)
        {
            if (line < 1 || line > _starts.Count)
            {
                return true;
            }
            var offset = Math.Min(utf8.Length, _starts[line - 1] + bytePosition);
            return utf8[offset..].Trim(" \t\r\n"u8).IsEmpty;
        }

        private int CharColumn(ReadOnlySpan<byte> utf8, int line, int offset)
        {
            var lineStart = _starts[line];
            offset = Math.Max(lineStart, offset);
            int chars;
            if (line == _cachedLine && offset >= _cachedOffset)
            {
                chars = _cachedChars + Encoding.UTF8.GetCharCount(utf8[_cachedOffset..offset]);
            }
            else
            {
                chars = Encoding.UTF8.GetCharCount(utf8[lineStart..offset]);
            }
            (_cachedLine, _cachedOffset, _cachedChars) = (line, offset, chars);
            return chars + 1;
        }
    }
}
