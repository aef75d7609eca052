using Firmware.Protocol.Radius;
using static Firmware.Protocol.Tests.Radius.RadiusTestVectors;

namespace Firmware.Protocol.Tests.Radius;

/// <summary>User-Password hiding (RFC 2865 5.2) and MS-MPPE key encryption (RFC 2548 2.4.2/2.4.3).</summary>
public sealed class RadiusAttributeCryptoTests
{
    [Fact]
    public void User_password_matches_the_rfc_2865_example()
    {
        var hidden = new byte[16];
        Assert.Equal(16, RadiusAttributeCrypto.HideUserPassword("arctangent"u8, Rfc2865.Secret, Rfc2865.RequestAuthenticator, hidden));
        Assert.Equal(Rfc2865.AccessRequest[28..44], hidden);
    }

    [Fact]
    public void Two_block_user_password_chains_on_the_first_ciphertext_block()
    {
        var hidden = new byte[32];
        Assert.Equal(32, RadiusAttributeCrypto.HideUserPassword(TwoBlockPassword, Secret, RequestAuthenticator, hidden));
        Assert.Equal(TwoBlockPasswordHidden, hidden);

        var clear = new byte[32];
        var length = RadiusAttributeCrypto.RevealUserPassword(hidden, Secret, RequestAuthenticator, clear);
        Assert.Equal(TwoBlockPassword, clear[..length]);
    }

    [Theory]
    [InlineData(0, 16)]
    [InlineData(1, 16)]
    [InlineData(16, 16)]
    [InlineData(17, 32)]
    [InlineData(128, 128)]
    public void User_password_round_trips_at_block_edges(int passwordLength, int hiddenLength)
    {
        var password = Enumerable.Range(1, passwordLength).Select(i => (byte)i).ToArray();
        var hidden = new byte[128];
        Assert.Equal(hiddenLength, RadiusAttributeCrypto.HideUserPassword(password, Secret, RequestAuthenticator, hidden));
        var clear = new byte[128];
        var length = RadiusAttributeCrypto.RevealUserPassword(hidden.AsSpan(0, hiddenLength), Secret, RequestAuthenticator, clear);
        Assert.Equal(password, clear[..length]);
        Assert.Equal(-1, RadiusAttributeCrypto.HideUserPassword(password, Secret, RequestAuthenticator, new byte[hiddenLength - 1]));
    }

    [Fact]
    public void User_password_longer_than_128_is_refused()
    {
        Assert.Equal(-1, RadiusAttributeCrypto.HideUserPassword(new byte[129], Secret, RequestAuthenticator, new byte[256]));
        Assert.Equal(-1, RadiusAttributeCrypto.RevealUserPassword(new byte[15], Secret, RequestAuthenticator, new byte[16]));
    }

    [Fact]
    public void Mppe_key_matches_the_python_vector_and_decrypts()
    {
        var value = new byte[RadiusAttributeCrypto.EncryptedMppeKeyLength(16)];
        Assert.Equal(34, value.Length);
        Assert.Equal(34, RadiusAttributeCrypto.EncryptMppeKey(SendKey, 0x8123, Secret, RequestAuthenticator, value));
        Assert.Equal(EncryptedSendKey, value);

        var key = new byte[32];
        Assert.Equal(RadiusCryptoError.None, RadiusAttributeCrypto.TryDecryptMppeKey(EncryptedSendKey, Secret, RequestAuthenticator, key, out var length));
        Assert.Equal(SendKey, key[..length]);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(32)]
    [InlineData(RadiusAttributeCrypto.MaxMppeKeyLength)]
    public void Mppe_keys_of_any_length_round_trip(int keyLength)
    {
        var key = Enumerable.Range(0, keyLength).Select(i => (byte)(i * 7)).ToArray();
        var value = new byte[RadiusWire.MaxVendorValueLength];
        var valueLength = RadiusAttributeCrypto.EncryptMppeKey(key, 0x0102, Secret, RequestAuthenticator, value);
        Assert.Equal(0, (valueLength - 2) % 16);
        Assert.Equal(0x81, value[0]); // the salt's high bit is forced on
        var clear = new byte[255];
        Assert.Equal(RadiusCryptoError.None, RadiusAttributeCrypto.TryDecryptMppeKey(value.AsSpan(0, valueLength), Secret, RequestAuthenticator, clear, out var length));
        Assert.Equal(key, clear[..length]);
    }

    [Fact]
    public void Mppe_key_decryption_depends_on_secret_authenticator_and_salt()
    {
        var key = new byte[32];
        RadiusAttributeCrypto.TryDecryptMppeKey(EncryptedSendKey, "wrong"u8, RequestAuthenticator, key, out var length);
        Assert.NotEqual(SendKey, key[..Math.Min(length, 16)]);
        RadiusAttributeCrypto.TryDecryptMppeKey(EncryptedSendKey, Secret, Rfc2865.RequestAuthenticator, key, out length);
        Assert.NotEqual(SendKey, key[..Math.Min(length, 16)]);
        var otherSalt = (byte[])EncryptedSendKey.Clone();
        otherSalt[1] ^= 1;
        RadiusAttributeCrypto.TryDecryptMppeKey(otherSalt, Secret, RequestAuthenticator, key, out length);
        Assert.NotEqual(SendKey, key[..Math.Min(length, 16)]);
    }

    [Fact]
    public void Malformed_mppe_key_values_are_refused_with_a_reason()
    {
        var key = new byte[64];
        Assert.Equal(RadiusCryptoError.WrongLength, RadiusAttributeCrypto.TryDecryptMppeKey(EncryptedSendKey[..33], Secret, RequestAuthenticator, key, out _));
        Assert.Equal(RadiusCryptoError.WrongLength, RadiusAttributeCrypto.TryDecryptMppeKey(EncryptedSendKey[..2], Secret, RequestAuthenticator, key, out _));
        var lowSalt = (byte[])EncryptedSendKey.Clone();
        lowSalt[0] &= 0x7F;
        Assert.Equal(RadiusCryptoError.SaltHighBitClear, RadiusAttributeCrypto.TryDecryptMppeKey(lowSalt, Secret, RequestAuthenticator, key, out _));
        Assert.Equal(RadiusCryptoError.DestinationTooSmall, RadiusAttributeCrypto.TryDecryptMppeKey(EncryptedSendKey, Secret, RequestAuthenticator, new byte[15], out _));

        // A key-length byte of 200 in a one-block value: encrypt a 15-byte key, then flip the length byte's
        // ciphertext so it decrypts to 200.
        var value = new byte[18];
        RadiusAttributeCrypto.EncryptMppeKey(new byte[15], 0x8001, Secret, RequestAuthenticator, value);
        value[2] ^= 15 ^ 200;
        Assert.Equal(RadiusCryptoError.KeyLengthTooLarge, RadiusAttributeCrypto.TryDecryptMppeKey(value, Secret, RequestAuthenticator, key, out _));
    }
}
