using System.Globalization;
using System.Text;

namespace Firmware.Gateway.Configuration;

/// <summary>
/// Binds a <see cref="ConfigNode"/> tree into <see cref="GatewayConfig"/> by hand (AOT-safe, and every
/// problem gets its path and line). Keys, defaults and limits come from <see cref="ConfigKeys"/>. A value
/// in error falls back to its default so binding goes on and every error is reported at once; the caller
/// rejects the result when any error was found.
/// </summary>
internal sealed partial class ConfigBinder
{
    private readonly List<ConfigDiagnostic> _diagnostics;
    private readonly ISet<string>? _patternsRead;
    private readonly ILocalNetworkProvider _networks;

    private ConfigBinder(List<ConfigDiagnostic> diagnostics, ILocalNetworkProvider networks, ISet<string>? patternsRead)
    {
        _diagnostics = diagnostics;
        _networks = networks;
        _patternsRead = patternsRead;
    }

    /// <summary>A place in the tree: the node (null when the file leaves it out), its path and its key pattern.</summary>
    private readonly record struct Scope(ConfigNode? Node, string Path, string Pattern, int Line, int Column);

    /// <summary>
    /// Binds and validates. Returns the configuration even when errors were found (with defaults in their
    /// places), so callers decide by looking for errors; <paramref name="patternsRead"/> collects every
    /// table key the binder asked for (the schema test uses it).
    /// </summary>
    public static GatewayConfig Bind(
        ConfigNode root, ILocalNetworkProvider networks, List<ConfigDiagnostic> diagnostics, ISet<string>? patternsRead = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(networks);
        ArgumentNullException.ThrowIfNull(diagnostics);
        return new ConfigBinder(diagnostics, networks, patternsRead).BindRoot(root);
    }

    // ---- Reporting ----

    private void Error(string path, int line, int column, string message) =>
        _diagnostics.Add(new(ConfigSeverity.Error, path, line, column, message));

    private void Warning(string path, int line, int column, string message) =>
        _diagnostics.Add(new(ConfigSeverity.Warning, path, line, column, message));

    private void Error(ConfigNode node, string message) => Error(node.Path, node.Line, node.Column, message);

    private void Warning(ConfigNode node, string message) => Warning(node.Path, node.Line, node.Column, message);

    private void Error(Scope scope, string message) => Error(scope.Path, scope.Line, scope.Column, message);

    private void Warning(Scope scope, string message) => Warning(scope.Path, scope.Line, scope.Column, message);

    // ---- Typed access, all through the key table ----

    private ConfigKey Key(Scope parent, string name)
    {
        var pattern = ConfigNode.ChildPath(parent.Pattern, name);
        var key = ConfigKeys.Get(pattern);
        _patternsRead?.Add(pattern);
        return key;
    }

    /// <summary>The node for a key, or null when absent or JSON null (both mean "use the default").</summary>
    private static ConfigNode? Present(Scope parent, string name)
    {
        var node = parent.Node?[name];
        return node is null || node.Kind == ConfigNodeKind.Null ? null : node;
    }

    private Scope Section(Scope parent, string name)
    {
        var key = Key(parent, name);
        var path = ConfigNode.ChildPath(parent.Path, name);
        var node = Present(parent, name);
        if (node is not null && node.Kind != ConfigNodeKind.Object)
        {
            TypeError(node, key, "an object { }");
            node = null;
        }
        return node is null
            ? new Scope(null, path, key.Path, parent.Line, parent.Column)
            : new Scope(node, path, key.Path, node.Line, node.Column);
    }

    private List<Scope> ObjectList(Scope parent, string name)
    {
        var key = Key(parent, name);
        var node = Present(parent, name);
        var result = new List<Scope>();
        if (node is null)
        {
            return result;
        }
        if (node.Kind != ConfigNodeKind.Array)
        {
            TypeError(node, key, "a list [ { ... } ]");
            return result;
        }
        foreach (var item in node.Items)
        {
            if (item.Kind != ConfigNodeKind.Object)
            {
                Error(item, $"expected an object {{ ... }}, got {item.KindDescription}");
                continue;
            }
            result.Add(new Scope(item, item.Path, key.Path + "[]", item.Line, item.Column));
        }
        return result;
    }

    /// <summary>A string, or the table default (possibly null). Checks allowed values and the pattern.</summary>
    private string? String(Scope parent, string name) => StringWithNode(parent, name).Value;

    private (string? Value, ConfigNode? Node) StringWithNode(Scope parent, string name)
    {
        var key = Key(parent, name);
        var node = Present(parent, name);
        if (node is null)
        {
            if (key.Required)
            {
                Error(ConfigNode.ChildPath(parent.Path, name), parent.Line, parent.Column, "missing");
            }
            return ((string?)key.Default, null);
        }
        if (node.Kind != ConfigNodeKind.String)
        {
            TypeError(node, key, "a string");
            return ((string?)key.Default, null);
        }

        var value = node.Text!;
        if (TextProblem(value, key) is { } problem)
        {
            Error(node, problem);
            return ((string?)key.Default, null);
        }
        if (key.Allowed is not null && !key.Allowed.Contains(value, StringComparer.Ordinal))
        {
            Error(node, $"'{value}' is not one of {string.Join(", ", key.Allowed)}{Suggest(value, key.Allowed)}");
            return ((string?)key.Default, null);
        }
        if (key.Pattern is not null && value.Length > 0 && !MatchesPattern(value, key.Pattern))
        {
            var hint = key.PatternHint ?? $"must match {key.Pattern}";
            Error(node, key.Secret ? hint : $"'{value}' {hint}");
            return ((string?)key.Default, null);
        }
        return (value, node);
    }

    /// <summary>
    /// The limits every string obeys before anything else looks at it: its length in characters (and in UTF-8
    /// bytes for names that go on the wire), and no control characters outside secrets (a name with one
    /// could not be shown, and would collide with another once shown). Messages never quote the value.
    /// </summary>
    private static string? TextProblem(string value, ConfigKey key)
    {
        // A UTF-8 byte limit goes first: it is the stricter one (a character is at least one byte).
        if (key.MaxUtf8Bytes is { } maxBytes && Encoding.UTF8.GetByteCount(value) is var bytes && bytes > maxBytes)
        {
            return $"too long: at most {maxBytes} bytes in UTF-8, the file has {bytes}";
        }
        if (value.Length > key.MaxLength)
        {
            return $"too long: at most {key.MaxLength} characters, the file has {value.Length}";
        }
        if (!key.Secret)
        {
            for (var i = 0; i < value.Length; i++)
            {
                if (char.IsControl(value[i]))
                {
                    return $"contains a control character (U+{(int)value[i]:X4}) at character {i + 1}; names and paths may hold printable characters only";
                }
            }
        }
        return null;
    }

    /// <summary>Matches a table pattern (see <see cref="ValuePattern"/>) against a whole value.</summary>
    internal static bool MatchesPattern(string value, string pattern) => ValuePattern.Parse(pattern).IsMatch(value);

    private bool Bool(Scope parent, string name)
    {
        var key = Key(parent, name);
        var node = Present(parent, name);
        if (node is null)
        {
            return (bool)key.Default!;
        }
        if (node.Kind != ConfigNodeKind.Boolean)
        {
            TypeError(node, key, "true or false");
            return (bool)key.Default!;
        }
        return node.Text == "true";
    }

    private int Int(Scope parent, string name) => OptionalInt(parent, name) ?? (int)Key(parent, name).Default!;

    private int? OptionalInt(Scope parent, string name) => OptionalIntWithNode(parent, name).Value;

    private (int? Value, ConfigNode? Node) OptionalIntWithNode(Scope parent, string name)
    {
        var key = Key(parent, name);
        var node = Present(parent, name);
        if (node is null)
        {
            return (null, null);
        }
        var value = WholeNumber(node, key);
        return value is null ? (null, null) : (value, node);
    }

    private int? WholeNumber(ConfigNode node, ConfigKey key)
    {
        if (node.Kind != ConfigNodeKind.Number)
        {
            TypeError(node, key, "a number");
            return null;
        }
        if (!int.TryParse(node.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Error(node, double.TryParse(node.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                ? $"expected a whole number, got {node.Text}"
                : $"{node.Text} is out of range");
            return null;
        }
        return InRange(node, key, value) ? value : null;
    }

    private double Number(Scope parent, string name)
    {
        var key = Key(parent, name);
        var node = Present(parent, name);
        if (node is null)
        {
            return (double)key.Default!;
        }
        if (node.Kind != ConfigNodeKind.Number)
        {
            TypeError(node, key, "a number");
            return (double)key.Default!;
        }
        if (!double.TryParse(node.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            Error(node, $"{node.Text} is out of range");
            return (double)key.Default!;
        }
        return InRange(node, key, value) ? value : (double)key.Default!;
    }

    private bool InRange(ConfigNode node, ConfigKey key, double value)
    {
        if ((key.Minimum is { } min && value < min) || (key.Maximum is { } max && value > max))
        {
            Error(node, $"{node.Text} is outside {key.Minimum?.ToString(CultureInfo.InvariantCulture) ?? "-∞"}..{key.Maximum?.ToString(CultureInfo.InvariantCulture) ?? "∞"}");
            return false;
        }
        return true;
    }

    /// <summary>Items of a string list with their nodes; null when absent (the caller applies the default).</summary>
    private List<(string Value, ConfigNode Node)>? StringList(Scope parent, string name)
    {
        var key = Key(parent, name);
        var node = Present(parent, name);
        if (node is null)
        {
            return null;
        }
        if (node.Kind != ConfigNodeKind.Array)
        {
            TypeError(node, key, "a list [ \"...\" ]");
            return null;
        }
        var result = new List<(string, ConfigNode)>();
        foreach (var item in node.Items)
        {
            if (item.Kind != ConfigNodeKind.String)
            {
                Error(item, $"expected a string, got {item.KindDescription}");
            }
            else if (TextProblem(item.Text!, key) is { } problem)
            {
                Error(item, problem);
            }
            else if (key.Allowed is not null && !key.Allowed.Contains(item.Text!, StringComparer.Ordinal))
            {
                Error(item, $"'{item.Text}' is not one of {string.Join(", ", key.Allowed)}{Suggest(item.Text!, key.Allowed)}");
            }
            else
            {
                result.Add((item.Text!, item));
            }
        }
        return result;
    }

    private List<(int Value, ConfigNode Node)>? IntList(Scope parent, string name)
    {
        var key = Key(parent, name);
        var node = Present(parent, name);
        if (node is null)
        {
            return null;
        }
        if (node.Kind != ConfigNodeKind.Array)
        {
            TypeError(node, key, "a list [ 128 ]");
            return null;
        }
        var result = new List<(int, ConfigNode)>();
        foreach (var item in node.Items)
        {
            if (item.Kind != ConfigNodeKind.Number || !int.TryParse(item.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                Error(item, $"expected a whole number, got {(item.Kind == ConfigNodeKind.Number ? item.Text : item.KindDescription)}");
            }
            else if (key.Allowed is not null && !key.Allowed.Contains(item.Text!, StringComparer.Ordinal))
            {
                Error(item, $"{item.Text} is not one of {string.Join(", ", key.Allowed)}");
            }
            else
            {
                result.Add((value, item));
            }
        }
        return result;
    }

    private void TypeError(ConfigNode node, ConfigKey key, string expected)
    {
        var got = node.KindDescription;
        if (node.Kind == ConfigNodeKind.String && !key.Secret)
        {
            got += $" (\"{Shown(node.Text!)}\")";
            var looksRight = (expected == "a number" && double.TryParse(node.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                || (expected == "true or false" && node.Text is "true" or "false");
            if (looksRight)
            {
                got += "; remove the quotes";
            }
        }
        Error(node, $"expected {expected}, got {got}");
    }

    /// <summary>A value as a message may quote it: short, and with control characters escaped.</summary>
    private static string Shown(string text)
    {
        var builder = new StringBuilder();
        foreach (var c in text.Length > 64 ? text[..60] : text)
        {
            if (char.IsControl(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                builder.Append(c);
            }
        }
        return text.Length > 64 ? builder.Append("...").ToString() : builder.ToString();
    }

    /// <summary>"; did you mean 'x'?" for the closest allowed word within a small edit distance, else "".</summary>
    internal static string Suggest(string value, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(candidates);
        if (value.Length > 64)
        {
            // No allowed word is that long, and the distance costs the product of the lengths.
            return "";
        }
        string? best = null;
        var bestDistance = int.MaxValue;
        var upper = value.ToUpperInvariant();
        foreach (var candidate in candidates)
        {
            var distance = EditDistance(upper, candidate.ToUpperInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        var allowed = Math.Max(1, Math.Min(3, value.Length / 3));
        return best is not null && bestDistance <= allowed ? $"; did you mean '{best}'?" : "";
    }

    /// <summary>Levenshtein distance with adjacent transpositions counted as one edit.</summary>
    internal static int EditDistance(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
