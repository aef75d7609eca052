using Firmware.Protocol.Radius;
using static Firmware.Protocol.Tests.Radius.RadiusTestVectors;

namespace Firmware.Protocol.Tests.Radius;

/// <summary>Request, Response, Accounting and Message-Authenticator against known answers, and tampering.</summary>
public sealed class RadiusAuthenticatorTests
{
    [Fact]
    public void Rfc_2865_example_accept_has_the_published_response_authenticator()
    {
        Assert.True(RadiusPacket.TryParse(Rfc2865.AccessAccept, out var accept, out _));
        // The 1997 example predates Message-Authenticator, so only with the requirement off does it pass.
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyResponse(accept, 0, Rfc2865.RequestAuthenticator, Rfc2865.Secret, requireMessageAuthenticator: false));
        Assert.Equal(RadiusVerifyError.MissingMessageAuthenticator, RadiusAuthenticator.VerifyResponse(accept, 0, Rfc2865.RequestAuthenticator, Rfc2865.Secret));

        var rebuilt = (byte[])Rfc2865.AccessAccept.Clone();
        rebuilt.AsSpan(4, 16).Clear();
        Assert.True(RadiusAuthenticator.Sign(rebuilt, Rfc2865.Secret, Rfc2865.RequestAuthenticator));
        Assert.Equal(Rfc2865.AccessAccept, rebuilt);
    }

    [Fact]
    public void Access_request_message_authenticator_matches_the_python_vector()
    {
        var buffer = new byte[64];
        var writer = new RadiusPacketWriter(buffer, RadiusCode.AccessRequest, 0x2a, RequestAuthenticator);
        writer.Add(RadiusAttributeType.UserName, "alice"u8);
        writer.AddMessageAuthenticator();
        var length = writer.Finish();
        Assert.True(RadiusAuthenticator.Sign(buffer.AsSpan(0, length), Secret));

        Assert.Equal(AccessRequestWithMessageAuthenticator, buffer[..length]);
        Assert.True(RadiusPacket.TryParse(buffer.AsSpan(0, length), out var request, out _));
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyRequest(request, Secret));
        Assert.Equal(RadiusVerifyError.BadMessageAuthenticator, RadiusAuthenticator.VerifyRequest(request, "other"u8));
    }

    [Fact]
    public void Answer_signed_with_keys_matches_the_python_vector_and_verifies()
    {
        var buffer = new byte[200];
        var writer = new RadiusPacketWriter(buffer, RadiusCode.AccessAccept, 0x2a, default);
        var send = writer.ReserveVendor(RadiusWire.MicrosoftVendorId, (byte)MicrosoftAttributeType.MsMppeSendKey, RadiusAttributeCrypto.EncryptedMppeKeyLength(16));
        RadiusAttributeCrypto.EncryptMppeKey(SendKey, 0x8123, Secret, RequestAuthenticator, send);
        var recv = writer.ReserveVendor(RadiusWire.MicrosoftVendorId, (byte)MicrosoftAttributeType.MsMppeRecvKey, RadiusAttributeCrypto.EncryptedMppeKeyLength(16));
        RadiusAttributeCrypto.EncryptMppeKey(RecvKey, 0x8456, Secret, RequestAuthenticator, recv);
        writer.AddMessageAuthenticator();
        var length = writer.Finish();
        Assert.True(RadiusAuthenticator.Sign(buffer.AsSpan(0, length), Secret, RequestAuthenticator));

        Assert.Equal(AccessAcceptWithKeys, buffer[..length]);
        Assert.True(RadiusPacket.TryParse(AccessAcceptWithKeys, out var accept, out _));
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyResponse(accept, 0x2a, RequestAuthenticator, Secret));
    }

    [Fact]
    public void Accounting_request_authenticator_matches_the_python_vector()
    {
        var buffer = new byte[64];
        var writer = new RadiusPacketWriter(buffer, RadiusCode.AccountingRequest, 7, RequestAuthenticator);
        writer.AddUInt32(RadiusAttributeType.AcctStatusType, 1);
        writer.Add(RadiusAttributeType.AcctSessionId, "s1"u8);
        var length = writer.Finish();
        Assert.True(RadiusAuthenticator.Sign(buffer.AsSpan(0, length), Secret));

        Assert.Equal(AccountingRequest, buffer[..length]);
        Assert.True(RadiusPacket.TryParse(AccountingRequest, out var request, out _));
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyRequest(request, Secret));
        var tampered = (byte[])AccountingRequest.Clone();
        tampered[^1] ^= 1;
        Assert.True(RadiusPacket.TryParse(tampered, out var bad, out _));
        Assert.Equal(RadiusVerifyError.BadRequestAuthenticator, RadiusAuthenticator.VerifyRequest(bad, Secret));
    }

    [Fact]
    public void Every_flipped_bit_of_an_answer_is_refused()
    {
        for (var bit = 0; bit < AccessAcceptWithKeys.Length * 8; bit++)
        {
            var tampered = (byte[])AccessAcceptWithKeys.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            if (!RadiusPacket.TryParse(tampered, out var packet, out _))
            {
                continue;
            }
            Assert.NotEqual(RadiusVerifyError.None, RadiusAuthenticator.VerifyResponse(packet, 0x2a, RequestAuthenticator, Secret));
        }
    }

    [Fact]
    public void Answers_are_refused_with_a_clear_reason()
    {
        Assert.True(RadiusPacket.TryParse(AccessAcceptWithKeys, out var accept, out _));
        Assert.Equal(RadiusVerifyError.WrongIdentifier, RadiusAuthenticator.VerifyResponse(accept, 0x2b, RequestAuthenticator, Secret));
        Assert.Equal(RadiusVerifyError.BadResponseAuthenticator, RadiusAuthenticator.VerifyResponse(accept, 0x2a, RequestAuthenticator, "wrong"u8));
        Assert.Equal(RadiusVerifyError.BadResponseAuthenticator, RadiusAuthenticator.VerifyResponse(accept, 0x2a, new byte[16], Secret));
        Assert.True(RadiusPacket.TryParse(AccessRequestWithMessageAuthenticator, out var request, out _));
        Assert.Equal(RadiusVerifyError.UnexpectedCode, RadiusAuthenticator.VerifyResponse(request, 0x2a, RequestAuthenticator, Secret));

        // BlastRADIUS: a correct Response Authenticator is not enough without a Message-Authenticator.
        Assert.Equal(RadiusVerifyError.MissingMessageAuthenticator, Verify(Answer((RadiusAttributeType.ReplyMessage, "hi"u8.ToArray()))));
        Assert.Equal(RadiusVerifyError.None, Verify(Answer(MessageAuthenticator)));
        Assert.Equal(RadiusVerifyError.DuplicateMessageAuthenticator, Verify(Answer(MessageAuthenticator, MessageAuthenticator)));
        Assert.Equal(RadiusVerifyError.MessageAuthenticatorWrongLength, Verify(Answer((RadiusAttributeType.MessageAuthenticator, new byte[15]))));

        // Right Response Authenticator, wrong Message-Authenticator: signed, then the MA changed and the
        // Response Authenticator recomputed over the changed packet (what a forger without the secret cannot
        // do, but it isolates the MA check).
        var packet = Answer(MessageAuthenticator);
        packet[^1] ^= 0x40;
        RadiusAuthenticator.ComputeResponseAuthenticator(packet, RequestAuthenticator, Secret, packet.AsSpan(4, 16));
        Assert.Equal(RadiusVerifyError.BadMessageAuthenticator, Verify(packet));
    }

    [Fact]
    public void Response_message_authenticator_uses_the_request_authenticator()
    {
        // Computed over the packet with its own Response Authenticator would be wrong (RFC 3579 section 3.2).
        var packet = Answer(MessageAuthenticator);
        Assert.True(RadiusPacket.TryParse(packet, out var parsed, out _));
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.FindMessageAuthenticator(parsed, out var offset));
        var withRequest = new byte[16];
        RadiusAuthenticator.ComputeMessageAuthenticator(packet, RequestAuthenticator, offset, Secret, withRequest);
        Assert.Equal(withRequest, packet[(offset + 2)..(offset + 18)]);
        var withResponse = new byte[16];
        RadiusAuthenticator.ComputeMessageAuthenticator(packet, packet.AsSpan(4, 16), offset, Secret, withResponse);
        Assert.NotEqual(withRequest, withResponse);
    }

    [Fact]
    public void Request_authenticator_comes_from_the_injected_source()
    {
        var calls = 0;
        var authenticator = new byte[16];
        RadiusAuthenticator.NewRequestAuthenticator(destination =>
        {
            calls++;
            Assert.Equal(16, destination.Length);
            destination.Fill(0xA5);
        }, authenticator);
        Assert.Equal(1, calls);
        Assert.All(authenticator, b => Assert.Equal(0xA5, b));
    }

    private static (RadiusAttributeType, byte[]) MessageAuthenticator => (RadiusAttributeType.MessageAuthenticator, new byte[16]);

    /// <summary>An Access-Accept to <see cref="RequestAuthenticator"/>, signed; packets that
    /// <see cref="RadiusAuthenticator.Sign"/> refuses (two or a short Message-Authenticator) still get a
    /// correct Response Authenticator so the check under test is the one that trips.</summary>
    private static byte[] Answer(params (RadiusAttributeType Type, byte[] Value)[] attributes)
    {
        var buffer = new byte[200];
        var writer = new RadiusPacketWriter(buffer, RadiusCode.AccessAccept, 0x2a, RequestAuthenticator);
        foreach (var (type, value) in attributes)
        {
            writer.Add(type, value);
        }
        var length = writer.Finish();
        Assert.True(length > 0);
        var packet = buffer[..length];
        if (!RadiusAuthenticator.Sign(packet, Secret, RequestAuthenticator))
        {
            RadiusAuthenticator.ComputeResponseAuthenticator(packet, RequestAuthenticator, Secret, packet.AsSpan(4, 16));
        }
        return packet;
    }

    private static RadiusVerifyError Verify(byte[] packet)
    {
        Assert.True(RadiusPacket.TryParse(packet, out var parsed, out _));
        return RadiusAuthenticator.VerifyResponse(parsed, 0x2a, RequestAuthenticator, Secret);
    }
}
