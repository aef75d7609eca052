using System.Buffers.Binary;
using System.Net;
using Firmware.Protocol.Radius;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Radius;

/// <summary>Accounting-Request encoding (RFC 2866, Gigawords from RFC 2869) and the client transaction carrying it.</summary>
public sealed class RadiusAccountingRequestTests
{
    private static readonly byte[] Secret = "accounting-secret"u8.ToArray();

    private static readonly AccountingRecord Stop = new()
    {
        StatusType = AcctStatusType.Stop,
        SessionId = "5F3A2B1C00000007",
        UserName = "alice",
        Authentic = AcctAuthentic.Radius,
        NasPort = 41,
        FramedAddress = IPAddress.Parse("10.0.0.9"),
        CallingStationId = "198.51.100.7",
        CalledStationId = "203.0.113.1",
        Classes = ["branch-7"u8.ToArray(), [0, 1, 2]],
        SessionSeconds = 3600,
        // 20 GiB and 17 bytes in (5 × 2^32 + 17), 1 byte short of 4 GiB out: the high part goes in Gigawords.
        InputOctets = (5UL << 32) + 17,
        OutputOctets = uint.MaxValue,
        InputPackets = 5_000_000_000,
        OutputPackets = 12,
        TerminateCause = AcctTerminateCause.IdleTimeout,
    };

    private static RadiusPacket Write(AccountingRecord record, byte identifier = 9, uint delay = 0)
    {
        var buffer = new byte[RadiusWire.MaxPacketLength];
        var length = RadiusAccountingRequest.Write(buffer, identifier, Secret, record, [192, 0, 2, 1], "gw"u8, delay);
        Assert.True(length > RadiusWire.HeaderLength);
        Assert.True(RadiusPacket.TryParse(buffer.AsSpan(0, length), out var packet, out _));
        return packet;
    }

    private static uint UInt32(RadiusPacket packet, RadiusAttributeType type)
    {
        Assert.True(packet.TryGetAttribute(type, out var value), $"{type} present");
        return BinaryPrimitives.ReadUInt32BigEndian(value);
    }

    [Fact]
    public void A_stop_carries_the_session_its_usage_with_gigawords_and_the_cause_and_verifies_as_rfc_2866_says()
    {
        var packet = Write(Stop, delay: 4);

        Assert.Equal(RadiusCode.AccountingRequest, packet.Code);
        // The Request Authenticator is MD5 over the packet with a zero one, plus the secret (RFC 2866 section 3).
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyRequest(packet, Secret));
        Assert.Equal(RadiusVerifyError.BadRequestAuthenticator, RadiusAuthenticator.VerifyRequest(packet, "other"u8));
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.FindMessageAuthenticator(packet, out _));
        Assert.Equal((uint)AcctStatusType.Stop, UInt32(packet, RadiusAttributeType.AcctStatusType));
        Assert.True(packet.TryGetAttribute(RadiusAttributeType.AcctSessionId, out var id));
        Assert.Equal("5F3A2B1C00000007"u8.ToArray(), id.ToArray());
        Assert.True(packet.TryGetAttribute(RadiusAttributeType.UserName, out var user));
        Assert.Equal("alice"u8.ToArray(), user.ToArray());
        Assert.True(packet.TryGetAttribute(RadiusAttributeType.FramedIpAddress, out var framed));
        Assert.Equal(new byte[] { 10, 0, 0, 9 }, framed.ToArray());
        Assert.Equal(41u, UInt32(packet, RadiusAttributeType.NasPort));
        Assert.Equal(RadiusWire.NasPortTypeVirtual, UInt32(packet, RadiusAttributeType.NasPortType));
        Assert.Equal((uint)AcctAuthentic.Radius, UInt32(packet, RadiusAttributeType.AcctAuthentic));
        Assert.Equal(4u, UInt32(packet, RadiusAttributeType.AcctDelayTime));
        Assert.Equal(3600u, UInt32(packet, RadiusAttributeType.AcctSessionTime));
        Assert.Equal(17u, UInt32(packet, RadiusAttributeType.AcctInputOctets));
        Assert.Equal(5u, UInt32(packet, RadiusAttributeType.AcctInputGigawords));
        Assert.Equal(uint.MaxValue, UInt32(packet, RadiusAttributeType.AcctOutputOctets));
        Assert.Equal(0u, UInt32(packet, RadiusAttributeType.AcctOutputGigawords));
        Assert.Equal(uint.MaxValue, UInt32(packet, RadiusAttributeType.AcctInputPackets));
        Assert.Equal(12u, UInt32(packet, RadiusAttributeType.AcctOutputPackets));
        Assert.Equal((uint)AcctTerminateCause.IdleTimeout, UInt32(packet, RadiusAttributeType.AcctTerminateCause));
        var classes = new List<byte[]>();
        foreach (var attribute in packet.Attributes)
        {
            if (attribute.Type == (byte)RadiusAttributeType.Class)
            {
                classes.Add(attribute.Value.ToArray());
            }
        }
        Assert.Equal(Stop.Classes, classes);
    }

    [Fact]
    public void A_start_has_no_usage_and_no_cause()
    {
        var packet = Write(Stop with { StatusType = AcctStatusType.Start });

        Assert.Equal((uint)AcctStatusType.Start, UInt32(packet, RadiusAttributeType.AcctStatusType));
        foreach (var type in new[] { RadiusAttributeType.AcctSessionTime, RadiusAttributeType.AcctInputOctets, RadiusAttributeType.AcctOutputPackets, RadiusAttributeType.AcctTerminateCause })
        {
            Assert.False(packet.TryGetAttribute(type, out _), $"{type} in a Start");
        }
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyRequest(packet, Secret));
    }

    [Fact]
    public void A_long_user_name_is_cut_at_a_whole_character_to_fit_its_attribute()
    {
        var packet = Write(Stop with { UserName = new string('é', 200) });

        Assert.True(packet.TryGetAttribute(RadiusAttributeType.UserName, out var user));
        Assert.Equal(252, user.Length); // 126 two-byte characters: the 127th would not fit 253 bytes
        Assert.Equal(new string('é', 126), System.Text.Encoding.UTF8.GetString(user));
    }

    [Fact]
    public void The_transaction_checks_an_accounting_response_against_the_computed_request_authenticator()
    {
        var time = new FakeTimeProvider();
        var slot = new RadiusServerSlot(Secret, new RadiusIdentifierPool());
        byte[]? sent = null;
        using var transaction = new RadiusClientTransaction([slot],
            (destination, identifier, _, secret) => RadiusAccountingRequest.Write(destination, identifier, secret, Stop, [], "gw"u8, 0),
            d => d.Fill(0x55), new RadiusRetryPolicy(), time);
        transaction.Send += o => sent = o.Datagram.ToArray();
        transaction.Start();
        Assert.NotNull(sent);

        // An answer signed with the random authenticator the transaction drew (not the computed one) is refused.
        Assert.False(transaction.OnDatagram(0, Response(sent, RadiusCode.AccountingResponse, authenticator: Enumerable.Repeat((byte)0x55, 16).ToArray())));
        Assert.Equal(RadiusVerifyError.BadResponseAuthenticator, transaction.LastRefusal);
        // An Access-Accept is no answer to an Accounting-Request, however well signed.
        Assert.False(transaction.OnDatagram(0, Response(sent, RadiusCode.AccessAccept)));
        Assert.Equal(RadiusVerifyError.UnexpectedCode, transaction.LastRefusal);
        // Servers answer accounting without a Message-Authenticator (RFC 2866 has none): taken.
        Assert.True(transaction.OnDatagram(0, Response(sent, RadiusCode.AccountingResponse)));
        Assert.Equal(RadiusTransactionStatus.Answered, transaction.Status);
    }

    private static byte[] Response(byte[] request, RadiusCode code, byte[]? authenticator = null)
    {
        var buffer = new byte[64];
        var writer = new RadiusPacketWriter(buffer, code, request[1], default);
        if (code != RadiusCode.AccountingResponse)
        {
            writer.AddMessageAuthenticator();
        }
        var length = writer.Finish();
        Assert.True(RadiusAuthenticator.Sign(buffer.AsSpan(0, length), Secret, authenticator ?? request.AsSpan(4, 16)));
        return buffer[..length];
    }
}

/// <summary>Status-Server (RFC 5997): signed by its Message-Authenticator, answered by Access-Accept or Accounting-Response.</summary>
public sealed class RadiusStatusServerTests
{
    private static readonly byte[] Secret = "probe-secret"u8.ToArray();

    [Fact]
    public void A_probe_verifies_by_its_message_authenticator_and_an_access_accept_or_accounting_response_answers_it()
    {
        var buffer = new byte[RadiusWire.MaxPacketLength];
        var authenticator = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        var length = RadiusStatusServer.Write(buffer, 7, authenticator, Secret, [], "gw"u8);
        Assert.True(RadiusPacket.TryParse(buffer.AsSpan(0, length), out var probe, out _));
        Assert.Equal(RadiusCode.StatusServer, probe.Code);
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyRequest(probe, Secret));
        Assert.Equal(RadiusVerifyError.BadMessageAuthenticator, RadiusAuthenticator.VerifyRequest(probe, "other"u8));

        foreach (var (code, taken) in new[] { (RadiusCode.AccessAccept, true), (RadiusCode.AccountingResponse, true), (RadiusCode.AccessReject, false) })
        {
            var slot = new RadiusServerSlot(Secret, new RadiusIdentifierPool());
            byte[]? sent = null;
            using var transaction = new RadiusClientTransaction([slot],
                (d, id, auth, secret) => RadiusStatusServer.Write(d, id, auth, secret, [], "gw"u8), d => d.Fill(3), new RadiusRetryPolicy(), new FakeTimeProvider());
            transaction.Send += o => sent = o.Datagram.ToArray();
            transaction.Start();
            var answer = new byte[64];
            // FreeRADIUS 3.2.1 answers without a Message-Authenticator: the Response Authenticator is enough here.
            var writer = new RadiusPacketWriter(answer, code, sent![1], default);
            var answerLength = writer.Finish();
            Assert.True(RadiusAuthenticator.Sign(answer.AsSpan(0, answerLength), Secret, sent.AsSpan(4, 16)));
            Assert.Equal(taken, transaction.OnDatagram(0, answer.AsSpan(0, answerLength)));
        }
    }
}
