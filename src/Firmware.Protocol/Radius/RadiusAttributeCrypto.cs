using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;

namespace Firmware.Protocol.Radius;

/// <summary>Why an encrypted attribute could not be decrypted.</summary>
public enum RadiusCryptoError
{
    None,
    /// <summary>Not a whole number of 16-byte blocks, or empty, or too long.</summary>
    WrongLength,
    /// <summary>RFC 2548: the salt's most significant bit must be set.</summary>
    SaltHighBitClear,
    /// <summary>The decrypted key-length byte claims more bytes than the attribute holds.</summary>
    KeyLengthTooLarge,
    /// <summary>The caller's key buffer is shorter than the key.</summary>
    DestinationTooSmall,
}

/// <summary>
/// The MD5 stream constructions RADIUS hides secrets with: User-Password (RFC 2865 section 5.2) and
/// MS-MPPE-Send-Key/Recv-Key (RFC 2548 sections 2.4.2 and 2.4.3). Both XOR 16-byte blocks with
/// b(1) = MD5(Secret + RequestAuthenticator [+ Salt]) and b(i) = MD5(Secret + c(i-1)), c being the
/// ciphertext. Both directions are here so tests can round-trip and a test server can answer.
/// </summary>
public static class RadiusAttributeCrypto
{
    private const int Block = 16;

    /// <summary>RFC 2548: the salt (2), key length byte and key padded to 16, at most 253 - 6 bytes.</summary>
    public const int MaxMppeKeyLength = ((RadiusWire.MaxVendorValueLength - 2) / Block * Block) - 1;

    /// <summary>The User-Password value length for a password: padded with zeros to 16-byte blocks, at least one.</summary>
    public static int HiddenPasswordLength(int passwordLength) => Math.Max(Block, (passwordLength + Block - 1) / Block * Block);

    /// <summary>
    /// RFC 2865 section 5.2: pads the password with zeros and hides it. Returns the value length, or -1 if the
    /// password is longer than 128 bytes or <paramref name="hidden"/> is too small.
    /// </summary>
    public static int HideUserPassword(ReadOnlySpan<byte> password, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> requestAuthenticator, Span<byte> hidden)
    {
        var length = HiddenPasswordLength(password.Length);
        if (password.Length > RadiusWire.MaxUserPasswordLength || hidden.Length < length)
        {
            return -1;
        }
        hidden = hidden[..length];
        hidden.Clear();
        password.CopyTo(hidden);
        XorChain(secret, requestAuthenticator, [], hidden, encrypt: true);
        return length;
    }

    /// <summary>
    /// Reverses <see cref="HideUserPassword"/> (a server's view): writes the password with its zero padding
    /// stripped into <paramref name="password"/> and returns its length, or -1 if the value is malformed.
    /// </summary>
    public static int RevealUserPassword(ReadOnlySpan<byte> hidden, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> requestAuthenticator, Span<byte> password)
    {
        if (hidden.IsEmpty || hidden.Length % Block != 0 || hidden.Length > RadiusWire.MaxUserPasswordLength || password.Length < hidden.Length)
        {
            return -1;
        }
        var clear = password[..hidden.Length];
        hidden.CopyTo(clear);
        XorChain(secret, requestAuthenticator, [], clear, encrypt: false);
        var length = clear.Length;
        while (length > 0 && clear[length - 1] == 0)
        {
            length--;
        }
        return length;
    }

    /// <summary>The MS-MPPE-Send/Recv-Key value length for a key: salt, then key length byte and key padded to 16.</summary>
    public static int EncryptedMppeKeyLength(int keyLength) => 2 + ((keyLength + 1 + Block - 1) / Block * Block);

    /// <summary>
    /// RFC 2548 section 2.4.2: Salt (high bit set), then [key length, key, zero padding] encrypted with
    /// b(1) = MD5(Secret + RequestAuthenticator + Salt). Returns the value length, or -1 if the key is too long
    /// or <paramref name="value"/> too small. Send-Key and Recv-Key of one packet must use different salts.
    /// </summary>
    public static int EncryptMppeKey(ReadOnlySpan<byte> key, ushort salt, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> requestAuthenticator, Span<byte> value)
    {
        var length = EncryptedMppeKeyLength(key.Length);
        if (key.Length > MaxMppeKeyLength || value.Length < length)
        {
            return -1;
        }
        value = value[..length];
        value.Clear();
        value[0] = (byte)((salt >> 8) | 0x80);
        value[1] = (byte)salt;
        value[2] = (byte)key.Length;
        key.CopyTo(value[3..]);
        XorChain(secret, requestAuthenticator, value[..2], value[2..], encrypt: true);
        return length;
    }

    /// <summary>
    /// RFC 2548 sections 2.4.2/2.4.3: decrypts an MS-MPPE-Send-Key or -Recv-Key value into
    /// <paramref name="key"/> (its length from the decrypted key-length byte, padding dropped).
    /// </summary>
    public static RadiusCryptoError TryDecryptMppeKey(ReadOnlySpan<byte> value, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> requestAuthenticator, Span<byte> key, out int keyLength)
    {
        keyLength = 0;
        if (value.Length < 2 + Block || (value.Length - 2) % Block != 0 || value.Length > RadiusWire.MaxVendorValueLength)
        {
            return RadiusCryptoError.WrongLength;
        }
        if ((value[0] & 0x80) == 0)
        {
            return RadiusCryptoError.SaltHighBitClear;
        }
        Span<byte> clear = stackalloc byte[RadiusWire.MaxVendorValueLength];
        clear = clear[..(value.Length - 2)];
        value[2..].CopyTo(clear);
        XorChain(secret, requestAuthenticator, value[..2], clear, encrypt: false);
        int length = clear[0];
        var error = length > clear.Length - 1 ? RadiusCryptoError.KeyLengthTooLarge
            : length > key.Length ? RadiusCryptoError.DestinationTooSmall
            : RadiusCryptoError.None;
        if (error == RadiusCryptoError.None)
        {
            clear.Slice(1, length).CopyTo(key);
            keyLength = length;
        }
        CryptographicOperations.ZeroMemory(clear);
        return error;
    }

    /// <summary>
    /// XORs <paramref name="data"/> (a whole number of 16-byte blocks) in place with b(1) = MD5(secret +
    /// authenticator + salt), b(i) = MD5(secret + c(i-1)); c is the output when encrypting, the input when
    /// decrypting.
    /// </summary>
    private static void XorChain(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> requestAuthenticator, ReadOnlySpan<byte> salt, Span<byte> data, bool encrypt)
    {
        Span<byte> b = stackalloc byte[Block];
        Span<byte> previousCipher = stackalloc byte[Block];
        var md5 = new MD5Digest();
        for (var offset = 0; offset < data.Length; offset += Block)
        {
            md5.BlockUpdate(secret);
            if (offset == 0)
            {
                md5.BlockUpdate(requestAuthenticator[..RadiusWire.AuthenticatorLength]);
                md5.BlockUpdate(salt);
            }
            else
            {
                md5.BlockUpdate(previousCipher);
            }
            md5.DoFinal(b);
            var block = data.Slice(offset, Block);
            if (!encrypt)
            {
                block.CopyTo(previousCipher);
            }
            for (var i = 0; i < Block; i++)
            {
                block[i] ^= b[i];
            }
            if (encrypt)
            {
                block.CopyTo(previousCipher);
            }
        }
        CryptographicOperations.ZeroMemory(b);
    }
}
