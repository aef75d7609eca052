using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.Unicode;

namespace Firmware.Protocol.Radius;

/// <summary>
/// The session identification attributes of a Disconnect-Request or CoA-Request (RFC 5176 section 3): each one
/// given must match a session for it to be chosen, so several together narrow the choice (AND).
/// </summary>
public sealed record RadiusSessionSelector(string? UserName, string? AcctSessionId, IPAddress? FramedAddress, string? CallingStationId)
{
    /// <summary>No identification attribute at all (RFC 5176: Error-Cause 402 Missing Attribute).</summary>
    public bool IsEmpty => UserName is null && AcctSessionId is null && FramedAddress is null && CallingStationId is null;

    /// <summary>True when every attribute the request gave matches this session's value.</summary>
    public bool Matches(string acctSessionId, string userName, IPAddress? framedAddress, string callingStationId) =>
        !IsEmpty
        && (UserName is null || string.Equals(UserName, userName, StringComparison.Ordinal))
        && (AcctSessionId is null || string.Equals(AcctSessionId, acctSessionId, StringComparison.Ordinal))
        && (FramedAddress is null || FramedAddress.Equals(framedAddress))
        && (CallingStationId is null || string.Equals(CallingStationId, callingStationId, StringComparison.Ordinal));

    /// <summary>For the log: "user 'alice', Acct-Session-Id 1a2b3c4d00000001".</summary>
    public override string ToString()
    {
        var parts = new List<string>(4);
        if (UserName is not null)
        {
            parts.Add($"user '{Printable(UserName)}'");
        }
        if (AcctSessionId is not null)
        {
            parts.Add($"Acct-Session-Id {Printable(AcctSessionId)}");
        }
        if (FramedAddress is not null)
        {
            parts.Add($"Framed-IP-Address {FramedAddress}");
        }
        if (CallingStationId is not null)
        {
            parts.Add($"Calling-Station-Id {Printable(CallingStationId)}");
        }
        return parts.Count == 0 ? "no session named" : string.Join(", ", parts);
    }

    // Text from the wire goes into the journal: control characters become '?'.
    private static string Printable(string text) => string.Create(text.Length, text, static (span, source) =>
    {
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = char.IsControl(source[i]) ? '?' : source[i];
        }
    });
}

/// <summary>
/// A verified Disconnect-Request or CoA-Request (RFC 5176), read into what the NAS needs: who sent which
/// Identifier and Request Authenticator (for the answer and duplicate detection), the NAS and session
/// identification attributes, the CoA changes we support (Session-Timeout, Idle-Timeout), the Proxy-State
/// attributes to echo in order, and, when the request alone already decides a NAK, its Error-Cause.
/// </summary>
public sealed class RadiusDynamicRequest
{
    /// <summary>Proxy-State attributes a request may carry and the answer echoes; more is not a sane proxy chain.</summary>
    public const int MaxProxyStates = 16;

    private RadiusDynamicRequest(RadiusCode code, byte identifier, byte[] authenticator)
    {
        Code = code;
        Identifier = identifier;
        Authenticator = authenticator;
    }

    public RadiusCode Code { get; }

    public bool IsDisconnect => Code == RadiusCode.DisconnectRequest;

    public byte Identifier { get; }

    /// <summary>The 16-byte Request Authenticator: the answer's Response Authenticator is computed over it.</summary>
    public byte[] Authenticator { get; }

    public RadiusSessionSelector Selector { get; private set; } = new(null, null, null, null);

    public IPAddress? NasIpAddress { get; private set; }

    public string? NasIdentifier { get; private set; }

    /// <summary>CoA: the new Session-Timeout; <see cref="TimeSpan.Zero"/> removes the limit.</summary>
    public TimeSpan? SessionTimeout { get; private set; }

    /// <summary>CoA: the new Idle-Timeout; <see cref="TimeSpan.Zero"/> removes the limit.</summary>
    public TimeSpan? IdleTimeout { get; private set; }

    /// <summary>The Proxy-State values in the order they came (RFC 5176 section 3.5: echoed in that order).</summary>
    public IReadOnlyList<byte[]> ProxyStates { get; private set; } = [];

    /// <summary>Set when the request's attributes alone decide a NAK (unsupported, invalid, duplicated).</summary>
    public RadiusErrorCause? Refusal { get; private set; }

    /// <summary>Why, for the log (never the secret or an attribute's raw bytes).</summary>
    public string? RefusalReason { get; private set; }

    /// <summary>
    /// Parses and verifies a datagram from a known client: a Disconnect-Request or CoA-Request whose Request
    /// Authenticator (and Message-Authenticator, if present) checks out with <paramref name="secret"/>. Anything
    /// else returns an error and no request: RFC 5176 section 3.5 says to discard it silently. A verified request
    /// always comes back; attributes we cannot act on set <see cref="Refusal"/> rather than failing the read.
    /// </summary>
    public static RadiusVerifyError TryRead(ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> secret, out RadiusDynamicRequest? request)
    {
        request = null;
        if (!RadiusPacket.TryParse(datagram, out var packet, out _))
        {
            return RadiusVerifyError.Malformed;
        }
        if (packet.Code is not (RadiusCode.DisconnectRequest or RadiusCode.CoaRequest))
        {
            return RadiusVerifyError.UnexpectedCode;
        }
        var verified = RadiusAuthenticator.VerifyRequest(packet, secret, requireMessageAuthenticator: false);
        if (verified != RadiusVerifyError.None)
        {
            return verified;
        }
        var read = new RadiusDynamicRequest(packet.Code, packet.Identifier, packet.Authenticator.ToArray());
        read.ReadAttributes(packet);
        request = read;
        return RadiusVerifyError.None;
    }

    /// <summary>
    /// What the request decides before any session is looked at: its own <see cref="Refusal"/>, then NAS
    /// identification (NAS-IP-Address and NAS-Identifier, when given, must be ours: 403), then at least one
    /// session identification attribute (402); null when the sessions it names should be looked up.
    /// A NAS-IP-Address is ours when it is <paramref name="nasIpAddress"/>; with none configured, no address is.
    /// </summary>
    public RadiusErrorCause? Judge(IPAddress? nasIpAddress, string? nasIdentifier, out string reason)
    {
        if (Refusal is { } refusal)
        {
            reason = RefusalReason!;
            return refusal;
        }
        if (NasIpAddress is not null && !NasIpAddress.Equals(nasIpAddress))
        {
            reason = nasIpAddress is null
                ? $"NAS-IP-Address {NasIpAddress} given, but this NAS has no nasIpAddress configured"
                : $"NAS-IP-Address {NasIpAddress} is not this NAS ({nasIpAddress})";
            return RadiusErrorCause.NasIdentificationMismatch;
        }
        if (NasIdentifier is not null && !string.Equals(NasIdentifier, nasIdentifier, StringComparison.Ordinal))
        {
            reason = $"NAS-Identifier '{Clip(NasIdentifier)}' is not this NAS ('{nasIdentifier ?? "none configured"}')";
            return RadiusErrorCause.NasIdentificationMismatch;
        }
        if (Selector.IsEmpty)
        {
            reason = "no User-Name, Acct-Session-Id, Framed-IP-Address or Calling-Station-Id names a session";
            return RadiusErrorCause.MissingAttribute;
        }
        if (!IsDisconnect && SessionTimeout is null && IdleTimeout is null)
        {
            reason = "the CoA-Request changes nothing this NAS supports (Session-Timeout, Idle-Timeout)";
            return RadiusErrorCause.MissingAttribute;
        }
        reason = "";
        return null;
    }

    /// <summary>
    /// Writes and signs the answer: Disconnect-ACK/NAK or CoA-ACK/NAK by the request's code, with its Identifier,
    /// the Error-Cause for a NAK, the Proxy-States echoed in order, and a Message-Authenticator (optional in
    /// RFC 5176, but an answer that has one cannot be forged by the BlastRADIUS collision). Returns the length,
    /// or -1 if it does not fit <paramref name="destination"/>.
    /// </summary>
    public int WriteAnswer(Span<byte> destination, RadiusErrorCause? nak, ReadOnlySpan<byte> secret)
    {
        var code = (IsDisconnect, nak is null) switch
        {
            (true, true) => RadiusCode.DisconnectAck,
            (true, false) => RadiusCode.DisconnectNak,
            (false, true) => RadiusCode.CoaAck,
            (false, false) => RadiusCode.CoaNak,
        };
        var writer = new RadiusPacketWriter(destination, code, Identifier, default);
        writer.AddMessageAuthenticator();
        if (nak is { } cause)
        {
            writer.AddUInt32(RadiusAttributeType.ErrorCause, (uint)cause);
        }
        foreach (var state in ProxyStates)
        {
            writer.Add(RadiusAttributeType.ProxyState, state);
        }
        var length = writer.Finish();
        if (length < 0 || !RadiusAuthenticator.Sign(destination[..length], secret, Authenticator))
        {
            return -1;
        }
        return length;
    }

    /// <summary>The display name of an answer code, for the log.</summary>
    public static string Name(RadiusCode code) => code switch
    {
        RadiusCode.DisconnectRequest => "Disconnect-Request",
        RadiusCode.DisconnectAck => "Disconnect-ACK",
        RadiusCode.DisconnectNak => "Disconnect-NAK",
        RadiusCode.CoaRequest => "CoA-Request",
        RadiusCode.CoaAck => "CoA-ACK",
        RadiusCode.CoaNak => "CoA-NAK",
        _ => $"code {(byte)code}",
    };

    private void ReadAttributes(RadiusPacket packet)
    {
        string? userName = null, acctSessionId = null, callingStationId = null;
        IPAddress? framed = null;
        List<byte[]>? proxyStates = null;
        foreach (var attribute in packet.Attributes)
        {
            var value = attribute.Value;
            switch ((RadiusAttributeType)attribute.Type)
            {
                case RadiusAttributeType.UserName:
                    userName = Text(attribute.Type, value, userName);
                    break;
                case RadiusAttributeType.AcctSessionId:
                    acctSessionId = Text(attribute.Type, value, acctSessionId);
                    break;
                case RadiusAttributeType.CallingStationId:
                    callingStationId = Text(attribute.Type, value, callingStationId);
                    break;
                case RadiusAttributeType.NasIdentifier:
                    NasIdentifier = Text(attribute.Type, value, NasIdentifier);
                    break;
                case RadiusAttributeType.FramedIpAddress:
                    framed = Address(attribute.Type, value, framed);
                    break;
                case RadiusAttributeType.NasIpAddress:
                    NasIpAddress = Address(attribute.Type, value, NasIpAddress);
                    break;
                case RadiusAttributeType.SessionTimeout when !IsDisconnect:
                    SessionTimeout = Seconds(attribute.Type, value, SessionTimeout);
                    break;
                case RadiusAttributeType.IdleTimeout when !IsDisconnect:
                    IdleTimeout = Seconds(attribute.Type, value, IdleTimeout);
                    break;
                case RadiusAttributeType.ProxyState:
                    proxyStates ??= [];
                    if (proxyStates.Count == MaxProxyStates)
                    {
                        Refuse(RadiusErrorCause.InvalidRequest, $"more than {MaxProxyStates} Proxy-State attributes");
                    }
                    else
                    {
                        proxyStates.Add(value.ToArray());
                    }
                    break;
                case RadiusAttributeType.EventTimestamp:
                    // RFC 5176 section 3.5's replay window needs a wall clock; a board without an RTC has none it
                    // can trust, so duplicates are caught by Identifier and authenticator instead.
                    if (value.Length != 4)
                    {
                        Refuse(RadiusErrorCause.InvalidAttributeValue, $"Event-Timestamp of {value.Length} bytes");
                    }
                    break;
                case RadiusAttributeType.MessageAuthenticator:
                case RadiusAttributeType.ErrorCause:
                    break; // checked by the authenticator; meaningless in a request
                case RadiusAttributeType.ServiceType:
                    // Authorize-Only (RFC 5176 section 3.2) would need a new Access-Request: a service we do not offer.
                    Refuse(RadiusErrorCause.UnsupportedService, "Service-Type (for example Authorize-Only) is not supported");
                    break;
                default:
                    Refuse(RadiusErrorCause.UnsupportedAttribute, $"attribute {AttributeName(attribute.Type)} is not supported in a {Name(Code)}");
                    break;
            }
        }
        Selector = new RadiusSessionSelector(userName, acctSessionId, framed, callingStationId);
        ProxyStates = proxyStates ?? [];
    }

    private string? Text(byte type, ReadOnlySpan<byte> value, string? earlier)
    {
        if (earlier is not null)
        {
            Refuse(RadiusErrorCause.InvalidRequest, $"{AttributeName(type)} given twice");
            return earlier;
        }
        if (value.IsEmpty || !Utf8.IsValid(value))
        {
            Refuse(RadiusErrorCause.InvalidAttributeValue, $"{AttributeName(type)} is empty or not UTF-8");
            return null;
        }
        return Encoding.UTF8.GetString(value);
    }

    private IPAddress? Address(byte type, ReadOnlySpan<byte> value, IPAddress? earlier)
    {
        if (earlier is not null)
        {
            Refuse(RadiusErrorCause.InvalidRequest, $"{AttributeName(type)} given twice");
            return earlier;
        }
        if (value.Length != 4)
        {
            Refuse(RadiusErrorCause.InvalidAttributeValue, $"{AttributeName(type)} of {value.Length} bytes");
            return null;
        }
        return new IPAddress(value);
    }

    private TimeSpan? Seconds(byte type, ReadOnlySpan<byte> value, TimeSpan? earlier)
    {
        if (earlier is not null)
        {
            Refuse(RadiusErrorCause.InvalidRequest, $"{AttributeName(type)} given twice");
            return earlier;
        }
        if (value.Length != 4)
        {
            Refuse(RadiusErrorCause.InvalidAttributeValue, $"{AttributeName(type)} of {value.Length} bytes");
            return null;
        }
        return TimeSpan.FromSeconds(BinaryPrimitives.ReadUInt32BigEndian(value));
    }

    /// <summary>The first problem found is the one the NAK names.</summary>
    private void Refuse(RadiusErrorCause cause, string reason)
    {
        if (Refusal is null)
        {
            Refusal = cause;
            RefusalReason = reason;
        }
    }

    private static string Clip(string text) => text.Length <= 64 ? text : text[..64] + "…";

    private static string AttributeName(byte type) => (RadiusAttributeType)type switch
    {
        RadiusAttributeType.UserName => "User-Name",
        RadiusAttributeType.NasIpAddress => "NAS-IP-Address",
        RadiusAttributeType.NasPort => "NAS-Port",
        RadiusAttributeType.FramedIpAddress => "Framed-IP-Address",
        RadiusAttributeType.FilterId => "Filter-Id",
        RadiusAttributeType.State => "State",
        RadiusAttributeType.Class => "Class",
        RadiusAttributeType.VendorSpecific => "Vendor-Specific",
        RadiusAttributeType.SessionTimeout => "Session-Timeout",
        RadiusAttributeType.IdleTimeout => "Idle-Timeout",
        RadiusAttributeType.CalledStationId => "Called-Station-Id",
        RadiusAttributeType.CallingStationId => "Calling-Station-Id",
        RadiusAttributeType.NasIdentifier => "NAS-Identifier",
        RadiusAttributeType.AcctSessionId => "Acct-Session-Id",
        RadiusAttributeType.AcctMultiSessionId => "Acct-Multi-Session-Id",
        RadiusAttributeType.NasPortType => "NAS-Port-Type",
        RadiusAttributeType.NasPortId => "NAS-Port-Id",
        RadiusAttributeType.ChargeableUserIdentity => "Chargeable-User-Identity",
        RadiusAttributeType.NasIpv6Address => "NAS-IPv6-Address",
        RadiusAttributeType.FramedIpv6Prefix => "Framed-IPv6-Prefix",
        _ => type.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
