using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace Firmware.Protocol.Radius;

/// <summary>Why a packet's authenticators do not check out.</summary>
public enum RadiusVerifyError
{
    None,
    /// <summary>Not a well-formed RADIUS packet (see <see cref="RadiusParseError"/>).</summary>
    Malformed,
    /// <summary>A code that is not an answer (or not a request) where one was expected.</summary>
    UnexpectedCode,
    /// <summary>The Identifier does not match the request's.</summary>
    WrongIdentifier,
    /// <summary>No Message-Authenticator where one is required (BlastRADIUS, CVE-2024-3596).</summary>
    MissingMessageAuthenticator,
    /// <summary>More than one Message-Authenticator.</summary>
    DuplicateMessageAuthenticator,
    /// <summary>A Message-Authenticator whose value is not 16 bytes.</summary>
    MessageAuthenticatorWrongLength,
    /// <summary>The Response Authenticator is not MD5(Code+ID+Length+RequestAuth+Attributes+Secret).</summary>
    BadResponseAuthenticator,
    /// <summary>An Accounting/Disconnect/CoA-Request whose Request Authenticator is wrong (RFC 2866 section 3).</summary>
    BadRequestAuthenticator,
    /// <summary>The Message-Authenticator's HMAC-MD5 does not match.</summary>
    BadMessageAuthenticator,
}

/// <summary>
/// RADIUS packet authentication: the random Request Authenticator (RFC 2865 section 3), the Response
/// Authenticator (RFC 2865 section 3), the Accounting-Request Authenticator (RFC 2866 section 3, also used by
/// RFC 5176's Disconnect and CoA requests) and Message-Authenticator (RFC 2869 section 5.14, RFC 3579
/// section 3.2). MD5 and HMAC-MD5 come from BouncyCastle like the rest of the protocol core's hashes, so it
/// does not depend on the platform's OpenSSL. Hashing is incremental over the packet: nothing is copied.
/// </summary>
public static class RadiusAuthenticator
{
    private static ReadOnlySpan<byte> Zeros16 => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>A fresh, unpredictable Request Authenticator for an Access-Request or Status-Server.</summary>
    public static void NewRequestAuthenticator(RadiusRandomFill random, Span<byte> authenticator)
    {
        ArgumentNullException.ThrowIfNull(random);
        random(authenticator[..RadiusWire.AuthenticatorLength]);
    }

    /// <summary>
    /// Signs a finished packet in place, by its code. Access-Request and Status-Server keep the (random)
    /// authenticator already in the packet and get their Message-Authenticator over it. Accounting, Disconnect
    /// and CoA requests get a zero authenticator, the Message-Authenticator over that, then the authenticator
    /// MD5(packet + secret). Answers get <paramref name="requestAuthenticator"/> in the field, the
    /// Message-Authenticator over that, then the Response Authenticator. A Message-Authenticator is filled
    /// only if the packet has one. False (packet unchanged) if the packet is malformed or the
    /// request authenticator is missing for an answer.
    /// </summary>
    public static bool Sign(Span<byte> packet, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> requestAuthenticator = default)
    {
        if (!RadiusPacket.TryParse(packet, out var parsed, out _)
            || FindMessageAuthenticator(parsed, out var messageAuthenticator) is not (RadiusVerifyError.None or RadiusVerifyError.MissingMessageAuthenticator))
        {
            return false;
        }
        var length = parsed.Length;
        var code = parsed.Code;
        var response = RadiusWire.IsResponse(code);
        var computed = RadiusWire.HasComputedRequestAuthenticator(code);
        if (response && requestAuthenticator.Length != RadiusWire.AuthenticatorLength)
        {
            return false;
        }

        packet = packet[..length];
        var field = packet.Slice(4, RadiusWire.AuthenticatorLength);
        if (response)
        {
            requestAuthenticator.CopyTo(field);
        }
        else if (computed)
        {
            field.Clear();
        }
        if (messageAuthenticator >= 0)
        {
            ComputeMessageAuthenticator(packet, field, messageAuthenticator, secret, packet.Slice(messageAuthenticator + 2, RadiusWire.MessageAuthenticatorLength));
        }
        if (response || computed)
        {
            Span<byte> digest = stackalloc byte[RadiusWire.AuthenticatorLength];
            ComputeResponseAuthenticator(packet, field, secret, digest);
            digest.CopyTo(field);
        }
        return true;
    }

    /// <summary>
    /// Checks an answer to a request we sent: an answer code, our Identifier, the Response Authenticator and
    /// (always required unless <paramref name="requireMessageAuthenticator"/> is false) the Message-Authenticator
    /// computed with our Request Authenticator.
    /// </summary>
    public static RadiusVerifyError VerifyResponse(RadiusPacket packet, byte identifier, ReadOnlySpan<byte> requestAuthenticator, ReadOnlySpan<byte> secret, bool requireMessageAuthenticator = true)
    {
        if (!RadiusWire.IsResponse(packet.Code))
        {
            return RadiusVerifyError.UnexpectedCode;
        }
        if (packet.Identifier != identifier)
        {
            return RadiusVerifyError.WrongIdentifier;
        }
        var found = FindMessageAuthenticator(packet, out var messageAuthenticator);
        if (found != RadiusVerifyError.None && !(found == RadiusVerifyError.MissingMessageAuthenticator && !requireMessageAuthenticator))
        {
            return found;
        }

        Span<byte> expected = stackalloc byte[RadiusWire.AuthenticatorLength];
        ComputeResponseAuthenticator(packet.Bytes, requestAuthenticator, secret, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, packet.Authenticator))
        {
            return RadiusVerifyError.BadResponseAuthenticator;
        }
        return messageAuthenticator < 0 || CheckMessageAuthenticator(packet, requestAuthenticator, messageAuthenticator, secret)
            ? RadiusVerifyError.None
            : RadiusVerifyError.BadMessageAuthenticator;
    }

    /// <summary>
    /// Checks a request as a server would: Access-Request and Status-Server by their Message-Authenticator
    /// (required unless <paramref name="requireMessageAuthenticator"/> is false); Accounting, Disconnect and
    /// CoA requests by their computed Request Authenticator and, if present, Message-Authenticator.
    /// </summary>
    public static RadiusVerifyError VerifyRequest(RadiusPacket packet, ReadOnlySpan<byte> secret, bool requireMessageAuthenticator = true)
    {
        var code = packet.Code;
        var computed = RadiusWire.HasComputedRequestAuthenticator(code);
        if (!computed && code is not (RadiusCode.AccessRequest or RadiusCode.StatusServer))
        {
            return RadiusVerifyError.UnexpectedCode;
        }
        var found = FindMessageAuthenticator(packet, out var messageAuthenticator);
        if (found != RadiusVerifyError.None && !(found == RadiusVerifyError.MissingMessageAuthenticator && (computed || !requireMessageAuthenticator)))
        {
            return found;
        }
        var authenticatorField = computed ? Zeros16 : packet.Authenticator;
        if (computed)
        {
            Span<byte> expected = stackalloc byte[RadiusWire.AuthenticatorLength];
            ComputeResponseAuthenticator(packet.Bytes, Zeros16, secret, expected);
            if (!CryptographicOperations.FixedTimeEquals(expected, packet.Authenticator))
            {
                return RadiusVerifyError.BadRequestAuthenticator;
            }
        }
        return messageAuthenticator < 0 || CheckMessageAuthenticator(packet, authenticatorField, messageAuthenticator, secret)
            ? RadiusVerifyError.None
            : RadiusVerifyError.BadMessageAuthenticator;
    }

    /// <summary>
    /// MD5(Code + Identifier + Length + <paramref name="authenticatorField"/> + Attributes + Secret): the
    /// Response Authenticator (with the Request Authenticator) or the Accounting-Request Authenticator (with
    /// 16 zeros).
    /// </summary>
    public static void ComputeResponseAuthenticator(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> authenticatorField, ReadOnlySpan<byte> secret, Span<byte> authenticator)
    {
        var md5 = new MD5Digest();
        md5.BlockUpdate(packet[..4]);
        md5.BlockUpdate(authenticatorField[..RadiusWire.AuthenticatorLength]);
        md5.BlockUpdate(packet[RadiusWire.HeaderLength..]);
        md5.BlockUpdate(secret);
        md5.DoFinal(authenticator);
    }

    /// <summary>
    /// HMAC-MD5 keyed with the secret over the packet with <paramref name="authenticatorField"/> in the
    /// Authenticator field and the Message-Authenticator value (the attribute at
    /// <paramref name="attributeOffset"/>) taken as 16 zeros.
    /// </summary>
    public static void ComputeMessageAuthenticator(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> authenticatorField, int attributeOffset, ReadOnlySpan<byte> secret, Span<byte> messageAuthenticator)
    {
        var valueOffset = attributeOffset + RadiusWire.AttributeHeaderLength;
        var hmac = new HMac(new MD5Digest());
        hmac.Init(new KeyParameter(secret));
        hmac.BlockUpdate(packet[..4]);
        hmac.BlockUpdate(authenticatorField[..RadiusWire.AuthenticatorLength]);
        hmac.BlockUpdate(packet[RadiusWire.HeaderLength..valueOffset]);
        hmac.BlockUpdate(Zeros16);
        hmac.BlockUpdate(packet[(valueOffset + RadiusWire.MessageAuthenticatorLength)..]);
        hmac.DoFinal(messageAuthenticator);
    }

    /// <summary>
    /// Finds the one Message-Authenticator: its attribute offset, or -1 with
    /// <see cref="RadiusVerifyError.MissingMessageAuthenticator"/>; duplicates and wrong lengths are errors.
    /// </summary>
    public static RadiusVerifyError FindMessageAuthenticator(RadiusPacket packet, out int attributeOffset)
    {
        attributeOffset = -1;
        foreach (var attribute in packet.Attributes)
        {
            if (attribute.Type != (byte)RadiusAttributeType.MessageAuthenticator)
            {
                continue;
            }
            if (attributeOffset >= 0)
            {
                attributeOffset = -1;
                return RadiusVerifyError.DuplicateMessageAuthenticator;
            }
            if (attribute.Value.Length != RadiusWire.MessageAuthenticatorLength)
            {
                return RadiusVerifyError.MessageAuthenticatorWrongLength;
            }
            attributeOffset = attribute.Offset;
        }
        return attributeOffset < 0 ? RadiusVerifyError.MissingMessageAuthenticator : RadiusVerifyError.None;
    }

    private static bool CheckMessageAuthenticator(RadiusPacket packet, ReadOnlySpan<byte> authenticatorField, int attributeOffset, ReadOnlySpan<byte> secret)
    {
        Span<byte> expected = stackalloc byte[RadiusWire.MessageAuthenticatorLength];
        ComputeMessageAuthenticator(packet.Bytes, authenticatorField, attributeOffset, secret, expected);
        return CryptographicOperations.FixedTimeEquals(expected, packet.Bytes.Slice(attributeOffset + 2, RadiusWire.MessageAuthenticatorLength));
    }
}
