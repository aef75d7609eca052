namespace Firmware.Protocol.Mppe;

/// <summary>The MPPE session key strengths CCP can negotiate (RFC 3078 section 2, option 18 bits L, M, S).</summary>
public enum MppeKeyStrength
{
    /// <summary>40-bit: an 8-byte RC4 key whose first three bytes are D1 26 9E.</summary>
    Bits40 = 40,
    /// <summary>56-bit: an 8-byte RC4 key whose first byte is D1.</summary>
    Bits56 = 56,
    /// <summary>128-bit: a 16-byte RC4 key.</summary>
    Bits128 = 128,
}

/// <summary>Which hash RFC 3079 MS-CHAP (version 1) 40- and 56-bit keys start from.</summary>
public enum MsChapV1KeySource
{
    /// <summary>
    /// What Linux pppd and the kernel's ppp_mppe do for every key length: the first bytes of
    /// SHA1(PasswordHashHash | PasswordHashHash | Challenge) (RFC 3079 section 2.4's 128-bit start key).
    /// The default, because interoperating with Linux peers matters most.
    /// </summary>
    NtPasswordHashHash,

    /// <summary>
    /// RFC 3079 section 2.1/2.2 (Windows): the first 8 bytes of the LAN Manager password hash. Needs the
    /// plaintext password (see <see cref="Auth.MppeKeyMaterial.LmPasswordHash"/>); 128-bit keys always
    /// use the NT hash.
    /// </summary>
    LmPasswordHash,
}

internal static class MppeKeyStrengthExtensions
{
    /// <summary>RC4 key length in bytes.</summary>
    public static int KeyLength(this MppeKeyStrength strength) => strength switch
    {
        MppeKeyStrength.Bits40 or MppeKeyStrength.Bits56 => 8,
        MppeKeyStrength.Bits128 => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(strength), strength, "Unknown MPPE key strength."),
    };
}
