using System.Net;
using System.Text;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Mppe;
using Firmware.Protocol.Radius;
using static Firmware.Protocol.Tests.Radius.RadiusTestVectors;

namespace Firmware.Protocol.Tests.Radius;

/// <summary>What a verified answer means for the login it answers: <see cref="RadiusVerdicts.FromAnswer"/>.</summary>
public sealed class RadiusVerdictsTests
{
    private static readonly byte[] Challenge = Rfc2759.AuthenticatorChallenge;
    private static readonly byte[] PeerChallenge = Rfc2759.PeerChallenge;
    private static readonly byte[] NtResponse = Rfc2759.NtResponse;
    private const string Server = "192.0.2.9:1812";

    private static CredentialCheck MsChapV2Check() => new()
    {
        Method = AuthMethod.MsChapV2,
        UserName = "User",
        UserNameBytes = "User"u8.ToArray(),
        ChapIdentifier = 0x1a,
        Challenge = Challenge,
        Response = [.. PeerChallenge, .. new byte[8], .. NtResponse, 0],
    };

    private static RadiusAccessAnswer Read(byte[] packet, AuthMethod method = AuthMethod.MsChapV2)
    {
        Assert.Equal(RadiusAnswerError.None, RadiusAccessAnswer.TryRead(packet, 0x11, RequestAuthenticator, Secret, method, out var answer));
        return answer!;
    }

    private static byte[] AuthenticatorResponse()
    {
        var response = new byte[20];
        MsChapCrypto.GenerateAuthenticatorResponse(MsChapCrypto.NtPasswordHash("clientPass"), NtResponse, PeerChallenge, Challenge, "User"u8, response);
        return response;
    }

    private static void Success(ref RadiusPacketWriter writer) =>
        writer.AddMicrosoft(MicrosoftAttributeType.MsChap2Success, [0x1a, .. Encoding.ASCII.GetBytes(MsChapCrypto.FormatAuthenticatorResponse(AuthenticatorResponse()))]);

    [Fact]
    public void An_ms_chap_v2_accept_gives_S_the_keys_as_sent_and_the_session_attributes()
    {
        byte[] send = [.. Enumerable.Range(1, 16).Select(i => (byte)i)];
        byte[] receive = [.. Enumerable.Range(101, 16).Select(i => (byte)i)];
        var answer = Read(Answer(RadiusCode.AccessAccept, 0x11, (ref RadiusPacketWriter w) =>
        {
            Success(ref w);
            EncryptKey(ref w, MicrosoftAttributeType.MsMppeSendKey, send, 0x8001);
            EncryptKey(ref w, MicrosoftAttributeType.MsMppeRecvKey, receive, 0x8002);
            w.Add(RadiusAttributeType.FramedIpAddress, [10, 1, 2, 3]);
            w.AddUInt32(RadiusAttributeType.SessionTimeout, 3600);
            w.AddUInt32(RadiusAttributeType.IdleTimeout, 0);
            w.Add(RadiusAttributeType.Class, "c1"u8);
        }));

        var verdict = RadiusVerdicts.FromAnswer(MsChapV2Check(), answer, mppeKeysRequired: true, Server);

        Assert.Equal(CredentialOutcome.Accepted, verdict.Outcome);
        Assert.Equal("User", verdict.Account);
        Assert.Contains(Server, verdict.Reason, StringComparison.Ordinal);
        Assert.Equal(AuthenticatorResponse(), verdict.AuthenticatorResponse);
        // The server (we) encrypts with MS-MPPE-Send-Key and decrypts with MS-MPPE-Recv-Key.
        var keys = MppeKeyDerivation.DeriveStartKeys(verdict.KeyMaterial!, isAuthenticator: true, MppeKeyStrength.Bits128);
        Assert.Equal(send, keys.Send);
        Assert.Equal(receive, keys.Receive);
        Assert.Equal(IPAddress.Parse("10.1.2.3"), verdict.Authorization.FramedAddress);
        Assert.Equal(TimeSpan.FromHours(1), verdict.Authorization.SessionTimeout);
        Assert.Null(verdict.Authorization.IdleTimeout); // 0: no limit
        Assert.Equal(["c1"u8.ToArray()], verdict.Authorization.Classes);
    }

    [Theory]
    [InlineData(2u, 0x2u, true, new[] { 40 })]
    [InlineData(1u, 0x6u, false, new[] { 40, 128 })]
    [InlineData(2u, 0xEu, true, new[] { 40, 56, 128 })]
    [InlineData(1u, 0u, false, null)]
    public void MS_MPPE_Encryption_Policy_and_Types_become_the_sessions_encryption_demands(uint policy, uint types, bool required, int[]? lengths)
    {
        var answer = Read(Answer(RadiusCode.AccessAccept, 0x11, (ref RadiusPacketWriter w) =>
        {
            Success(ref w);
            EncryptKey(ref w, MicrosoftAttributeType.MsMppeSendKey, new byte[16], 0x8001);
            EncryptKey(ref w, MicrosoftAttributeType.MsMppeRecvKey, new byte[16], 0x8002);
            w.AddMicrosoftUInt32(MicrosoftAttributeType.MsMppeEncryptionPolicy, policy);
            w.AddMicrosoftUInt32(MicrosoftAttributeType.MsMppeEncryptionTypes, types);
        }));

        var authorization = RadiusVerdicts.FromAnswer(MsChapV2Check(), answer, mppeKeysRequired: true, Server).Authorization;

        Assert.Equal(required, authorization.EncryptionRequired);
        Assert.Equal(lengths, authorization.MppeKeyLengths);
    }

    [Theory]
    [InlineData(new byte[] { 255, 255, 255, 254 })]
    [InlineData(new byte[] { 255, 255, 255, 255 })]
    [InlineData(new byte[] { 0, 0, 0, 0 })]
    public void A_framed_address_that_leaves_the_choice_to_us_means_the_pool(byte[] framed)
    {
        var answer = Read(Answer(RadiusCode.AccessAccept, 0x11, (ref RadiusPacketWriter w) => w.Add(RadiusAttributeType.FramedIpAddress, framed)), AuthMethod.Pap);
        var check = new CredentialCheck { Method = AuthMethod.Pap, UserName = "u", UserNameBytes = "u"u8.ToArray(), Response = "p"u8.ToArray() };

        var verdict = RadiusVerdicts.FromAnswer(check, answer, mppeKeysRequired: false, Server);

        Assert.Equal(CredentialOutcome.Accepted, verdict.Outcome);
        Assert.Null(verdict.Authorization.FramedAddress);
        Assert.Null(verdict.KeyMaterial);
    }

    [Fact]
    public void An_ms_chap_v2_accept_without_S_is_refused_because_the_client_could_not_check_us()
    {
        var answer = Read(Answer(RadiusCode.AccessAccept, 0x11, (ref RadiusPacketWriter w) => { }));

        var verdict = RadiusVerdicts.FromAnswer(MsChapV2Check(), answer, mppeKeysRequired: false, Server);

        Assert.Equal(CredentialOutcome.Refused, verdict.Outcome);
        Assert.Contains("without MS-CHAP2-Success", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_accept_without_keys_is_refused_when_MPPE_is_required_and_taken_when_it_is_not()
    {
        var answer = Read(Answer(RadiusCode.AccessAccept, 0x11, Success));

        var required = RadiusVerdicts.FromAnswer(MsChapV2Check(), answer, mppeKeysRequired: true, Server);
        var optional = RadiusVerdicts.FromAnswer(MsChapV2Check(), answer, mppeKeysRequired: false, Server);

        Assert.Equal(CredentialOutcome.Refused, required.Outcome);
        Assert.Contains("MS-MPPE-Send-Key", required.Reason, StringComparison.Ordinal);
        Assert.Equal(CredentialOutcome.Accepted, optional.Outcome);
        Assert.Null(optional.KeyMaterial);
    }

    [Fact]
    public void An_ms_chap_v1_accept_gives_keys_from_MS_CHAP_MPPE_Keys_as_the_local_check_would()
    {
        // RFC 2433's example (user "User", password "clientPass", challenge 102DB5DF085D3041).
        var challenge = Hex("102DB5DF085D3041");
        var ntResponse = Hex("4E9D3C8F9CFD385D5BF4D3246791956CA4C351AB409A3D61");
        var passwordHash = MsChapCrypto.NtPasswordHash("clientPass");
        var hashHash = new byte[16];
        MsChapCrypto.HashNtPasswordHash(passwordHash, hashHash);
        var lmKey = Hex("0102030405060708");
        byte[] hidden = [.. lmKey, .. hashHash];
        var answer = Read(Answer(RadiusCode.AccessAccept, 0x11, (ref RadiusPacketWriter w) =>
        {
            var value = w.ReserveVendor(RadiusWire.MicrosoftVendorId, (byte)MicrosoftAttributeType.MsChapMppeKeys, 32);
            RadiusAttributeCrypto.HideUserPassword(hidden, Secret, RequestAuthenticator, value);
        }), AuthMethod.MsChapV1);
        var check = new CredentialCheck
        {
            Method = AuthMethod.MsChapV1,
            UserName = "User",
            UserNameBytes = "User"u8.ToArray(),
            Challenge = challenge,
            Response = [.. new byte[24], .. ntResponse, 1],
        };

        var verdict = RadiusVerdicts.FromAnswer(check, answer, mppeKeysRequired: true, Server);

        Assert.Equal(CredentialOutcome.Accepted, verdict.Outcome);
        var fromRadius = MppeKeyDerivation.DeriveStartKeys(verdict.KeyMaterial!, isAuthenticator: true, MppeKeyStrength.Bits128);
        var local = MppeKeyDerivation.DeriveStartKeys(MppeKeyMaterial.FromNtPasswordHash(AuthMethod.MsChapV1, passwordHash, challenge, ntResponse), isAuthenticator: true, MppeKeyStrength.Bits128);
        Assert.Equal(local.Send, fromRadius.Send);
        Assert.Equal(local.Receive, fromRadius.Receive);
    }

    [Fact]
    public void A_reject_passes_on_the_servers_E_code_and_retry_flag()
    {
        var answer = Read(Answer(RadiusCode.AccessReject, 0x11, (ref RadiusPacketWriter w) =>
        {
            w.AddMicrosoft(MicrosoftAttributeType.MsChapError, [0x1a, .. "E=648 R=1 C=00000000000000000000000000000000 V=3"u8]);
            w.Add(RadiusAttributeType.ReplyMessage, "password\nexpired"u8);
        }));

        var verdict = RadiusVerdicts.FromAnswer(MsChapV2Check(), answer, mppeKeysRequired: true, Server);

        Assert.Equal(CredentialOutcome.Refused, verdict.Outcome);
        Assert.Equal(648, verdict.MsChapError);
        Assert.True(verdict.RetryAllowed);
        Assert.Equal("User", verdict.Account);
        Assert.Contains("\"password?expired\"", verdict.Reason, StringComparison.Ordinal); // control characters never reach the log
    }

    [Fact]
    public void A_reject_without_MS_CHAP_Error_is_E_691_without_retry()
    {
        var verdict = RadiusVerdicts.FromAnswer(MsChapV2Check(), Read(Answer(RadiusCode.AccessReject, 0x11, (ref RadiusPacketWriter w) => { })), mppeKeysRequired: true, Server);

        Assert.Equal(MsChapFailure.AuthenticationFailure, verdict.MsChapError);
        Assert.False(verdict.RetryAllowed);
    }

    [Fact]
    public void The_request_carries_the_login_as_the_authenticator_received_it()
    {
        var buffer = new byte[RadiusWire.MaxPacketLength];
        var length = RadiusVerdicts.WriteRequest(buffer, 7, RequestAuthenticator, Secret, MsChapV2Check(), [192, 0, 2, 1], "gw"u8, "198.51.100.7"u8);

        Assert.True(RadiusPacket.TryParse(buffer.AsSpan(0, length), out var packet, out _));
        Assert.True(packet.TryGetAttribute(RadiusAttributeType.UserName, out var user));
        Assert.Equal("User"u8.ToArray(), user.ToArray());
        Assert.True(packet.TryGetMicrosoftAttribute(MicrosoftAttributeType.MsChapChallenge, out var challenge));
        Assert.Equal(Challenge, challenge.ToArray());
        Assert.True(packet.TryGetMicrosoftAttribute(MicrosoftAttributeType.MsChap2Response, out var response));
        Assert.Equal(0x1a, response[0]);
        Assert.Equal(NtResponse, response[26..50].ToArray());
        Assert.True(packet.TryGetAttribute(RadiusAttributeType.CallingStationId, out var calling));
        Assert.Equal("198.51.100.7"u8.ToArray(), calling.ToArray());
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyRequest(packet, Secret));
    }
}
