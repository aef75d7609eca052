using Firmware.Protocol.Auth;
using Firmware.Protocol.Mppe;
using static Firmware.Protocol.Tests.Auth.TestHex;

namespace Firmware.Protocol.Tests.Mppe;

/// <summary>RFC 3079 sections 2.5 (MS-CHAP) and 3.5 (MS-CHAPv2) sample key derivations.</summary>
public sealed class MppeKeyDerivationTests
{
    private static readonly byte[] PasswordHashHash = Bytes("41C00C584BD2D91C4017A2A12FA59F3F");
    private static readonly byte[] V2NtResponse = Bytes("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF");
    private static readonly byte[] V1Challenge = Bytes("102DB5DF085D3041");

    private static MppeKeyMaterial V2Material() => new(
        AuthMethod.MsChapV2, MsChapCrypto.NtPasswordHash("clientPass"), PasswordHashHash, [], V2NtResponse);

    private static MppeKeyMaterial V1Material()
    {
        var lm = new byte[16];
        MsChapCrypto.LmPasswordHash("clientPass", lm);
        return new MppeKeyMaterial(AuthMethod.MsChapV1, MsChapCrypto.NtPasswordHash("clientPass"), PasswordHashHash, V1Challenge, new byte[24])
        {
            LmPasswordHash = lm,
        };
    }

    [Fact]
    public void Rfc3079_3_5_master_key()
    {
        Span<byte> master = stackalloc byte[16];
        MppeKeyDerivation.GetMasterKey(PasswordHashHash, V2NtResponse, master);
        Assert.Equal("FDECE3717A8C838CB388E527AE3CDD31", Hex(master));
    }

    [Theory]
    [InlineData(MppeKeyStrength.Bits40, "8B7CDC149B993A1B", "D1269EC49FA62E3E", "929137917E5803D668D75898")]
    [InlineData(MppeKeyStrength.Bits56, "8B7CDC149B993A1B", "D15C00C49FA62E3E", null)]
    [InlineData(MppeKeyStrength.Bits128, "8B7CDC149B993A1BA118CB153F56DCCB", "405CB2247A7956E6E211007AE27B22D4", "81848317DF68846272FB5ABE")]
    public void Rfc3079_3_5_start_key_session_key_and_sample_message(MppeKeyStrength strength, string sendStartKey, string sendSessionKey, string? encryptedTestMessage)
    {
        // RFC 3079 prints the server's send key (Magic3), which is also the client's receive key.
        var server = MppeKeyDerivation.DeriveStartKeys(V2Material(), isAuthenticator: true, strength);
        var client = MppeKeyDerivation.DeriveStartKeys(V2Material(), isAuthenticator: false, strength);
        var length = sendStartKey.Length / 2;
        Assert.Equal(sendStartKey, Hex(server.Send.AsSpan(0, length)));
        Assert.Equal(Hex(server.Send), Hex(client.Receive));
        Assert.Equal(Hex(server.Receive), Hex(client.Send));
        Assert.NotEqual(Hex(server.Send), Hex(server.Receive));

        Span<byte> session = stackalloc byte[length];
        MppeKeyDerivation.GetInitialSessionKey(server.Send, strength, session);
        Assert.Equal(sendSessionKey, Hex(session));

        if (encryptedTestMessage is not null)
        {
            var message = "test message"u8.ToArray();
            var rc4 = default(Rc4);
            rc4.Init(session);
            rc4.Transform(message);
            Assert.Equal(encryptedTestMessage, Hex(message));
        }
    }

    [Fact]
    public void Rfc3079_2_5_1_ms_chap_40_bit_from_the_lm_hash()
    {
        var keys = MppeKeyDerivation.DeriveStartKeys(V1Material(), isAuthenticator: true, MppeKeyStrength.Bits40, MsChapV1KeySource.LmPasswordHash);
        Assert.Equal("76A152936096D783", Hex(keys.Send.AsSpan(0, 8)));

        Span<byte> interim = stackalloc byte[8];
        MppeKeyDerivation.GetNewKeyFromSha(keys.Send.AsSpan(0, 8), keys.Send.AsSpan(0, 8), interim);
        Assert.Equal("D80801538CEC4A08", Hex(interim));

        Span<byte> session = stackalloc byte[8];
        MppeKeyDerivation.GetInitialSessionKey(keys.Send, MppeKeyStrength.Bits40, session);
        Assert.Equal("D1269E538CEC4A08", Hex(session));
    }

    [Fact]
    public void Rfc3079_2_5_2_ms_chap_56_bit_from_the_lm_hash()
    {
        var keys = MppeKeyDerivation.DeriveStartKeys(V1Material(), isAuthenticator: false, MppeKeyStrength.Bits56, MsChapV1KeySource.LmPasswordHash);
        Span<byte> session = stackalloc byte[8];
        MppeKeyDerivation.GetInitialSessionKey(keys.Send, MppeKeyStrength.Bits56, session);
        Assert.Equal("D10801538CEC4A08", Hex(session));
    }

    [Fact]
    public void Rfc3079_2_5_3_ms_chap_128_bit()
    {
        // RFC 3079's step 3 misprints one byte (AC CA D1); its step 4 and session key follow from AC C1 D1.
        var keys = MppeKeyDerivation.DeriveStartKeys(V1Material(), isAuthenticator: true, MppeKeyStrength.Bits128);
        Assert.Equal("A8947850CFC0ACC1D1789FB62DDCDDB0", Hex(keys.Send));
        Assert.Equal(Hex(keys.Send), Hex(keys.Receive));

        Span<byte> session = stackalloc byte[16];
        MppeKeyDerivation.GetInitialSessionKey(keys.Send, MppeKeyStrength.Bits128, session);
        Assert.Equal("59D159BC09F76F1DA2A86A28FFEC0B1E", Hex(session));
    }

    [Fact]
    public void Linux_ms_chap_40_bit_uses_the_first_half_of_the_nt_start_key()
    {
        // pppd's mppe_set_keys: SHA1(PasswordHashHash | PasswordHashHash | Challenge) for every key length.
        var keys = MppeKeyDerivation.DeriveStartKeys(V1Material(), isAuthenticator: true, MppeKeyStrength.Bits40);
        Assert.Equal("A8947850CFC0ACC1D1789FB62DDCDDB0", Hex(keys.Send));
        var sessionFromFullKey = new byte[8];
        MppeKeyDerivation.GetInitialSessionKey(keys.Send, MppeKeyStrength.Bits40, sessionFromFullKey);
        var sessionFromHalf = new byte[8];
        MppeKeyDerivation.GetInitialSessionKey(Bytes("A8947850CFC0ACC1"), MppeKeyStrength.Bits40, sessionFromHalf);
        Assert.Equal(Hex(sessionFromHalf), Hex(sessionFromFullKey));
        Assert.StartsWith("D1269E", Hex(sessionFromFullKey), StringComparison.Ordinal);
    }

    [Fact]
    public void Lm_key_source_without_an_lm_hash_is_refused()
    {
        var material = V1Material() with { LmPasswordHash = null };
        Assert.Throws<InvalidOperationException>(() =>
            MppeKeyDerivation.DeriveStartKeys(material, isAuthenticator: true, MppeKeyStrength.Bits40, MsChapV1KeySource.LmPasswordHash));
        // 128-bit never needs it.
        _ = MppeKeyDerivation.DeriveStartKeys(material, isAuthenticator: true, MppeKeyStrength.Bits128, MsChapV1KeySource.LmPasswordHash);
    }

    [Fact]
    public void Key_change_follows_rfc3078_7_3()
    {
        // InterimKey = GetNewKeyFromSHA(start, session); new session = RC4(InterimKey, InterimKey), then salted.
        var start = Bytes("8B7CDC149B993A1BA118CB153F56DCCB");
        var session = Bytes("405CB2247A7956E6E211007AE27B22D4");
        var interim = new byte[16];
        MppeKeyDerivation.GetNewKeyFromSha(start, session, interim);
        var expected = (byte[])interim.Clone();
        var oracle = new Org.BouncyCastle.Crypto.Engines.RC4Engine();
        oracle.Init(true, new Org.BouncyCastle.Crypto.Parameters.KeyParameter(interim));
        oracle.ProcessBytes(interim, 0, 16, expected, 0);

        var next = new byte[16];
        MppeKeyDerivation.GetNextSessionKey(start, session, MppeKeyStrength.Bits128, next);
        Assert.Equal(Hex(expected), Hex(next));

        var next40 = new byte[8];
        MppeKeyDerivation.GetNextSessionKey(start, session, MppeKeyStrength.Bits40, next40);
        Assert.StartsWith("D1269E", Hex(next40), StringComparison.Ordinal);
    }

    [Fact]
    public void Pap_and_chap_md5_material_is_refused()
    {
        var material = V2Material() with { Method = AuthMethod.ChapMd5 };
        Assert.Throws<ArgumentException>(() => MppeKeyDerivation.DeriveStartKeys(material, true, MppeKeyStrength.Bits128));
    }

    [Fact]
    public void Key_material_text_hides_secrets()
    {
        Assert.DoesNotContain("44EB", V2Material().ToString(), StringComparison.OrdinalIgnoreCase);
    }
}
