using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Firmware.Protocol.Auth;

/// <summary>
/// The hash and DES constructions of CHAP-MD5 (RFC 1994), MS-CHAP (RFC 2433) and MS-CHAPv2 (RFC 2759),
/// named after the RFCs' pseudo-code. MD4, MD5, SHA-1 and DES come from BouncyCastle so the protocol core
/// does not depend on the platform's OpenSSL.
/// </summary>
public static class MsChapCrypto
{
    /// <summary>Bytes in an NT password hash (MD4).</summary>
    public const int PasswordHashLength = 16;

    /// <summary>Bytes in an LM or NT challenge response.</summary>
    public const int ChallengeResponseLength = 24;

    /// <summary>RFC 2759: passwords are 0 to 256 Unicode characters.</summary>
    public const int MaxPasswordLength = 256;

    private static ReadOnlySpan<byte> AuthMagic1 => "Magic server to client signing constant"u8;
    private static ReadOnlySpan<byte> AuthMagic2 => "Pad to make it do more than one iteration"u8;
    private static ReadOnlySpan<byte> LmMagic => "KGS!@#$%"u8;

    /// <summary>RFC 2759 NtPasswordHash: MD4 of the UTF-16LE password.</summary>
    public static void NtPasswordHash(ReadOnlySpan<char> password, Span<byte> passwordHash)
    {
        if (password.Length > MaxPasswordLength)
        {
            throw new ArgumentOutOfRangeException(nameof(password), "MS-CHAP passwords are at most 256 characters.");
        }

        Span<byte> unicode = stackalloc byte[MaxPasswordLength * 2];
        var length = Encoding.Unicode.GetBytes(password, unicode);
        var md4 = new MD4Digest();
        md4.BlockUpdate(unicode[..length]);
        md4.DoFinal(passwordHash);
        CryptographicOperations.ZeroMemory(unicode);
    }

    /// <summary>RFC 2759 NtPasswordHash as a new array.</summary>
    public static byte[] NtPasswordHash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var hash = new byte[PasswordHashLength];
        NtPasswordHash(password.AsSpan(), hash);
        return hash;
    }

    /// <summary>RFC 2759 HashNtPasswordHash: MD4 of the 16-byte password hash.</summary>
    public static void HashNtPasswordHash(ReadOnlySpan<byte> passwordHash, Span<byte> passwordHashHash)
    {
        var md4 = new MD4Digest();
        md4.BlockUpdate(passwordHash[..PasswordHashLength]);
        md4.DoFinal(passwordHashHash);
    }

    /// <summary>
    /// RFC 2433 LmPasswordHash: the LAN Manager hash of the upper-cased OEM password (at most 14 characters).
    /// Only used for RFC 3079's LM-derived 40/56-bit MS-CHAP keys; never accepted for authentication.
    /// </summary>
    public static void LmPasswordHash(ReadOnlySpan<char> password, Span<byte> passwordHash)
    {
        Span<byte> oem = stackalloc byte[14];
        oem.Clear();
        for (var i = 0; i < password.Length && i < 14; i++)
        {
            var c = char.ToUpperInvariant(password[i]);
            oem[i] = c < 0x80 ? (byte)c : (byte)'?';
        }

        DesEncrypt(LmMagic, oem[..7], passwordHash[..8]);
        DesEncrypt(LmMagic, oem[7..14], passwordHash[8..16]);
        CryptographicOperations.ZeroMemory(oem);
    }

    /// <summary>
    /// RFC 2759 ChallengeResponse: the 8-byte challenge DES-encrypted under the three 7-byte thirds of the
    /// zero-padded 21-byte password hash.
    /// </summary>
    public static void ChallengeResponse(ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> passwordHash, Span<byte> response)
    {
        Span<byte> zPasswordHash = stackalloc byte[21];
        zPasswordHash.Clear();
        passwordHash[..PasswordHashLength].CopyTo(zPasswordHash);
        DesEncrypt(challenge[..8], zPasswordHash[..7], response[..8]);
        DesEncrypt(challenge[..8], zPasswordHash[7..14], response[8..16]);
        DesEncrypt(challenge[..8], zPasswordHash[14..21], response[16..24]);
        CryptographicOperations.ZeroMemory(zPasswordHash);
    }

    /// <summary>
    /// RFC 2759 ChallengeHash: the first 8 bytes of SHA1(PeerChallenge | AuthenticatorChallenge | UserName),
    /// where the user name has any "DOMAIN\" prefix removed.
    /// </summary>
    public static void ChallengeHash(ReadOnlySpan<byte> peerChallenge, ReadOnlySpan<byte> authenticatorChallenge, ReadOnlySpan<byte> userName, Span<byte> challenge)
    {
        var sha = new Sha1Digest();
        sha.BlockUpdate(peerChallenge[..16]);
        sha.BlockUpdate(authenticatorChallenge[..16]);
        sha.BlockUpdate(StripDomain(userName));
        Span<byte> digest = stackalloc byte[20];
        sha.DoFinal(digest);
        digest[..8].CopyTo(challenge);
    }

    /// <summary>RFC 2759 GenerateNTResponse.</summary>
    public static void GenerateNtResponse(ReadOnlySpan<byte> authenticatorChallenge, ReadOnlySpan<byte> peerChallenge, ReadOnlySpan<byte> userName, ReadOnlySpan<byte> passwordHash, Span<byte> response)
    {
        Span<byte> challenge = stackalloc byte[8];
        ChallengeHash(peerChallenge, authenticatorChallenge, userName, challenge);
        ChallengeResponse(challenge, passwordHash, response);
    }

    /// <summary>
    /// RFC 2759 GenerateAuthenticatorResponse: the 20-byte digest that the Success message carries as
    /// "S=" and 40 upper-case hex digits.
    /// </summary>
    public static void GenerateAuthenticatorResponse(ReadOnlySpan<byte> passwordHash, ReadOnlySpan<byte> ntResponse, ReadOnlySpan<byte> peerChallenge, ReadOnlySpan<byte> authenticatorChallenge, ReadOnlySpan<byte> userName, Span<byte> authenticatorResponse)
    {
        Span<byte> passwordHashHash = stackalloc byte[PasswordHashLength];
        HashNtPasswordHash(passwordHash, passwordHashHash);

        Span<byte> digest = stackalloc byte[20];
        var sha = new Sha1Digest();
        sha.BlockUpdate(passwordHashHash);
        sha.BlockUpdate(ntResponse[..ChallengeResponseLength]);
        sha.BlockUpdate(AuthMagic1);
        sha.DoFinal(digest);

        Span<byte> challenge = stackalloc byte[8];
        ChallengeHash(peerChallenge, authenticatorChallenge, userName, challenge);

        sha.Reset();
        sha.BlockUpdate(digest);
        sha.BlockUpdate(challenge);
        sha.BlockUpdate(AuthMagic2);
        sha.DoFinal(authenticatorResponse);
        CryptographicOperations.ZeroMemory(passwordHashHash);
    }

    /// <summary>The authenticator response as it appears in the Success message: "S=" and 40 hex digits.</summary>
    public static string FormatAuthenticatorResponse(ReadOnlySpan<byte> authenticatorResponse) =>
        "S=" + Convert.ToHexString(authenticatorResponse[..20]);

    /// <summary>RFC 1994: MD5(Identifier | secret | Challenge).</summary>
    public static void ChapMd5Response(byte identifier, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> challenge, Span<byte> response)
    {
        var md5 = new MD5Digest();
        md5.Update(identifier);
        md5.BlockUpdate(secret);
        md5.BlockUpdate(challenge);
        md5.DoFinal(response);
    }

    /// <summary>Equal-time comparison for responses and digests.</summary>
    public static bool FixedTimeEquals(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right) =>
        CryptographicOperations.FixedTimeEquals(left, right);

    /// <summary>The user name that enters the challenge hash: whatever follows the last backslash.</summary>
    public static ReadOnlySpan<byte> StripDomain(ReadOnlySpan<byte> userName)
    {
        var slash = userName.LastIndexOf((byte)'\\');
        return slash < 0 ? userName : userName[(slash + 1)..];
    }

    /// <summary>
    /// RFC 2759 DesEncrypt: one ECB block under a 7-byte key spread over 8 bytes (7 key bits per byte,
    /// the parity bit left clear; DES ignores it).
    /// </summary>
    public static void DesEncrypt(ReadOnlySpan<byte> clear, ReadOnlySpan<byte> key7, Span<byte> cipher)
    {
        var key = new byte[8];
        key[0] = (byte)(key7[0] & 0xFE);
        key[1] = (byte)(((key7[0] << 7) | (key7[1] >> 1)) & 0xFE);
        key[2] = (byte)(((key7[1] << 6) | (key7[2] >> 2)) & 0xFE);
        key[3] = (byte)(((key7[2] << 5) | (key7[3] >> 3)) & 0xFE);
        key[4] = (byte)(((key7[3] << 4) | (key7[4] >> 4)) & 0xFE);
        key[5] = (byte)(((key7[4] << 3) | (key7[5] >> 5)) & 0xFE);
        key[6] = (byte)(((key7[5] << 2) | (key7[6] >> 6)) & 0xFE);
        key[7] = (byte)((key7[6] << 1) & 0xFE);

        // A plain KeyParameter: DesParameters would refuse the (harmless here) weak keys a password hash
        // can produce, e.g. its all-zero padding third.
        var des = new DesEngine();
        des.Init(true, new KeyParameter(key));
        des.ProcessBlock(clear[..8], cipher[..8]);
        CryptographicOperations.ZeroMemory(key);
    }

    /// <summary>Parses an even number of hex digits into bytes; false on any other character or length.</summary>
    public static bool TryParseHex(ReadOnlySpan<byte> hex, Span<byte> bytes)
    {
        if (hex.Length != bytes.Length * 2)
        {
            return false;
        }

        for (var i = 0; i < bytes.Length; i++)
        {
            var high = HexValue(hex[2 * i]);
            var low = HexValue(hex[(2 * i) + 1]);
            if (high < 0 || low < 0)
            {
                return false;
            }
            bytes[i] = (byte)((high << 4) | low);
        }
        return true;
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };
}
