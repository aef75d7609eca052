using System.Security.Cryptography;
using System.Text;
using Firmware.Protocol.Auth;
using static Firmware.Protocol.Tests.Auth.TestHex;

namespace Firmware.Protocol.Tests.Auth;

/// <summary>Known-answer vectors: RFC 2759 section 9.2, RFC 2433 appendix B.2, RFC 1994 MD5.</summary>
public sealed class MsChapVectorTests
{
    private static readonly byte[] Rfc2759User = "User"u8.ToArray();
    private static readonly byte[] Rfc2759AuthenticatorChallenge = Bytes("5B5D7C7D7B3F2F3E3C2C602132262628");
    private static readonly byte[] Rfc2759PeerChallenge = Bytes("21402324255E262A28295F2B3A337C7E");
    private static readonly byte[] Rfc2759NtResponse = Bytes("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF");

    [Fact]
    public void Rfc2759_password_hash_and_hash_hash()
    {
        var hash = MsChapCrypto.NtPasswordHash("clientPass");
        Assert.Equal("44EBBA8D5312B8D611474411F56989AE", Hex(hash));

        Span<byte> hashHash = stackalloc byte[16];
        MsChapCrypto.HashNtPasswordHash(hash, hashHash);
        Assert.Equal("41C00C584BD2D91C4017A2A12FA59F3F", Hex(hashHash));
    }

    [Fact]
    public void Rfc2759_challenge_hash_nt_response_and_authenticator_response()
    {
        Span<byte> challenge = stackalloc byte[8];
        MsChapCrypto.ChallengeHash(Rfc2759PeerChallenge, Rfc2759AuthenticatorChallenge, Rfc2759User, challenge);
        Assert.Equal("D02E4386BCE91226", Hex(challenge));

        var hash = MsChapCrypto.NtPasswordHash("clientPass");
        Span<byte> ntResponse = stackalloc byte[24];
        MsChapCrypto.GenerateNtResponse(Rfc2759AuthenticatorChallenge, Rfc2759PeerChallenge, Rfc2759User, hash, ntResponse);
        Assert.Equal(Hex(Rfc2759NtResponse), Hex(ntResponse));

        Span<byte> authenticatorResponse = stackalloc byte[20];
        MsChapCrypto.GenerateAuthenticatorResponse(hash, ntResponse, Rfc2759PeerChallenge, Rfc2759AuthenticatorChallenge, Rfc2759User, authenticatorResponse);
        Assert.Equal("S=407A5589115FD0D6209F510FE9C04566932CDA56", MsChapCrypto.FormatAuthenticatorResponse(authenticatorResponse));
    }

    [Fact]
    public void Challenge_hash_ignores_a_domain_prefix()
    {
        Span<byte> plain = stackalloc byte[8];
        Span<byte> withDomain = stackalloc byte[8];
        MsChapCrypto.ChallengeHash(Rfc2759PeerChallenge, Rfc2759AuthenticatorChallenge, Rfc2759User, plain);
        MsChapCrypto.ChallengeHash(Rfc2759PeerChallenge, Rfc2759AuthenticatorChallenge, "ACME\\User"u8, withDomain);
        Assert.Equal(Hex(plain), Hex(withDomain));
    }

    [Fact]
    public void Rfc2433_nt_password_hash_and_nt_challenge_response()
    {
        var hash = MsChapCrypto.NtPasswordHash("MyPw");
        Assert.Equal("FC156AF7EDCD6C0EDDE3337D427F4EAC", Hex(hash));

        Span<byte> response = stackalloc byte[24];
        MsChapCrypto.ChallengeResponse(Bytes("102DB5DF085D3041"), hash, response);
        Assert.Equal("4E9D3C8F9CFD385D5BF4D3246791956CA4C351AB409A3D61", Hex(response));
    }

    [Fact]
    public void Rfc2433_lm_password_hash_and_lm_challenge_response()
    {
        Span<byte> lmHash = stackalloc byte[16];
        MsChapCrypto.LmPasswordHash("MyPw", lmHash);
        Assert.Equal("75BA30198E6D1975AAD3B435B51404EE", Hex(lmHash));

        Span<byte> response = stackalloc byte[24];
        MsChapCrypto.ChallengeResponse(Bytes("102DB5DF085D3041"), lmHash, response);
        Assert.Equal("91881D0152AB0C33C524135EC24A95EE64E23CDC2D33347D", Hex(response));
    }

    [Fact]
    public void Rfc3079_lm_password_hash_of_clientPass()
    {
        Span<byte> lmHash = stackalloc byte[16];
        MsChapCrypto.LmPasswordHash("clientPass", lmHash);
        Assert.Equal("76A152936096D7830E2390227404AFD2", Hex(lmHash));
    }

    [Fact]
    public void Des_with_a_weak_key_third_does_not_throw()
    {
        // A password hash ending in two zero bytes makes the third DES key all zero (a DES weak key).
        var hash = new byte[16];
        hash[0] = 1;
        Span<byte> response = stackalloc byte[24];
        MsChapCrypto.ChallengeResponse(Bytes("0102030405060708"), hash, response);
        Assert.NotEqual(0, response[16] | response[17] | response[18]);
    }

    [Theory]
    [InlineData(0x01, "secret", "0123456789ABCDEF0123456789ABCDEF")]
    [InlineData(0xFF, "", "00")]
    [InlineData(0x7A, "clientPass", "5B5D7C7D7B3F2F3E3C2C602132262628AABB")]
    public void Rfc1994_md5_response_is_md5_of_identifier_secret_challenge(byte identifier, string secret, string challengeHex)
    {
        var challenge = Bytes(challengeHex);
        var input = new List<byte> { identifier };
        input.AddRange(Encoding.UTF8.GetBytes(secret));
        input.AddRange(challenge);
        var oracle = MD5.HashData(input.ToArray());

        Span<byte> response = stackalloc byte[16];
        MsChapCrypto.ChapMd5Response(identifier, Encoding.UTF8.GetBytes(secret), challenge, response);
        Assert.Equal(Hex(oracle), Hex(response));
    }

    [Fact]
    public void Rfc1321_md5_known_answer_through_the_chap_path()
    {
        // RFC 1321 test suite: MD5("abc") = 900150983cd24fb0d6963f7d28e17f72; identifier 'a', secret "b", challenge "c".
        Span<byte> response = stackalloc byte[16];
        MsChapCrypto.ChapMd5Response((byte)'a', "b"u8, "c"u8, response);
        Assert.Equal("900150983CD24FB0D6963F7D28E17F72", Hex(response));
    }

    [Fact]
    public void Hex_parser_rejects_bad_digits_and_lengths()
    {
        Span<byte> two = stackalloc byte[2];
        Assert.True(MsChapCrypto.TryParseHex("a0Ff"u8, two));
        Assert.Equal("A0FF", Hex(two));
        Assert.False(MsChapCrypto.TryParseHex("a0F"u8, two));
        Assert.False(MsChapCrypto.TryParseHex("a0Fg"u8, two));
    }
}
