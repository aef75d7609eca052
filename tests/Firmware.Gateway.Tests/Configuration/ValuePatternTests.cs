using System.Text.RegularExpressions;
using Firmware.Gateway.Configuration;

namespace Firmware.Gateway.Tests.Configuration;

/// <summary>
/// The key table's patterns, matched without a regular-expression engine, against .NET's Regex (with '$' read
/// as the very end, as JSON Schema means it) on many random values.
/// </summary>
public sealed class ValuePatternTests
{
    public static TheoryData<string> TablePatterns()
    {
        var data = new TheoryData<string>();
        foreach (var pattern in ConfigKeys.All.Select(k => k.Pattern).OfType<string>().Distinct())
        {
            data.Add(pattern);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(TablePatterns))]
    public void Every_table_pattern_matches_what_regex_matches(string pattern)
    {
        var ours = ValuePattern.Parse(pattern);
        var regex = new Regex(pattern.Replace("$", "\\z", StringComparison.Ordinal), RegexOptions.CultureInvariant);
        // Values drawn mostly from the characters the pattern's own set takes (asked of Regex), of lengths
        // around its repeat count, so matches and near misses both turn up.
        var set = pattern[1..(pattern.IndexOf(']', StringComparison.Ordinal) + 1)];
        var inSet = Enumerable.Range(' ', '~' - ' ' + 1).Select(c => (char)c)
            .Where(c => Regex.IsMatch(c.ToString(), "^" + set + "\\z", RegexOptions.CultureInvariant)).ToArray();
        const string Outsiders = " \n\u00e9$^[]/{}";
        var random = new Random(pattern.Length);
        var matched = 0;
        for (var n = 0; n < 20_000; n++)
        {
            var length = random.Next(0, ours.MaxLength + 3);
            var chars = new char[length];
            for (var i = 0; i < length; i++)
            {
                chars[i] = random.Next(50) == 0 ? Outsiders[random.Next(Outsiders.Length)]
                    : random.Next(10) == 0 ? (char)random.Next(' ', '~' + 1)
                    : inSet[random.Next(inSet.Length)];
            }
            var value = new string(chars);
            var expected = regex.IsMatch(value);
            Assert.True(expected == ours.IsMatch(value), $"'{Regex.Escape(value)}': regex {expected}, ours {!expected}");
            matched += expected ? 1 : 0;
        }
        Assert.True(matched > 0, "no random value matched: the comparison proved nothing");
    }

    [Fact]
    public void The_nt_hash_pattern_takes_exactly_32_hex_digits()
    {
        var hash = ValuePattern.Parse("^[0-9A-Fa-f]{32}$");
        Assert.True(hash.IsMatch("8846F7EAEE8FB117AD06BDD830B7586C"));
        Assert.True(hash.IsMatch("8846f7eaee8fb117ad06bdd830b7586c"));
        Assert.False(hash.IsMatch("8846F7EAEE8FB117AD06BDD830B7586"));
        Assert.False(hash.IsMatch("8846F7EAEE8FB117AD06BDD830B7586C0"));
        Assert.False(hash.IsMatch("8846F7EAEE8FB117AD06BDD830B7586G"));
        Assert.False(hash.IsMatch("8846F7EAEE8FB117AD06BDD830B7586\n"));
    }

    [Theory]
    [InlineData("[a-z]{1,3}")]
    [InlineData("^[a-z]{1,3}")]
    [InlineData("^[a-z]+$")]
    [InlineData("^[a-z]{3,1}$")]
    [InlineData("^[a-z]{0}$")]
    [InlineData("^[z-a]{1,3}$")]
    [InlineData("^[^a-z]{1,3}$")]
    [InlineData("^[\\d]{1,3}$")]
    [InlineData("^[]{1,3}$")]
    [InlineData("^[a-z]{1,x}$")]
    [InlineData("^(ab|cd)$")]
    public void A_pattern_of_another_shape_is_refused(string pattern) =>
        Assert.Throws<ArgumentException>(() => ValuePattern.Parse(pattern));

    [Fact]
    public void A_dash_first_or_last_in_the_set_is_itself()
    {
        Assert.True(ValuePattern.Parse("^[-a]{1,2}$").IsMatch("-a"));
        Assert.True(ValuePattern.Parse("^[a-]{1,2}$").IsMatch("a-"));
        Assert.False(ValuePattern.Parse("^[a-]{1,2}$").IsMatch("b"));
    }
}
