using System.Security.Cryptography;
using Firmware.Protocol.Auth;
using Org.BouncyCastle.Crypto.Digests;

namespace Firmware.Protocol.Mppe;

/// <summary>The two 16-byte start keys ("master keys") of one end of an MPPE link.</summary>
/// <param name="Send">Start key for what this end encrypts.</param>
/// <param name="Receive">Start key for what this end decrypts.</param>
public sealed record MppeStartKeys(byte[] Send, byte[] Receive);

/// <summary>
/// RFC 3079 key derivation and the RFC 3078 key change, named after RFC 3079's pseudo-code. SHA-1 comes
/// from BouncyCastle (no OpenSSL dependency); the functions that run per packet take spans and allocate
/// nothing.
/// </summary>
public static class MppeKeyDerivation
{
    /// <summary>RFC 3079 section 3.4 Magic1.</summary>
    private static ReadOnlySpan<byte> MasterKeyMagic => "This is the MPPE Master Key"u8;

    /// <summary>RFC 3079 Magic2: the client's send key, the server's receive key.</summary>
    private static ReadOnlySpan<byte> ClientSendMagic => "On the client side, this is the send key; on the server side, it is the receive key."u8;

    /// <summary>RFC 3079 Magic3: the client's receive key, the server's send key.</summary>
    private static ReadOnlySpan<byte> ClientReceiveMagic => "On the client side, this is the receive key; on the server side, it is the send key."u8;

    private const int ShsPadLength = 40;
    private const byte ShsPad2Byte = 0xF2;

    /// <summary>RFC 3079 section 3.4 GetMasterKey: SHA1(PasswordHashHash | NTResponse | Magic1), 16 bytes.</summary>
    public static void GetMasterKey(ReadOnlySpan<byte> passwordHashHash, ReadOnlySpan<byte> ntResponse, Span<byte> masterKey)
    {
        var sha = new Sha1Digest();
        sha.BlockUpdate(passwordHashHash[..16]);
        sha.BlockUpdate(ntResponse[..24]);
        sha.BlockUpdate(MasterKeyMagic);
        Span<byte> digest = stackalloc byte[20];
        sha.DoFinal(digest);
        digest[..16].CopyTo(masterKey);
    }

    /// <summary>
    /// RFC 3079 section 3.4 GetAsymmetricStartKey: SHA1(MasterKey | pad1 | magic | pad2), where the magic
    /// is chosen by direction and side. <paramref name="startKey"/>'s length (8 or 16) is the key length.
    /// </summary>
    public static void GetAsymmetricStartKey(ReadOnlySpan<byte> masterKey, Span<byte> startKey, bool isSend, bool isServer)
    {
        var magic = isSend == isServer ? ClientReceiveMagic : ClientSendMagic;
        Span<byte> pad = stackalloc byte[ShsPadLength];
        var sha = new Sha1Digest();
        sha.BlockUpdate(masterKey[..16]);
        pad.Clear();
        sha.BlockUpdate(pad);
        sha.BlockUpdate(magic);
        pad.Fill(ShsPad2Byte);
        sha.BlockUpdate(pad);
        Span<byte> digest = stackalloc byte[20];
        sha.DoFinal(digest);
        digest[..startKey.Length].CopyTo(startKey);
    }

    /// <summary>
    /// RFC 3079 section 2.4 GetStartKey (MS-CHAP, 128-bit): SHA1(PasswordHashHash | PasswordHashHash |
    /// Challenge), first 16 bytes; the same key both ways. Linux pppd uses its first 8 bytes for 40-bit too.
    /// </summary>
    public static void GetMsChapV1StartKey(ReadOnlySpan<byte> passwordHashHash, ReadOnlySpan<byte> challenge, Span<byte> startKey)
    {
        var sha = new Sha1Digest();
        sha.BlockUpdate(passwordHashHash[..16]);
        sha.BlockUpdate(passwordHashHash[..16]);
        sha.BlockUpdate(challenge[..8]);
        Span<byte> digest = stackalloc byte[20];
        sha.DoFinal(digest);
        digest[..startKey.Length].CopyTo(startKey);
    }

    /// <summary>
    /// RFC 3079 GetNewKeyFromSHA: SHA1(StartKey | pad1 | SessionKey | pad2), truncated to the key length
    /// (<paramref name="interimKey"/>'s length, equal to both inputs' lengths).
    /// </summary>
    public static void GetNewKeyFromSha(ReadOnlySpan<byte> startKey, ReadOnlySpan<byte> sessionKey, Span<byte> interimKey)
    {
        GetNewKeyFromSha(new Sha1Digest(), startKey, sessionKey, interimKey);
    }

    internal static void GetNewKeyFromSha(Sha1Digest sha, ReadOnlySpan<byte> startKey, ReadOnlySpan<byte> sessionKey, Span<byte> interimKey)
    {
        var length = interimKey.Length;
        Span<byte> pad = stackalloc byte[ShsPadLength];
        sha.Reset();
        sha.BlockUpdate(startKey[..length]);
        pad.Clear();
        sha.BlockUpdate(pad);
        sha.BlockUpdate(sessionKey[..length]);
        pad.Fill(ShsPad2Byte);
        sha.BlockUpdate(pad);
        Span<byte> digest = stackalloc byte[20];
        sha.DoFinal(digest);
        digest[..length].CopyTo(interimKey);
    }

    /// <summary>
    /// Reduces an 8-byte key to its effective strength (RFC 3078 section 7.3, RFC 3079): 40-bit keys
    /// start D1 26 9E, 56-bit keys start D1; 128-bit keys are unchanged.
    /// </summary>
    public static void ReduceKeyStrength(Span<byte> key, MppeKeyStrength strength)
    {
        switch (strength)
        {
            case MppeKeyStrength.Bits40:
                key[0] = 0xD1;
                key[1] = 0x26;
                key[2] = 0x9E;
                break;
            case MppeKeyStrength.Bits56:
                key[0] = 0xD1;
                break;
            case MppeKeyStrength.Bits128:
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(strength), strength, "Unknown MPPE key strength.");
        }
    }

    /// <summary>
    /// The initial session key (RFC 3079): GetNewKeyFromSHA(StartKey, StartKey) reduced to the strength;
    /// no RC4 step (Linux ppp_mppe's "initial key" rekey does the same).
    /// </summary>
    public static void GetInitialSessionKey(ReadOnlySpan<byte> startKey, MppeKeyStrength strength, Span<byte> sessionKey)
    {
        var length = strength.KeyLength();
        GetNewKeyFromSha(startKey[..length], startKey[..length], sessionKey[..length]);
        ReduceKeyStrength(sessionKey, strength);
    }

    /// <summary>
    /// RFC 3078 section 7.3 key change: InterimKey = GetNewKeyFromSHA(StartKey, SessionKey); the new
    /// session key is InterimKey RC4-encrypted under itself, then reduced to the strength.
    /// </summary>
    public static void GetNextSessionKey(ReadOnlySpan<byte> startKey, ReadOnlySpan<byte> sessionKey, MppeKeyStrength strength, Span<byte> nextSessionKey)
    {
        GetNextSessionKey(new Sha1Digest(), startKey, sessionKey, strength, nextSessionKey);
    }

    internal static void GetNextSessionKey(Sha1Digest sha, ReadOnlySpan<byte> startKey, ReadOnlySpan<byte> sessionKey, MppeKeyStrength strength, Span<byte> nextSessionKey)
    {
        var length = strength.KeyLength();
        var next = nextSessionKey[..length];
        GetNewKeyFromSha(sha, startKey, sessionKey, next);
        var rc4 = default(Rc4);
        rc4.Init(next);
        rc4.Transform(next);
        rc4.Clear();
        ReduceKeyStrength(next, strength);
    }

    /// <summary>
    /// The send and receive start keys for one end of the link after a successful MS-CHAP exchange.
    /// <paramref name="isAuthenticator"/> is RFC 3079's "IsServer": the side that authenticated the other
    /// (in PPTP the PAC/server). MS-CHAPv2 keys differ per direction; MS-CHAP keys are the same both ways.
    /// Each key is 16 bytes; the cipher uses the first 8 for 40/56-bit, as Linux does.
    /// </summary>
    public static MppeStartKeys DeriveStartKeys(MppeKeyMaterial material, bool isAuthenticator, MppeKeyStrength strength, MsChapV1KeySource v1Source = MsChapV1KeySource.NtPasswordHashHash)
    {
        ArgumentNullException.ThrowIfNull(material);
        _ = strength.KeyLength();
        if (material.SuppliedStartKeys is { } supplied)
        {
            if (!isAuthenticator)
            {
                throw new ArgumentException("Start keys from RADIUS are the authenticator's.", nameof(material));
            }
            return new MppeStartKeys((byte[])supplied.Send.Clone(), (byte[])supplied.Receive.Clone());
        }
        return material.Method switch
        {
            AuthMethod.MsChapV2 => MsChapV2StartKeys(material, isAuthenticator),
            AuthMethod.MsChapV1 => MsChapV1StartKeys(material, strength, v1Source),
            _ => throw new ArgumentException($"MPPE keys come from MS-CHAP or MS-CHAPv2, not {material.Method}.", nameof(material)),
        };
    }

    private static MppeStartKeys MsChapV2StartKeys(MppeKeyMaterial material, bool isAuthenticator)
    {
        Span<byte> masterKey = stackalloc byte[16];
        GetMasterKey(material.NtPasswordHashHash, material.NtResponse, masterKey);
        var send = new byte[16];
        var receive = new byte[16];
        GetAsymmetricStartKey(masterKey, send, isSend: true, isServer: isAuthenticator);
        GetAsymmetricStartKey(masterKey, receive, isSend: false, isServer: isAuthenticator);
        CryptographicOperations.ZeroMemory(masterKey);
        return new MppeStartKeys(send, receive);
    }

    private static MppeStartKeys MsChapV1StartKeys(MppeKeyMaterial material, MppeKeyStrength strength, MsChapV1KeySource v1Source)
    {
        var key = new byte[16];
        if (strength != MppeKeyStrength.Bits128 && v1Source == MsChapV1KeySource.LmPasswordHash)
        {
            if (material.LmPasswordHash is not { Length: 16 } lm)
            {
                throw new InvalidOperationException(
                    "RFC 3079 LM-derived MS-CHAP keys need the LM password hash, which exists only when the plaintext password is known.");
            }
            lm.AsSpan(0, 8).CopyTo(key);
        }
        else
        {
            GetMsChapV1StartKey(material.NtPasswordHashHash, material.Challenge, key);
        }
        return new MppeStartKeys(key, (byte[])key.Clone());
    }
}
