namespace Firmware.Gateway.Configuration;

/// <summary>
/// The one shape of pattern the key table uses, <c>^[set]{min,max}$</c> (or <c>{count}</c>): a value of that
/// many characters, each in the bracketed set of single characters and ranges such as <c>A-Z</c>. The same
/// string goes into the JSON Schema as the key's "pattern", where it means the same.
/// </summary>
/// <remarks>
/// Matched here instead of with System.Text.RegularExpressions: the engine was about 0.7 MB of the 7 MB
/// binary for three patterns of this shape, and the binary's pages are most of what the gateway holds in
/// memory when idle. A pattern of any other shape is refused when it is parsed (a test parses the whole table).
/// </remarks>
internal sealed class ValuePattern
{
    private readonly (char First, char Last)[] _ranges;

    private ValuePattern((char First, char Last)[] ranges, int minLength, int maxLength)
    {
        _ranges = ranges;
        MinLength = minLength;
        MaxLength = maxLength;
    }

    public int MinLength { get; }

    public int MaxLength { get; }

    /// <summary>Reads <c>^[set]{min,max}$</c>; anything else is an <see cref="ArgumentException"/>.</summary>
    public static ValuePattern Parse(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var close = pattern.IndexOf(']', StringComparison.Ordinal);
        if (!pattern.StartsWith("^[", StringComparison.Ordinal) || close < 3 || !pattern.EndsWith("}$", StringComparison.Ordinal)
            || close + 1 >= pattern.Length || pattern[close + 1] != '{')
        {
            throw new ArgumentException($"'{pattern}' is not of the form ^[set]{{min,max}}$.", nameof(pattern));
        }

        var set = pattern.AsSpan(2, close - 2);
        var ranges = new List<(char, char)>();
        for (var i = 0; i < set.Length; i++)
        {
            if (set[i] is '\\' or '[' or '^')
            {
                throw new ArgumentException($"'{pattern}': escapes, nested sets and negation are not supported.", nameof(pattern));
            }
            // A '-' between two characters makes a range; first or last in the set it is itself.
            if (i + 2 < set.Length && set[i + 1] == '-')
            {
                if (set[i + 2] < set[i])
                {
                    throw new ArgumentException($"'{pattern}': the range {set[i]}-{set[i + 2]} is backwards.", nameof(pattern));
                }
                ranges.Add((set[i], set[i + 2]));
                i += 2;
            }
            else
            {
                ranges.Add((set[i], set[i]));
            }
        }

        var counts = pattern.AsSpan(close + 2, pattern.Length - close - 4);
        var comma = counts.IndexOf(',');
        if (!TryCount(comma < 0 ? counts : counts[..comma], out var min)
            || !TryCount(comma < 0 ? counts : counts[(comma + 1)..], out var max) || max < min || max == 0)
        {
            throw new ArgumentException($"'{pattern}': the repeat count is not {{n}} or {{min,max}} with min <= max.", nameof(pattern));
        }
        return new ValuePattern([.. ranges], min, max);
    }

    /// <summary>Whether the whole of <paramref name="value"/> matches.</summary>
    public bool IsMatch(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length < MinLength || value.Length > MaxLength)
        {
            return false;
        }
        foreach (var c in value)
        {
            if (!InSet(c))
            {
                return false;
            }
        }
        return true;
    }

    private bool InSet(char c)
    {
        foreach (var (first, last) in _ranges)
        {
            if (c >= first && c <= last)
            {
                return true;
            }
        }
        return false;
    }

    private static bool TryCount(ReadOnlySpan<char> digits, out int count)
    {
        count = 0;
        if (digits.IsEmpty || digits.Length > 4)
        {
            return false;
        }
        foreach (var c in digits)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
            count = (count * 10) + (c - '0');
        }
        return true;
    }
}
