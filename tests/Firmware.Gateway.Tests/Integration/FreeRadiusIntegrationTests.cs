using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Mppe;
using Firmware.Protocol.Radius;
using Xunit.Abstractions;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// Our Access-Request and answer codec against Debian's FreeRADIUS (<see cref="FreeRadiusServer"/>), one request
/// at a time: what the gateway's RADIUS client builds on (RadiusLoginTests run the whole gateway against it).
/// </summary>
[Trait("Category", "Integration")]
[Collection(IntegrationCollection.Name)]
public sealed class FreeRadiusIntegrationTests(ITestOutputHelper output)
{
    private const string Secret = FreeRadiusServer.DefaultSecret;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private const string Users = """
        alice	Cleartext-Password := "s3cret!"
        	Framed-IP-Address = 10.9.8.7,
        	Session-Timeout = 3600,
        	Class = "pptp-class"
        """;

    [Fact]
    public void Pap_chap_and_ms_chap_v2_logins_against_freeradius()
    {
        using var server = FreeRadiusServer.Start(Users, output);
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        udp.Connect(server.EndPoint);
        byte identifier = 1;

        // PAP: accepted with the users file's reply attributes; a wrong password is rejected.
        var pap = Login(udp, identifier++, AuthMethod.Pap, "s3cret!", out var papAnswer);
        Assert.Equal(RadiusAnswerError.None, pap);
        Assert.True(papAnswer!.Accepted, server.Output);
        Assert.Equal(IPAddress.Parse("10.9.8.7"), papAnswer.FramedIpAddress);
        Assert.Equal(3600u, papAnswer.SessionTimeout);
        Assert.Equal(["pptp-class"u8.ToArray()], papAnswer.Classes);
        Assert.Equal(RadiusAnswerError.None, Login(udp, identifier++, AuthMethod.Pap, "wrong", out var papReject));
        Assert.False(papReject!.Accepted);

        // CHAP-MD5.
        Assert.Equal(RadiusAnswerError.None, Login(udp, identifier++, AuthMethod.ChapMd5, "s3cret!", out var chap));
        Assert.True(chap!.Accepted, server.Output);
        Assert.Equal(RadiusAnswerError.None, Login(udp, identifier++, AuthMethod.ChapMd5, "wrong", out var chapReject));
        Assert.False(chapReject!.Accepted);

        // MS-CHAPv2: S= and the MPPE keys equal what our own code derives from the same exchange.
        var result = Login(udp, identifier++, AuthMethod.MsChapV2, "s3cret!", out var v2, out var exchange);
        Assert.Equal(RadiusAnswerError.None, result);
        Assert.True(v2!.Accepted, server.Output);
        var passwordHash = MsChapCrypto.NtPasswordHash("s3cret!");
        var passwordHashHash = new byte[16];
        MsChapCrypto.HashNtPasswordHash(passwordHash, passwordHashHash);
        var authenticatorResponse = new byte[20];
        MsChapCrypto.GenerateAuthenticatorResponse(passwordHash, exchange.NtResponse, exchange.PeerChallenge, exchange.Challenge, "alice"u8, authenticatorResponse);
        Assert.Equal(authenticatorResponse, v2.AuthenticatorResponse);
        var local = MppeKeyDerivation.DeriveStartKeys(
            new MppeKeyMaterial(AuthMethod.MsChapV2, passwordHash, passwordHashHash, [], exchange.NtResponse),
            isAuthenticator: true, MppeKeyStrength.Bits128);
        Assert.Equal(local.Send, v2.MppeSendKey);
        Assert.Equal(local.Receive, v2.MppeRecvKey);
        Assert.NotNull(v2.MppeEncryptionPolicy);
        Assert.NotNull(v2.MppeEncryptionTypes);

        Assert.Equal(RadiusAnswerError.None, Login(udp, identifier++, AuthMethod.MsChapV2, "wrong", out var v2Reject, out _));
        Assert.False(v2Reject!.Accepted);
        Assert.Equal(691, v2Reject.MsChapErrorCode); // ERROR_AUTHENTICATION_FAILURE
        Assert.Null(v2Reject.MppeSendKey);
    }

    private readonly record struct Exchange(byte[] Challenge, byte[] PeerChallenge, byte[] NtResponse);

    private static RadiusAnswerError Login(UdpClient udp, byte identifier, AuthMethod method, string password, out RadiusAccessAnswer? answer) =>
        Login(udp, identifier, method, password, out answer, out _);

    /// <summary>What our PPP authenticator would do for a peer that knows <paramref name="password"/>: its
    /// response computed here, sent in one Access-Request, and the answer read with a deadline.</summary>
    private static RadiusAnswerError Login(UdpClient udp, byte identifier, AuthMethod method, string password, out RadiusAccessAnswer? answer, out Exchange exchange)
    {
        var secret = Encoding.ASCII.GetBytes(Secret);
        var requestAuthenticator = RandomNumberGenerator.GetBytes(16);
        var user = "alice"u8;
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        byte chapIdentifier = 0x5c;
        byte[] challenge = [];
        byte[] response = [];
        exchange = default;
        switch (method)
        {
            case AuthMethod.ChapMd5:
                challenge = RandomNumberGenerator.GetBytes(16);
                response = new byte[16];
                MsChapCrypto.ChapMd5Response(chapIdentifier, passwordBytes, challenge, response);
                break;
            case AuthMethod.MsChapV2:
                challenge = RandomNumberGenerator.GetBytes(16);
                var peerChallenge = RandomNumberGenerator.GetBytes(16);
                var ntResponse = new byte[24];
                MsChapCrypto.GenerateNtResponse(challenge, peerChallenge, user, MsChapCrypto.NtPasswordHash(password), ntResponse);
                response = [.. peerChallenge, .. new byte[8], .. ntResponse, 0];
                exchange = new Exchange(challenge, peerChallenge, ntResponse);
                break;
        }

        var packet = new byte[RadiusWire.MaxPacketLength];
        var length = RadiusAccessRequest.Write(packet, identifier, requestAuthenticator, secret, new RadiusLogin
        {
            Method = method,
            UserName = user,
            Password = method == AuthMethod.Pap ? passwordBytes : default,
            ChapIdentifier = chapIdentifier,
            Challenge = challenge,
            Response = response,
            NasIpAddress = [127, 0, 0, 1],
            NasIdentifier = "pptp-gateway-test"u8,
            CallingStationId = "192.0.2.55"u8,
        });
        Assert.True(length > 0);
        udp.Send(packet, length);

        using var cancel = new CancellationTokenSource(Deadline);
        var received = udp.ReceiveAsync(cancel.Token).AsTask().GetAwaiter().GetResult();
        return RadiusAccessAnswer.TryRead(received.Buffer, identifier, requestAuthenticator, secret, method, out answer);
    }
}
