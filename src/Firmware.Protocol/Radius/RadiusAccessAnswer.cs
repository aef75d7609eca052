using System.Buffers.Binary;
using System.Net;
using System.Text;
using Firmware.Protocol.Auth;

namespace Firmware.Protocol.Radius;

/// <summary>Why an answer to an Access-Request was refused; anything but None means "treat as no answer".</summary>
public enum RadiusAnswerError
{
    None,
    /// <summary>Not a well-formed RADIUS packet.</summary>
    Malformed,
    /// <summary>Not Access-Accept or Access-Reject (Access-Challenge is not supported for PPP logins).</summary>
    UnexpectedCode,
    WrongIdentifier,
    /// <summary>No Message-Authenticator (BlastRADIUS: refused even with a right Response Authenticator).</summary>
    MissingMessageAuthenticator,
    DuplicateMessageAuthenticator,
    MessageAuthenticatorWrongLength,
    BadResponseAuthenticator,
    BadMessageAuthenticator,
    /// <summary>An attribute we use has the wrong length or form (e.g. a 3-byte Framed-IP-Address).</summary>
    MalformedAttribute,
    /// <summary>MS-MPPE-Send-Key or -Recv-Key does not decrypt to a key.</summary>
    UndecryptableMppeKey,
}

/// <summary>
/// A verified Access-Accept or Access-Reject and what a PPP server uses from it (RFC 2865, RFC 2548).
/// Allocates (a login is not a hot path); keys are owned by this object.
/// </summary>
public sealed class RadiusAccessAnswer
{
    private RadiusAccessAnswer()
    {
    }

    /// <summary>True for Access-Accept.</summary>
    public bool Accepted { get; private init; }

    /// <summary>MS-CHAP2-Success without its Ident byte: the "S=..." message for the PPP Success packet.</summary>
    public byte[]? MsChap2Success { get; private init; }

    /// <summary>The 20-byte authenticator response parsed from <see cref="MsChap2Success"/>'s S= field.</summary>
    public byte[]? AuthenticatorResponse { get; private init; }

    /// <summary>Decrypted MS-MPPE-Send-Key: what the NAS (we) encrypts with.</summary>
    public byte[]? MppeSendKey { get; private init; }

    /// <summary>Decrypted MS-MPPE-Recv-Key: what the NAS (we) decrypts with.</summary>
    public byte[]? MppeRecvKey { get; private init; }

    /// <summary>
    /// MS-CHAP (v1) accepted: MS-CHAP-MPPE-Keys decrypted, the LM key (8 bytes) then the NT key (16). FreeRADIUS,
    /// like Windows IAS, puts the NT password hash's hash there (RFC 2548 says the hash; what works is its hash).
    /// </summary>
    public byte[]? MsChapMppeKeys { get; private init; }

    /// <summary>MS-MPPE-Encryption-Policy: 1 encryption allowed, 2 required.</summary>
    public uint? MppeEncryptionPolicy { get; private init; }

    /// <summary>MS-MPPE-Encryption-Types: bit 0x2 40-bit, 0x4 128-bit (0x8 56-bit in later practice).</summary>
    public uint? MppeEncryptionTypes { get; private init; }

    /// <summary>Framed-IP-Address as sent (255.255.255.254 means "the NAS chooses", RFC 2865 section 5.8).</summary>
    public IPAddress? FramedIpAddress { get; private init; }

    /// <summary>Session-Timeout in seconds.</summary>
    public uint? SessionTimeout { get; private init; }

    /// <summary>Idle-Timeout in seconds.</summary>
    public uint? IdleTimeout { get; private init; }

    /// <summary>Acct-Interim-Interval in seconds (RFC 2869 section 5.16).</summary>
    public uint? InterimInterval { get; private init; }

    /// <summary>Every Class attribute, in order, to echo in accounting.</summary>
    public IReadOnlyList<byte[]> Classes { get; private init; } = [];

    /// <summary>MS-CHAP-Error's E= code (691 when absent from its text), for the client's Failure packet; null without one.</summary>
    public int? MsChapErrorCode { get; private init; }

    /// <summary>MS-CHAP-Error's R= flag.</summary>
    public bool MsChapRetryAllowed { get; private init; }

    /// <summary>MS-CHAP-Error without its Ident byte, as the server sent it (the PPP Failure message).</summary>
    public byte[]? MsChapError { get; private init; }

    /// <summary>The Reply-Message attributes concatenated, control characters replaced (it goes into logs), or null.</summary>
    public string? ReplyMessage { get; private init; }

    /// <summary>
    /// Parses and verifies an answer to our Access-Request (Identifier, Response Authenticator and the
    /// required Message-Authenticator), then extracts and checks the attributes we use.
    /// <paramref name="method"/> sets the length of an MS-CHAP-Error's C= challenge.
    /// </summary>
    public static RadiusAnswerError TryRead(ReadOnlySpan<byte> datagram, byte identifier, ReadOnlySpan<byte> requestAuthenticator, ReadOnlySpan<byte> secret, AuthMethod method, out RadiusAccessAnswer? answer)
    {
        answer = null;
        if (!RadiusPacket.TryParse(datagram, out var packet, out _))
        {
            return RadiusAnswerError.Malformed;
        }
        if (packet.Code is not (RadiusCode.AccessAccept or RadiusCode.AccessReject))
        {
            return RadiusAnswerError.UnexpectedCode;
        }
        var verified = RadiusAuthenticator.VerifyResponse(packet, identifier, requestAuthenticator, secret);
        if (verified != RadiusVerifyError.None)
        {
            return verified switch
            {
                RadiusVerifyError.WrongIdentifier => RadiusAnswerError.WrongIdentifier,
                RadiusVerifyError.MissingMessageAuthenticator => RadiusAnswerError.MissingMessageAuthenticator,
                RadiusVerifyError.DuplicateMessageAuthenticator => RadiusAnswerError.DuplicateMessageAuthenticator,
                RadiusVerifyError.MessageAuthenticatorWrongLength => RadiusAnswerError.MessageAuthenticatorWrongLength,
                RadiusVerifyError.BadResponseAuthenticator => RadiusAnswerError.BadResponseAuthenticator,
                RadiusVerifyError.BadMessageAuthenticator => RadiusAnswerError.BadMessageAuthenticator,
                _ => RadiusAnswerError.UnexpectedCode,
            };
        }

        var accepted = packet.Code == RadiusCode.AccessAccept;
        if (!TryUInt32(packet, RadiusAttributeType.SessionTimeout, out var sessionTimeout)
            || !TryUInt32(packet, RadiusAttributeType.IdleTimeout, out var idleTimeout)
            || !TryUInt32(packet, RadiusAttributeType.AcctInterimInterval, out var interimInterval)
            || !TryMicrosoftUInt32(packet, MicrosoftAttributeType.MsMppeEncryptionPolicy, out var policy)
            || !TryMicrosoftUInt32(packet, MicrosoftAttributeType.MsMppeEncryptionTypes, out var types))
        {
            return RadiusAnswerError.MalformedAttribute;
        }

        IPAddress? framedIp = null;
        if (packet.TryGetAttribute(RadiusAttributeType.FramedIpAddress, out var ip))
        {
            if (ip.Length != 4)
            {
                return RadiusAnswerError.MalformedAttribute;
            }
            framedIp = new IPAddress(ip);
        }

        byte[]? success = null;
        byte[]? authenticatorResponse = null;
        if (packet.TryGetMicrosoftAttribute(MicrosoftAttributeType.MsChap2Success, out var successValue))
        {
            // Ident, then "S=" and 40 hex digits, optionally " M=...".
            authenticatorResponse = new byte[20];
            if (successValue.Length < 43 || successValue[1] != (byte)'S' || successValue[2] != (byte)'='
                || !MsChapCrypto.TryParseHex(successValue.Slice(3, 40), authenticatorResponse))
            {
                return RadiusAnswerError.MalformedAttribute;
            }
            success = successValue[1..].ToArray();
        }

        byte[]? sendKey = null;
        byte[]? recvKey = null;
        byte[]? msChapKeys = null;
        if (accepted)
        {
            var keys = DecryptKey(packet, MicrosoftAttributeType.MsMppeSendKey, secret, requestAuthenticator, out sendKey);
            if (keys == RadiusAnswerError.None)
            {
                keys = DecryptKey(packet, MicrosoftAttributeType.MsMppeRecvKey, secret, requestAuthenticator, out recvKey);
            }
            if (keys != RadiusAnswerError.None)
            {
                return keys;
            }
            keys = RevealMsChapKeys(packet, secret, requestAuthenticator, out msChapKeys);
            if (keys != RadiusAnswerError.None)
            {
                return keys;
            }
        }

        MsChapFailure? error = null;
        byte[]? errorText = null;
        if (packet.TryGetMicrosoftAttribute(MicrosoftAttributeType.MsChapError, out var errorValue))
        {
            if (errorValue.IsEmpty)
            {
                return RadiusAnswerError.MalformedAttribute;
            }
            error = MsChapFailure.Parse(errorValue[1..], method == AuthMethod.MsChapV1 ? 8 : 16);
            errorText = errorValue[1..].ToArray();
        }

        var classes = new List<byte[]>();
        StringBuilder? reply = null;
        foreach (var attribute in packet.Attributes)
        {
            if (attribute.Type == (byte)RadiusAttributeType.Class)
            {
                classes.Add(attribute.Value.ToArray());
            }
            else if (attribute.Type == (byte)RadiusAttributeType.ReplyMessage)
            {
                (reply ??= new StringBuilder()).Append(AuthPacket.Printable(attribute.Value));
            }
        }

        answer = new RadiusAccessAnswer
        {
            Accepted = accepted,
            MsChap2Success = success,
            AuthenticatorResponse = authenticatorResponse,
            MppeSendKey = sendKey,
            MppeRecvKey = recvKey,
            MsChapMppeKeys = msChapKeys,
            MppeEncryptionPolicy = policy,
            MppeEncryptionTypes = types,
            FramedIpAddress = framedIp,
            SessionTimeout = sessionTimeout,
            IdleTimeout = idleTimeout,
            InterimInterval = interimInterval,
            Classes = classes,
            MsChapErrorCode = error?.Error,
            MsChapRetryAllowed = error?.RetryAllowed ?? false,
            MsChapError = errorText,
            ReplyMessage = reply?.ToString(),
        };
        return RadiusAnswerError.None;
    }

    /// <summary>Secrets stay out of logs.</summary>
    public override string ToString() => $"RadiusAccessAnswer {{ Accepted = {Accepted}, Keys = {MppeSendKey is not null && MppeRecvKey is not null} }}";

    private static bool TryUInt32(RadiusPacket packet, RadiusAttributeType type, out uint? value)
    {
        value = null;
        if (!packet.TryGetAttribute(type, out var bytes))
        {
            return true;
        }
        if (bytes.Length != 4)
        {
            return false;
        }
        value = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        return true;
    }

    private static bool TryMicrosoftUInt32(RadiusPacket packet, MicrosoftAttributeType type, out uint? value)
    {
        value = null;
        if (!packet.TryGetMicrosoftAttribute(type, out var bytes))
        {
            return true;
        }
        if (bytes.Length != 4)
        {
            return false;
        }
        value = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        return true;
    }

    private static RadiusAnswerError DecryptKey(RadiusPacket packet, MicrosoftAttributeType type, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> requestAuthenticator, out byte[]? key)
    {
        key = null;
        if (!packet.TryGetMicrosoftAttribute(type, out var value))
        {
            return RadiusAnswerError.None;
        }
        Span<byte> clear = stackalloc byte[RadiusWire.MaxVendorValueLength];
        if (RadiusAttributeCrypto.TryDecryptMppeKey(value, secret, requestAuthenticator, clear, out var length) != RadiusCryptoError.None)
        {
            return RadiusAnswerError.UndecryptableMppeKey;
        }
        key = clear[..length].ToArray();
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(clear);
        return RadiusAnswerError.None;
    }

    /// <summary>MS-CHAP-MPPE-Keys is hidden as User-Password is (RFC 2548 section 2.4.1): 24 bytes padded to 32.</summary>
    private static RadiusAnswerError RevealMsChapKeys(RadiusPacket packet, ReadOnlySpan<byte> secret, ReadOnlySpan<byte> requestAuthenticator, out byte[]? keys)
    {
        keys = null;
        if (!packet.TryGetMicrosoftAttribute(MicrosoftAttributeType.MsChapMppeKeys, out var value))
        {
            return RadiusAnswerError.None;
        }
        Span<byte> clear = stackalloc byte[RadiusWire.MaxUserPasswordLength];
        // The NT key may end in zero bytes, which the padding strip would eat: only the hidden length counts.
        if (value.Length != 32 || RadiusAttributeCrypto.RevealUserPassword(value, secret, requestAuthenticator, clear) < 0)
        {
            return RadiusAnswerError.UndecryptableMppeKey;
        }
        keys = clear[..24].ToArray();
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(clear);
        return RadiusAnswerError.None;
    }
}
