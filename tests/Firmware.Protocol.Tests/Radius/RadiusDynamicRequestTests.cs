using System.Buffers.Binary;
using System.Net;
using CsCheck;
using Firmware.Protocol.Radius;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Radius;

/// <summary>
/// Disconnect-Request and CoA-Request (RFC 5176) as a NAS reads, judges and answers them. RFC 5176 gives no
/// packet examples; the known answers here were computed with python3's hashlib and hmac, not with our code:
/// <code>
/// sec = b"s3cr3t-shared"; attr = lambda t, v: bytes([t, len(v) + 2]) + v
/// pkt = lambda code, ident, auth, a: bytes([code, ident]) + struct.pack(">H", 20 + len(a)) + auth + a
/// a = attr(1, b"alice") + attr(44, b"1a2b3c4d00000001") + attr(33, b"p1") + attr(33, b"p2")
/// ra = md5(pkt(40, 0x11, bytes(16), a) + sec); request = pkt(40, 0x11, ra, a)
/// answer(code, a2): MA = hmac(sec, pkt(code, 0x11, ra, a2 with MA zero)), then authenticator = md5(packet with ra + sec)
/// ACK: answer(41, attr(80, zeros) + attr(33, b"p1") + attr(33, b"p2"))
/// NAK: answer(42, attr(80, zeros) + attr(101, uint32 503) + attr(33, b"p1") + attr(33, b"p2"))
/// </code>
/// </summary>
public sealed class RadiusDynamicRequestTests
{
    private static readonly byte[] Secret = "s3cr3t-shared"u8.ToArray();
    private static readonly IPAddress OurNasIp = IPAddress.Parse("192.0.2.1");

    private static byte[] KnownRequest => Convert.FromHexString(
        "2811003515365c53d7478fb3803d25bfdfd6b7b40107616c6963652c12316132623363346430303030303030312104703121047032");

    private static byte[] KnownAck => Convert.FromHexString(
        "2911002e7754c10c4c6d062d2942296fe1c040615012916b9657b71c3fcf48cf5fed4aab119f2104703121047032");

    private static byte[] KnownNak503 => Convert.FromHexString(
        "2a1100342e1ac15d1e831d1c545fbf8b9577551a50129e94fbef2c10966304f02c4ab5f3c4046506000001f72104703121047032");

    private delegate void Attributes(ref RadiusPacketWriter writer);

    /// <summary>A request as a RADIUS server signs it: the computed Request Authenticator (RFC 5176 section 2.3).</summary>
    private static byte[] Request(RadiusCode code, Attributes attributes, byte identifier = 7, byte[]? secret = null, bool messageAuthenticator = false)
    {
        var buffer = new byte[RadiusWire.MaxPacketLength];
        var writer = new RadiusPacketWriter(buffer, code, identifier, default);
        attributes(ref writer);
        if (messageAuthenticator)
        {
            writer.AddMessageAuthenticator();
        }
        var length = writer.Finish();
        Assert.True(length > 0);
        Assert.True(RadiusAuthenticator.Sign(buffer.AsSpan(0, length), secret ?? Secret));
        return buffer[..length];
    }

    private static RadiusDynamicRequest Read(byte[] datagram)
    {
        Assert.Equal(RadiusVerifyError.None, RadiusDynamicRequest.TryRead(datagram, Secret, out var request));
        return request!;
    }

    private static void Text(ref RadiusPacketWriter writer, RadiusAttributeType type, string value) =>
        writer.Add(type, System.Text.Encoding.UTF8.GetBytes(value));

    [Fact]
    public void Our_signing_builds_the_independently_computed_request()
    {
        var built = Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) =>
        {
            Text(ref w, RadiusAttributeType.UserName, "alice");
            Text(ref w, RadiusAttributeType.AcctSessionId, "1a2b3c4d00000001");
            w.Add(RadiusAttributeType.ProxyState, "p1"u8);
            w.Add(RadiusAttributeType.ProxyState, "p2"u8);
        }, identifier: 0x11);

        Assert.Equal(KnownRequest, built);
    }

    [Fact]
    public void The_known_request_reads_with_its_session_identification_and_proxy_states()
    {
        var request = Read(KnownRequest);

        Assert.True(request.IsDisconnect);
        Assert.Equal(0x11, request.Identifier);
        Assert.Equal(new RadiusSessionSelector("alice", "1a2b3c4d00000001", null, null), request.Selector);
        Assert.Equal(["p1"u8.ToArray(), "p2"u8.ToArray()], request.ProxyStates);
        Assert.Null(request.Refusal);
        Assert.Null(request.Judge(OurNasIp, "pptp-gateway", out _));
        Assert.Equal("user 'alice', Acct-Session-Id 1a2b3c4d00000001", request.Selector.ToString());
    }

    [Fact]
    public void Ack_and_nak_match_the_independently_computed_answers_byte_for_byte()
    {
        var request = Read(KnownRequest);
        var buffer = new byte[RadiusWire.MaxPacketLength];

        var ack = request.WriteAnswer(buffer, null, Secret);
        Assert.Equal(KnownAck, buffer[..ack]);
        var nak = request.WriteAnswer(buffer, RadiusErrorCause.SessionContextNotFound, Secret);
        Assert.Equal(KnownNak503, buffer[..nak]);

        // And our own client-side check accepts them as answers to that request.
        Assert.True(RadiusPacket.TryParse(KnownNak503, out var parsed, out _));
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyResponse(parsed, 0x11, request.Authenticator, Secret));
    }

    [Fact]
    public void Coa_answers_are_coa_ack_and_coa_nak()
    {
        var request = Read(Request(RadiusCode.CoaRequest, (ref RadiusPacketWriter w) =>
        {
            Text(ref w, RadiusAttributeType.UserName, "alice");
            w.AddUInt32(RadiusAttributeType.SessionTimeout, 2);
        }));
        var buffer = new byte[RadiusWire.MaxPacketLength];

        Assert.Equal(TimeSpan.FromSeconds(2), request.SessionTimeout);
        Assert.Null(request.IdleTimeout);
        Assert.Null(request.Judge(null, "pptp-gateway", out _));
        Assert.True(request.WriteAnswer(buffer, null, Secret) > 0);
        Assert.Equal((byte)RadiusCode.CoaAck, buffer[0]);
        var nak = request.WriteAnswer(buffer, RadiusErrorCause.UnsupportedAttribute, Secret);
        Assert.True(RadiusPacket.TryParse(buffer.AsSpan(0, nak), out var parsed, out _));
        Assert.Equal(RadiusCode.CoaNak, parsed.Code);
        Assert.True(parsed.TryGetAttribute(RadiusAttributeType.ErrorCause, out var cause));
        Assert.Equal(401u, BinaryPrimitives.ReadUInt32BigEndian(cause));
        Assert.Equal(RadiusVerifyError.None, RadiusAuthenticator.VerifyResponse(parsed, 7, request.Authenticator, Secret));
    }

    [Fact]
    public void A_wrong_secret_a_tampered_byte_or_a_bad_message_authenticator_is_not_a_request()
    {
        Assert.Equal(RadiusVerifyError.BadRequestAuthenticator, RadiusDynamicRequest.TryRead(KnownRequest, "another"u8, out var none));
        Assert.Null(none);

        var tampered = KnownRequest;
        tampered[^1] ^= 1;
        Assert.Equal(RadiusVerifyError.BadRequestAuthenticator, RadiusDynamicRequest.TryRead(tampered, Secret, out _));

        var signed = Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) => Text(ref w, RadiusAttributeType.UserName, "alice"),
            messageAuthenticator: true);
        Assert.Equal(RadiusVerifyError.None, RadiusDynamicRequest.TryRead(signed, Secret, out _));
        // Recompute the Request Authenticator over a broken Message-Authenticator: only the HMAC is wrong now.
        signed[^1] ^= 1;
        RadiusAuthenticator.ComputeResponseAuthenticator(signed, new byte[16], Secret, signed.AsSpan(4, 16));
        Assert.Equal(RadiusVerifyError.BadMessageAuthenticator, RadiusDynamicRequest.TryRead(signed, Secret, out _));
    }

    [Theory]
    [InlineData(RadiusCode.AccessRequest)]
    [InlineData(RadiusCode.AccountingRequest)]
    [InlineData(RadiusCode.DisconnectAck)]
    [InlineData(RadiusCode.CoaNak)]
    public void Other_codes_are_not_dynamic_authorization_requests(RadiusCode code)
    {
        // Signed as an Accounting-Request: the code is what is wrong, not the authenticator.
        var datagram = Request(RadiusCode.AccountingRequest, (ref RadiusPacketWriter w) => Text(ref w, RadiusAttributeType.UserName, "alice"));
        datagram[0] = (byte)code;

        Assert.Equal(RadiusVerifyError.UnexpectedCode, RadiusDynamicRequest.TryRead(datagram, Secret, out _));
    }

    [Fact]
    public void Nas_identification_must_be_ours_when_given()
    {
        var byIp = Read(Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) =>
        {
            w.Add(RadiusAttributeType.NasIpAddress, [192, 0, 2, 1]);
            Text(ref w, RadiusAttributeType.UserName, "alice");
        }));
        Assert.Null(byIp.Judge(OurNasIp, null, out _));
        Assert.Equal(RadiusErrorCause.NasIdentificationMismatch, byIp.Judge(IPAddress.Parse("192.0.2.2"), null, out var why));
        Assert.Contains("192.0.2.1 is not this NAS (192.0.2.2)", why, StringComparison.Ordinal);
        Assert.Equal(RadiusErrorCause.NasIdentificationMismatch, byIp.Judge(null, "pptp-gateway", out _));

        var byName = Read(Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) =>
        {
            Text(ref w, RadiusAttributeType.NasIdentifier, "branch-7");
            Text(ref w, RadiusAttributeType.UserName, "alice");
        }));
        Assert.Null(byName.Judge(null, "branch-7", out _));
        Assert.Equal(RadiusErrorCause.NasIdentificationMismatch, byName.Judge(OurNasIp, "pptp-gateway", out _));
    }

    [Fact]
    public void Without_session_identification_the_answer_is_missing_attribute()
    {
        var request = Read(Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) => Text(ref w, RadiusAttributeType.NasIdentifier, "pptp-gateway")));

        Assert.True(request.Selector.IsEmpty);
        Assert.Equal(RadiusErrorCause.MissingAttribute, request.Judge(null, "pptp-gateway", out _));
        Assert.False(request.Selector.Matches("s1", "alice", null, "198.51.100.7"));

        var nothingToChange = Read(Request(RadiusCode.CoaRequest, (ref RadiusPacketWriter w) => Text(ref w, RadiusAttributeType.UserName, "alice")));
        Assert.Equal(RadiusErrorCause.MissingAttribute, nothingToChange.Judge(null, "pptp-gateway", out var why));
        Assert.Contains("changes nothing", why, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_given_session_attribute_must_match()
    {
        var request = Read(Request(RadiusCode.DisconnectRequest, (ref RadiusPacketWriter w) =>
        {
            Text(ref w, RadiusAttributeType.UserName, "alice");
            w.Add(RadiusAttributeType.FramedIpAddress, [10, 0, 0, 5]);
            Text(ref w, RadiusAttributeType.CallingStationId, "198.51.100.7");
        }));
        var selector = request.Selector;
        var framed = IPAddress.Parse("10.0.0.5");

        Assert.True(selector.Matches("s1", "alice", framed, "198.51.100.7"));
        Assert.True(selector.Matches("s2", "alice", framed, "198.51.100.7")); // no Acct-Session-Id given
        Assert.False(selector.Matches("s1", "bob", framed, "198.51.100.7"));
        Assert.False(selector.Matches("s1", "alice", IPAddress.Parse("10.0.0.6"), "198.51.100.7"));
        Assert.False(selector.Matches("s1", "alice", null, "198.51.100.7"));
        Assert.False(selector.Matches("s1", "alice", framed, "198.51.100.8"));
        Assert.False(selector.Matches("s1", "Alice", framed, "198.51.100.7")); // names are matched exactly

        var bySession = new RadiusSessionSelector(null, "s1", null, null);
        Assert.True(bySession.Matches("s1", "anyone", null, ""));
        Assert.False(bySession.Matches("s10", "anyone", null, ""));
    }

    public static TheoryData<string, RadiusErrorCause> Refusals => new()
    {
        { "NAS-Port", RadiusErrorCause.UnsupportedAttribute },
        { "Called-Station-Id", RadiusErrorCause.UnsupportedAttribute },
        { "Vendor-Specific", RadiusErrorCause.UnsupportedAttribute },
        { "Session-Timeout in a Disconnect", RadiusErrorCause.UnsupportedAttribute },
        { "Service-Type", RadiusErrorCause.UnsupportedService },
        { "User-Name twice", RadiusErrorCause.InvalidRequest },
        { "empty User-Name", RadiusErrorCause.InvalidAttributeValue },
        { "User-Name not UTF-8", RadiusErrorCause.InvalidAttributeValue },
        { "Framed-IP-Address of 3 bytes", RadiusErrorCause.InvalidAttributeValue },
        { "Event-Timestamp of 2 bytes", RadiusErrorCause.InvalidAttributeValue },
        { "17 Proxy-States", RadiusErrorCause.InvalidRequest },
        { "CoA Filter-Id", RadiusErrorCause.UnsupportedAttribute },
        { "CoA Idle-Timeout of 2 bytes", RadiusErrorCause.InvalidAttributeValue },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Attributes_we_cannot_honour_are_refused_with_their_error_cause(string what, RadiusErrorCause expected)
    {
        var code = what.StartsWith("CoA", StringComparison.Ordinal) ? RadiusCode.CoaRequest : RadiusCode.DisconnectRequest;
        var request = Read(Request(code, (ref RadiusPacketWriter w) =>
        {
            if (what != "empty User-Name" && what != "User-Name not UTF-8")
            {
                Text(ref w, RadiusAttributeType.UserName, "alice");
            }
            switch (what)
            {
                case "NAS-Port": w.AddUInt32(RadiusAttributeType.NasPort, 3); break;
                case "Called-Station-Id": Text(ref w, RadiusAttributeType.CalledStationId, "192.0.2.1"); break;
                case "Vendor-Specific": w.AddMicrosoftUInt32(MicrosoftAttributeType.MsMppeEncryptionPolicy, 1); break;
                case "Session-Timeout in a Disconnect": w.AddUInt32(RadiusAttributeType.SessionTimeout, 60); break;
                case "Service-Type": w.AddUInt32(RadiusAttributeType.ServiceType, 17); break;
                case "User-Name twice": Text(ref w, RadiusAttributeType.UserName, "bob"); break;
                case "empty User-Name": w.Add(RadiusAttributeType.UserName, []); break;
                case "User-Name not UTF-8": w.Add(RadiusAttributeType.UserName, [0xC3, 0x28]); break;
                case "Framed-IP-Address of 3 bytes": w.Add(RadiusAttributeType.FramedIpAddress, [10, 0, 0]); break;
                case "Event-Timestamp of 2 bytes": w.Add(RadiusAttributeType.EventTimestamp, [1, 2]); break;
                case "17 Proxy-States":
                    for (var i = 0; i < 17; i++)
                    {
                        w.Add(RadiusAttributeType.ProxyState, [(byte)i]);
                    }
                    break;
                case "CoA Filter-Id": Text(ref w, RadiusAttributeType.FilterId, "slow"); break;
                case "CoA Idle-Timeout of 2 bytes": w.Add(RadiusAttributeType.IdleTimeout, [0, 9]); break;
            }
        }));

        Assert.Equal(expected, request.Refusal);
        Assert.Equal(expected, request.Judge(OurNasIp, "pptp-gateway", out var reason));
        Assert.False(string.IsNullOrEmpty(reason));
    }

    [Fact]
    public void Attributes_that_ride_along_are_fine()
    {
        var request = Read(Request(RadiusCode.CoaRequest, (ref RadiusPacketWriter w) =>
        {
            Text(ref w, RadiusAttributeType.AcctSessionId, "s1");
            w.AddUInt32(RadiusAttributeType.EventTimestamp, 1_700_000_000);
            w.AddUInt32(RadiusAttributeType.IdleTimeout, 0);
            w.AddUInt32(RadiusAttributeType.ErrorCause, 507);
        }, messageAuthenticator: true));

        Assert.Null(request.Judge(null, "pptp-gateway", out _));
        Assert.Equal(TimeSpan.Zero, request.IdleTimeout);
    }

    [Fact]
    public void Hostile_and_truncated_datagrams_never_throw_and_signed_ones_always_answer()
    {
        Gen.Byte.Array[0, 120].Sample(bytes =>
        {
            // Per sample: CsCheck runs samples on several threads at once.
            var buffer = new byte[RadiusWire.MaxPacketLength];
            // Most samples get a plausible header and a valid signature, so the attribute reader is reached.
            if (bytes.Length >= 20 && bytes[0] % 4 != 0)
            {
                bytes[0] = bytes[1] % 2 == 0 ? (byte)RadiusCode.DisconnectRequest : (byte)RadiusCode.CoaRequest;
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)bytes.Length);
                _ = RadiusAuthenticator.Sign(bytes, Secret);
            }
            var error = RadiusDynamicRequest.TryRead(bytes, Secret, out var request);
            if (request is null)
            {
                return error != RadiusVerifyError.None;
            }
            _ = request.Judge(OurNasIp, "pptp-gateway", out _);
            _ = request.Selector.Matches("s1", "alice", null, "x");
            _ = request.Selector.ToString();
            var length = request.WriteAnswer(buffer, request.Refusal, Secret);
            return length >= RadiusWire.HeaderLength && RadiusPacket.TryParse(buffer.AsSpan(0, length), out var answer, out _)
                && RadiusAuthenticator.VerifyResponse(answer, request.Identifier, request.Authenticator, Secret) == RadiusVerifyError.None;
        }, iter: 20000);

        // Every prefix of a good request is refused quietly.
        for (var n = 0; n < KnownRequest.Length; n++)
        {
            Assert.NotEqual(RadiusVerifyError.None, RadiusDynamicRequest.TryRead(KnownRequest.AsSpan(0, n), Secret, out _));
        }
    }

    [Fact]
    public void The_answer_cache_returns_the_first_answer_to_a_retransmission_for_30_seconds()
    {
        var time = new FakeTimeProvider();
        var cache = new RadiusAnswerCache(time);
        var client = IPAddress.Parse("192.0.2.10");
        var authenticator = Read(KnownRequest).Authenticator;
        byte[] answer = [41, 1];

        Assert.False(cache.TryGet(client, 0x11, authenticator, out _));
        cache.Add(client, 0x11, authenticator, answer);
        Assert.True(cache.TryGet(client, 0x11, authenticator, out var again));
        Assert.Same(answer, again);
        Assert.False(cache.TryGet(IPAddress.Parse("192.0.2.11"), 0x11, authenticator, out _));
        Assert.False(cache.TryGet(client, 0x12, authenticator, out _));
        Assert.False(cache.TryGet(client, 0x11, new byte[16], out _));

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.True(cache.TryGet(client, 0x11, authenticator, out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(cache.TryGet(client, 0x11, authenticator, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void The_answer_cache_is_bounded_and_drops_the_oldest()
    {
        var cache = new RadiusAnswerCache(new FakeTimeProvider(), capacity: 2);
        var client = IPAddress.Loopback;
        var authenticator = new byte[16];

        cache.Add(client, 1, authenticator, [1]);
        cache.Add(client, 2, authenticator, [2]);
        cache.Add(client, 3, authenticator, [3]);

        Assert.Equal(2, cache.Count);
        Assert.False(cache.TryGet(client, 1, authenticator, out _));
        Assert.True(cache.TryGet(client, 3, authenticator, out _));
    }
}
