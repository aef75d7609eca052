using System.Buffers.Binary;
using System.Net;
using System.Text;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Mppe;
using Firmware.Protocol.Radius;
using static Firmware.Protocol.Tests.Radius.RadiusTestVectors;

namespace Firmware.Protocol.Tests.Radius;

/// <summary>Access-Request for each PPP method, and reading Access-Accept/Reject the way a server sends them.</summary>
public sealed class RadiusLoginTests
{
    private static readonly byte[] AuthenticatorChallenge = Rfc2759.AuthenticatorChallenge;
    private static readonly byte[] PeerChallenge = Rfc2759.PeerChallenge;
    private static readonly byte[] NtResponse = Rfc2759.NtResponse;

    /// <summary>
    /// The MS-CHAPv2 request for RFC 2759's example, built by python3 (helpers as in
    /// <see cref="RadiusTestVectors"/>): id 0x11, attr(1, b"User") + ms(11, challenge) + ms(25, [0x1a, 0] +
    /// peer challenge + 8 zeros + NT-Response) + attr(4, 192.0.2.1) + attr(32, b"pptp-gw") + attr(61, 5) +
    /// attr(6, 2) + attr(7, 1) + attr(31, b"198.51.100.7") + attr(80, zeros), then the HMAC-MD5 filled in.
    /// </summary>
    private static readonly byte[] MsChapV2Request = Hex(
        "011100ad000102030405060708090a0b0c0d0e0f0106557365721a18000001370b125b5d7c7d7b3f2f3e3c2c6021322626281a3a"
        + "0000013719341a0021402324255e262a28295f2b3a337c7e000000000000000082309ecd8d708b5ea08faa3981cd835442331"
        + "14a3d85d6df0406c00002012009707074702d67773d06000000050606000000020706000000011f0e3139382e35312e3130302e"
        + "37501269f11b29b8e51a9c53a666c89a8d8d35");

    private static byte[] PppMsChapV2Response() => [.. PeerChallenge, .. new byte[8], .. NtResponse, 0];

    [Fact]
    public void Ms_chap_v2_request_matches_the_python_vector()
    {
        var buffer = new byte[RadiusWire.MaxPacketLength];
        var length = RadiusAccessRequest.Write(buffer, 0x11, RequestAuthenticator, Secret, new RadiusLogin
        {
            Method = AuthMethod.MsChapV2,
            UserName = "User"u8,
            ChapIdentifier = 0x1a,
            Challenge = AuthenticatorChallenge,
            Response = PppMsChapV2Response(),
            NasIpAddress = [192, 0, 2, 1],
            NasIdentifier = "pptp-gw"u8,
            CallingStationId = "198.51.100.7"u8,
        });

        Assert.Equal(MsChapV2Request, buffer[..length]);
    }

    [Fact]
    public void Pap_request_carries_the_hidden_password_and_the_nas_attributes()
    {
        var packet = Request(new RadiusLogin
        {
            Method = AuthMethod.Pap,
            UserName = "alice"u8,
            Password = "s3cret!"u8,
            NasIdentifier = "pptp-gw"u8,
        });

        Assert.True(RadiusPacket.TryParse(packet, out var request, out _));
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyRequest(request, Secret));
        Assert.True(request.TryGetAttribute(RadiusAttributeType.UserPassword, out var hidden));
        var clear = new byte[128];
        var length = RadiusAttributeCrypto.RevealUserPassword(hidden, Secret, RequestAuthenticator, clear);
        Assert.Equal("s3cret!"u8.ToArray(), clear[..length]);
        Assert.Equal(5u, UInt32(request, RadiusAttributeType.NasPortType));
        Assert.Equal(2u, UInt32(request, RadiusAttributeType.ServiceType));
        Assert.Equal(1u, UInt32(request, RadiusAttributeType.FramedProtocol));
        Assert.False(request.TryGetAttribute(RadiusAttributeType.NasIpAddress, out _));
        Assert.False(request.TryGetAttribute(RadiusAttributeType.CallingStationId, out _));
        Assert.False(request.TryGetAttribute(RadiusAttributeType.ChapPassword, out _));
    }

    [Fact]
    public void Chap_md5_request_carries_ident_and_digest_and_the_challenge()
    {
        var challenge = Hex("00112233445566778899aabbccddeeff0102");
        var digest = new byte[16];
        MsChapCrypto.ChapMd5Response(0x37, "s3cret!"u8, challenge, digest);
        var packet = Request(new RadiusLogin
        {
            Method = AuthMethod.ChapMd5,
            UserName = "alice"u8,
            ChapIdentifier = 0x37,
            Challenge = challenge,
            Response = digest,
            NasIpAddress = [10, 0, 0, 1],
        });

        Assert.True(RadiusPacket.TryParse(packet, out var request, out _));
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyRequest(request, Secret));
        Assert.True(request.TryGetAttribute(RadiusAttributeType.ChapPassword, out var chapPassword));
        Assert.Equal([0x37, .. digest], chapPassword.ToArray());
        Assert.True(request.TryGetAttribute(RadiusAttributeType.ChapChallenge, out var sent));
        Assert.Equal(challenge, sent.ToArray());
        Assert.False(request.TryGetAttribute(RadiusAttributeType.UserPassword, out _));
    }

    [Fact]
    public void Ms_chap_v1_request_reorders_the_ppp_response_into_ident_flags_lm_nt()
    {
        var challenge = Hex("102DB5DF085D3041");
        var lm = Enumerable.Range(0, 24).Select(i => (byte)(0xA0 + i)).ToArray();
        var nt = Enumerable.Range(0, 24).Select(i => (byte)(0x10 + i)).ToArray();
        var packet = Request(new RadiusLogin
        {
            Method = AuthMethod.MsChapV1,
            UserName = "alice"u8,
            ChapIdentifier = 0x09,
            Challenge = challenge,
            Response = [.. lm, .. nt, 1],
            NasIdentifier = "gw"u8,
        });

        Assert.True(RadiusPacket.TryParse(packet, out var request, out _));
        Assert.True(request.TryGetMicrosoftAttribute(MicrosoftAttributeType.MsChapChallenge, out var sent));
        Assert.Equal(challenge, sent.ToArray());
        Assert.True(request.TryGetMicrosoftAttribute(MicrosoftAttributeType.MsChapResponse, out var response));
        Assert.Equal([0x09, 1, .. lm, .. nt], response.ToArray());
        Assert.False(request.TryGetMicrosoftAttribute(MicrosoftAttributeType.MsChap2Response, out _));
    }

    [Fact]
    public void Logins_that_do_not_fit_their_method_are_our_bug_and_throw()
    {
        var buffer = new byte[RadiusWire.MaxPacketLength];
        Assert.Throws<ArgumentException>(() => RadiusAccessRequest.Write(buffer, 1, RequestAuthenticator, Secret, new RadiusLogin
        {
            Method = AuthMethod.MsChapV2,
            UserName = "u"u8,
            Challenge = new byte[8],
            Response = new byte[49],
            NasIdentifier = "gw"u8,
        }));
        Assert.Throws<ArgumentException>(() => RadiusAccessRequest.Write(buffer, 1, RequestAuthenticator, Secret, new RadiusLogin
        {
            Method = AuthMethod.Pap,
            UserName = "u"u8,
            Password = "p"u8,
        }));
        Assert.Throws<ArgumentException>(() => RadiusAccessRequest.Write(buffer, 1, RequestAuthenticator, Secret, new RadiusLogin
        {
            Method = AuthMethod.ChapMd5,
            UserName = "u"u8,
            Challenge = new byte[16],
            Response = new byte[15],
            NasIdentifier = "gw"u8,
        }));
        Assert.Equal(-1, RadiusAccessRequest.Write(new byte[60], 1, RequestAuthenticator, Secret, new RadiusLogin
        {
            Method = AuthMethod.Pap,
            UserName = "u"u8,
            Password = "p"u8,
            NasIdentifier = "gw"u8,
        }));
    }

    [Fact]
    public void Ms_chap_v2_accept_gives_the_success_message_and_the_mppe_keys_our_own_derivation_makes()
    {
        // What a RADIUS server computes from the request: S= and the RFC 3079 server-side keys.
        var passwordHash = MsChapCrypto.NtPasswordHash("clientPass");
        var passwordHashHash = new byte[16];
        MsChapCrypto.HashNtPasswordHash(passwordHash, passwordHashHash);
        var authenticatorResponse = new byte[20];
        MsChapCrypto.GenerateAuthenticatorResponse(passwordHash, NtResponse, PeerChallenge, AuthenticatorChallenge, "User"u8, authenticatorResponse);
        var master = new byte[16];
        MppeKeyDerivation.GetMasterKey(passwordHashHash, NtResponse, master);
        var serverSend = new byte[16];
        var serverReceive = new byte[16];
        MppeKeyDerivation.GetAsymmetricStartKey(master, serverSend, isSend: true, isServer: true);
        MppeKeyDerivation.GetAsymmetricStartKey(master, serverReceive, isSend: false, isServer: true);

        var success = Encoding.ASCII.GetBytes(MsChapCrypto.FormatAuthenticatorResponse(authenticatorResponse));
        var answer = Answer(RadiusCode.AccessAccept, 0x11, (ref RadiusPacketWriter w) =>
        {
            w.AddMicrosoft(MicrosoftAttributeType.MsChap2Success, [0x1a, .. success]);
            EncryptKey(ref w, MicrosoftAttributeType.MsMppeSendKey, serverSend, 0x8001);
            EncryptKey(ref w, MicrosoftAttributeType.MsMppeRecvKey, serverReceive, 0x8002);
            w.AddMicrosoftUInt32(MicrosoftAttributeType.MsMppeEncryptionPolicy, 2);
            w.AddMicrosoftUInt32(MicrosoftAttributeType.MsMppeEncryptionTypes, 4);
            w.Add(RadiusAttributeType.FramedIpAddress, [192, 168, 77, 9]);
            w.AddUInt32(RadiusAttributeType.SessionTimeout, 3600);
            w.AddUInt32(RadiusAttributeType.IdleTimeout, 600);
            w.Add(RadiusAttributeType.Class, "first"u8);
            w.Add(RadiusAttributeType.Class, "second"u8);
        });

        Assert.Equal(RadiusAnswerError.None, RadiusAccessAnswer.TryRead(answer, 0x11, RequestAuthenticator, Secret, AuthMethod.MsChapV2, out var read));
        Assert.NotNull(read);
        Assert.True(read.Accepted);
        Assert.Equal(success, read.MsChap2Success);
        Assert.Equal(authenticatorResponse, read.AuthenticatorResponse);

        // The keys the client's side derives locally pair with what RADIUS handed us.
        var material = new MppeKeyMaterial(AuthMethod.MsChapV2, passwordHash, passwordHashHash, [], NtResponse);
        var local = MppeKeyDerivation.DeriveStartKeys(material, isAuthenticator: true, MppeKeyStrength.Bits128);
        Assert.Equal(local.Send, read.MppeSendKey);
        Assert.Equal(local.Receive, read.MppeRecvKey);
        Assert.Equal(2u, read.MppeEncryptionPolicy);
        Assert.Equal(4u, read.MppeEncryptionTypes);
        Assert.Equal(IPAddress.Parse("192.168.77.9"), read.FramedIpAddress);
        Assert.Equal(3600u, read.SessionTimeout);
        Assert.Equal(600u, read.IdleTimeout);
        Assert.Equal(["first"u8.ToArray(), "second"u8.ToArray()], read.Classes);
        Assert.Null(read.MsChapErrorCode);
    }

    [Fact]
    public void The_python_accept_vector_decrypts_to_its_keys()
    {
        Assert.Equal(RadiusAnswerError.None, RadiusAccessAnswer.TryRead(AccessAcceptWithKeys, 0x2a, RequestAuthenticator, Secret, AuthMethod.MsChapV2, out var read));
        Assert.NotNull(read);
        Assert.Equal(SendKey, read.MppeSendKey);
        Assert.Equal(RecvKey, read.MppeRecvKey);
        Assert.Null(read.FramedIpAddress);
        Assert.Null(read.SessionTimeout);
        Assert.Empty(read.Classes);
    }

    [Fact]
    public void Reject_gives_the_ms_chap_error_code_and_the_reply_message()
    {
        var answer = Answer(RadiusCode.AccessReject, 0x11, (ref RadiusPacketWriter w) =>
        {
            w.AddMicrosoft(MicrosoftAttributeType.MsChapError, [0x1a, .. "E=649 R=0 C=00112233445566778899AABBCCDDEEFF V=3 M=no dial-in"u8]);
            w.Add(RadiusAttributeType.ReplyMessage, "Dial-in "u8);
            w.Add(RadiusAttributeType.ReplyMessage, "denied"u8);
        });

        Assert.Equal(RadiusAnswerError.None, RadiusAccessAnswer.TryRead(answer, 0x11, RequestAuthenticator, Secret, AuthMethod.MsChapV2, out var read));
        Assert.NotNull(read);
        Assert.False(read.Accepted);
        Assert.Equal(649, read.MsChapErrorCode);
        Assert.False(read.MsChapRetryAllowed);
        Assert.Equal("Dial-in denied", read.ReplyMessage);
        Assert.Null(read.MppeSendKey);
    }

    [Fact]
    public void Bad_answers_are_refused_with_a_reason()
    {
        static RadiusAnswerError Read(byte[] packet, byte identifier = 0x11) =>
            RadiusAccessAnswer.TryRead(packet, identifier, RequestAuthenticator, Secret, AuthMethod.MsChapV2, out _);
        var good = Answer(RadiusCode.AccessAccept, 0x11, (ref RadiusPacketWriter w) => w.AddUInt32(RadiusAttributeType.SessionTimeout, 5));
        Assert.Equal(RadiusAnswerError.None, Read(good));
        Assert.Equal(RadiusAnswerError.WrongIdentifier, Read(good, 0x12));
        Assert.Equal(RadiusAnswerError.Malformed, Read(good[..19]));
        Assert.Equal(RadiusAnswerError.BadResponseAuthenticator,
            RadiusAccessAnswer.TryRead(good, 0x11, RequestAuthenticator, "not the secret"u8, AuthMethod.MsChapV2, out _));
        Assert.Equal(RadiusAnswerError.UnexpectedCode, Read(Answer(RadiusCode.AccessChallenge, 0x11, (ref RadiusPacketWriter w) => { })));
        Assert.Equal(RadiusAnswerError.MissingMessageAuthenticator, Read(Answer(RadiusCode.AccessAccept, 0x11, (ref RadiusPacketWriter w) => { }, messageAuthenticator: false)));
        Assert.Equal(RadiusAnswerError.MissingMessageAuthenticator, Read(Answer(RadiusCode.AccessReject, 0x11, (ref RadiusPacketWriter w) => { }, messageAuthenticator: false)));
        Assert.Equal(RadiusAnswerError.MalformedAttribute, Read(Answer(RadiusCode.AccessAccept, 0x11, (ref RadiusPacketWriter w) => w.Add(RadiusAttributeType.FramedIpAddress, [1, 2, 3]))));
        Assert.Equal(RadiusAnswerError.MalformedAttribute, Read(Answer(RadiusCode.AccessAccept, 0x11, (ref RadiusPacketWriter w) => w.Add(RadiusAttributeType.SessionTimeout, [0, 0, 1]))));
        Assert.Equal(RadiusAnswerError.MalformedAttribute, Read(Answer(RadiusCode.AccessAccept, 0x11, (ref RadiusPacketWriter w) => w.AddMicrosoft(MicrosoftAttributeType.MsChap2Success, [0x1a, .. "S=XYZ"u8]))));
        Assert.Equal(RadiusAnswerError.UndecryptableMppeKey, Read(Answer(RadiusCode.AccessAccept, 0x11, (ref RadiusPacketWriter w) => w.AddMicrosoft(MicrosoftAttributeType.MsMppeSendKey, new byte[17]))));

        // Tampering after signing: the Message-Authenticator no longer matches even with the secret's MD5 redone.
        var tampered = (byte[])good.Clone();
        tampered[^7] ^= 0x01; // inside Session-Timeout's value
        RadiusAuthenticator.ComputeResponseAuthenticator(tampered, RequestAuthenticator, Secret, tampered.AsSpan(4, 16));
        Assert.Equal(RadiusAnswerError.BadMessageAuthenticator, Read(tampered));
    }

    private static byte[] Request(in RadiusLogin login)
    {
        var buffer = new byte[RadiusWire.MaxPacketLength];
        var length = RadiusAccessRequest.Write(buffer, 0x42, RequestAuthenticator, Secret, login);
        Assert.True(length > 0);
        return buffer[..length];
    }

    private static uint UInt32(RadiusPacket packet, RadiusAttributeType type)
    {
        Assert.True(packet.TryGetAttribute(type, out var value));
        return BinaryPrimitives.ReadUInt32BigEndian(value);
    }
}
