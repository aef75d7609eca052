using System.Text.Json;

namespace Firmware.Gateway.Configuration;

/// <summary>A problem found in a configuration file, with where it sits.</summary>
internal sealed record ConfigDiagnostic(string File, long Line, long Column, string Message)
{
    public override string ToString() => $"{File}:{Line}:{Column}: {Message}";
}

/// <summary>
/// Reads JSON the way PC editors write it (BOM, CRLF, comments, trailing commas) and reports a syntax error
/// with its 1-based line and column.
/// </summary>
internal static class JsonSyntaxCheck
{
    public static readonly JsonDocumentOptions TolerantOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 32,
    };

    public static JsonDocument? TryParse(string file, ReadOnlyMemory<byte> utf8, out ConfigDiagnostic? error)
    {
        var span = utf8;
        ReadOnlySpan<byte> bom = [0xEF, 0xBB, 0xBF];
        if (span.Span.StartsWith(bom))
        {
            span = span[bom.Length..];
        }

        try
        {
            error = null;
            return JsonDocument.Parse(span, TolerantOptions);
        }
        catch (JsonException e)
        {
            // JsonException numbers lines and bytes from zero.
            var line = (e.LineNumber ?? 0) + 1;
            var column = (e.BytePositionInLine ?? 0) + 1;
            error = new ConfigDiagnostic(file, line, column, SyntaxMessage(e.Message));
            return null;
        }
    }

    /// <summary>Drops System.Text.Json's own position suffix, since we print ours in front.</summary>
    private static string SyntaxMessage(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }
        return "syntax error: " + (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}
