using System.Text;
using Firmware.Protocol.Mppe;

namespace Firmware.Protocol.Ccp;

/// <summary>
/// The CCP MPPE/MPPC option (type 18, length 6) of RFC 3078 section 2: a 32-bit big-endian field of bits.
/// </summary>
public static class MppeOptionBits
{
    /// <summary>The option's Type octet.</summary>
    public const byte OptionType = 18;

    /// <summary>The option's value length (the 32-bit field).</summary>
    public const int ValueLength = 4;

    /// <summary>C: MPPC compression. Never requested; Nak'd off.</summary>
    public const uint Mppc = 0x00000001;

    /// <summary>D: obsolete (early drafts' 40-bit); never set.</summary>
    public const uint Obsolete = 0x00000010;

    /// <summary>L: 40-bit keys.</summary>
    public const uint Bits40 = 0x00000020;

    /// <summary>S: 128-bit keys.</summary>
    public const uint Bits128 = 0x00000040;

    /// <summary>M: 56-bit keys.</summary>
    public const uint Bits56 = 0x00000080;

    /// <summary>H: stateless ("history-less") mode.</summary>
    public const uint Stateless = 0x01000000;

    /// <summary>All key-length bits.</summary>
    public const uint KeyBits = Bits40 | Bits56 | Bits128;

    /// <summary>The single strongest key-length bit in <paramref name="keyBits"/> (0 when none).</summary>
    public static uint Strongest(uint keyBits) =>
        (keyBits & Bits128) != 0 ? Bits128 : (keyBits & Bits56) != 0 ? Bits56 : keyBits & Bits40;

    /// <summary>The strength of a single key-length bit.</summary>
    public static MppeKeyStrength ToStrength(uint keyBit) => Strongest(keyBit) switch
    {
        Bits128 => MppeKeyStrength.Bits128,
        Bits56 => MppeKeyStrength.Bits56,
        Bits40 => MppeKeyStrength.Bits40,
        _ => throw new ArgumentOutOfRangeException(nameof(keyBit), keyBit, "No MPPE key-length bit set."),
    };

    /// <summary>"40-bit", "40/128-bit" …: the key lengths in <paramref name="keyBits"/>, for reasons.</summary>
    public static string DescribeKeys(uint keyBits)
    {
        var text = new StringBuilder();
        foreach (var (bit, name) in new[] { (Bits40, "40"), (Bits56, "56"), (Bits128, "128") })
        {
            if ((keyBits & bit) != 0)
            {
                text.Append(text.Length == 0 ? "" : "/").Append(name);
            }
        }

        return text.Length == 0 ? "no key length" : text.Append("-bit").ToString();
    }

    /// <summary>"MPPE-128 stateless": an agreed strength and mode, for status.</summary>
    public static string Describe(MppeKeyStrength strength, bool stateless) =>
        $"MPPE-{(int)strength} {(stateless ? "stateless" : "stateful")}";
}
