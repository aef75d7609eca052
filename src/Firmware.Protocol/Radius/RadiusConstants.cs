namespace Firmware.Protocol.Radius;

/// <summary>RADIUS packet codes: RFC 2865 section 3, RFC 2866 section 3, RFC 5176 section 2.3.</summary>
public enum RadiusCode : byte
{
    AccessRequest = 1,
    AccessAccept = 2,
    AccessReject = 3,
    AccountingRequest = 4,
    AccountingResponse = 5,
    AccessChallenge = 11,
    StatusServer = 12,
    StatusClient = 13,
    DisconnectRequest = 40,
    DisconnectAck = 41,
    DisconnectNak = 42,
    CoaRequest = 43,
    CoaAck = 44,
    CoaNak = 45,
}

/// <summary>The standard attribute types we write or read (RFC 2865 section 5, RFC 2866, RFC 2869, RFC 5176).</summary>
public enum RadiusAttributeType : byte
{
    UserName = 1,
    UserPassword = 2,
    ChapPassword = 3,
    NasIpAddress = 4,
    NasPort = 5,
    ServiceType = 6,
    FramedProtocol = 7,
    FramedIpAddress = 8,
    FilterId = 11,
    ReplyMessage = 18,
    State = 24,
    Class = 25,
    VendorSpecific = 26,
    SessionTimeout = 27,
    IdleTimeout = 28,
    CalledStationId = 30,
    CallingStationId = 31,
    NasIdentifier = 32,
    ProxyState = 33,
    AcctStatusType = 40,
    AcctDelayTime = 41,
    AcctInputOctets = 42,
    AcctOutputOctets = 43,
    AcctSessionId = 44,
    AcctAuthentic = 45,
    AcctSessionTime = 46,
    AcctInputPackets = 47,
    AcctOutputPackets = 48,
    AcctTerminateCause = 49,
    AcctMultiSessionId = 50,
    AcctInputGigawords = 52,
    AcctOutputGigawords = 53,
    EventTimestamp = 55,
    ChapChallenge = 60,
    NasPortType = 61,
    MessageAuthenticator = 80,
    AcctInterimInterval = 85,
    NasPortId = 87,
    ChargeableUserIdentity = 89,
    NasIpv6Address = 95,
    FramedIpv6Prefix = 97,
    ErrorCause = 101,
}

/// <summary>Acct-Status-Type values (RFC 2866 section 5.1, RFC 2869 section 5.1).</summary>
public enum AcctStatusType : uint
{
    Start = 1,
    Stop = 2,
    InterimUpdate = 3,
    AccountingOn = 7,
    AccountingOff = 8,
}

/// <summary>Acct-Authentic values (RFC 2866 section 5.6): who authenticated the user.</summary>
public enum AcctAuthentic : uint
{
    Radius = 1,
    Local = 2,
}

/// <summary>Acct-Terminate-Cause values (RFC 2866 section 5.10) that a PPTP server has a use for.</summary>
public enum AcctTerminateCause : uint
{
    UserRequest = 1,
    LostCarrier = 2,
    LostService = 3,
    IdleTimeout = 4,
    SessionTimeout = 5,
    AdminReset = 6,
    AdminReboot = 7,
    PortError = 8,
    NasError = 9,
    NasRequest = 10,
    ServiceUnavailable = 15,
    UserError = 17,
}

/// <summary>Error-Cause values (RFC 5176 section 3.5) a Disconnect-ACK/NAK or CoA-ACK/NAK carries.</summary>
public enum RadiusErrorCause : uint
{
    ResidualSessionContextRemoved = 201,
    InvalidEapPacket = 202,
    UnsupportedAttribute = 401,
    MissingAttribute = 402,
    NasIdentificationMismatch = 403,
    InvalidRequest = 404,
    UnsupportedService = 405,
    UnsupportedExtension = 406,
    InvalidAttributeValue = 407,
    AdministrativelyProhibited = 501,
    RequestNotRoutable = 502,
    SessionContextNotFound = 503,
    SessionContextNotRemovable = 504,
    OtherProxyProcessingError = 505,
    ResourcesUnavailable = 506,
    RequestInitiated = 507,
    MultipleSessionSelectionUnsupported = 508,
}

/// <summary>Microsoft vendor-specific attribute types (vendor 311), RFC 2548 section 2.</summary>
public enum MicrosoftAttributeType : byte
{
    MsChapResponse = 1,
    MsChapError = 2,
    MsMppeEncryptionPolicy = 7,
    MsMppeEncryptionTypes = 8,
    MsChapChallenge = 11,
    MsChapMppeKeys = 12,
    MsMppeSendKey = 16,
    MsMppeRecvKey = 17,
    MsChap2Response = 25,
    MsChap2Success = 26,
}

/// <summary>Wire limits and well-known values of RADIUS.</summary>
public static class RadiusWire
{
    /// <summary>Code, Identifier, Length and the 16-byte Authenticator.</summary>
    public const int HeaderLength = 20;

    /// <summary>RFC 2865 section 3: the largest packet.</summary>
    public const int MaxPacketLength = 4096;

    /// <summary>Request and Response Authenticator length.</summary>
    public const int AuthenticatorLength = 16;

    /// <summary>Attribute type and length bytes.</summary>
    public const int AttributeHeaderLength = 2;

    /// <summary>The largest attribute value (255 minus the type and length bytes).</summary>
    public const int MaxAttributeValueLength = 253;

    /// <summary>Vendor-Id (4) and the vendor type and length bytes (2) in front of a sub-attribute value.</summary>
    public const int VendorHeaderLength = 6;

    /// <summary>The largest vendor sub-attribute value.</summary>
    public const int MaxVendorValueLength = MaxAttributeValueLength - VendorHeaderLength;

    /// <summary>RFC 2869 section 5.14: an HMAC-MD5 digest.</summary>
    public const int MessageAuthenticatorLength = 16;

    /// <summary>IANA private enterprise number of Microsoft (RFC 2548).</summary>
    public const uint MicrosoftVendorId = 311;

    /// <summary>
    /// Our limit on a shared secret: RFC 2865 sets none, FreeRADIUS and NPS take secrets far shorter, and a
    /// secret is hashed with MD5 per packet, so a longer one adds nothing.
    /// </summary>
    public const int MaxSharedSecretLength = 128;

    /// <summary>RFC 2865 section 5.2: User-Password carries at most 128 bytes.</summary>
    public const int MaxUserPasswordLength = 128;

    /// <summary>NAS-Port-Type Virtual (RFC 2865 section 5.41).</summary>
    public const uint NasPortTypeVirtual = 5;

    /// <summary>Service-Type Framed (RFC 2865 section 5.6).</summary>
    public const uint ServiceTypeFramed = 2;

    /// <summary>RFC 5176 section 3: the UDP port Disconnect and CoA requests go to.</summary>
    public const int DynamicAuthorizationPort = 3799;

    /// <summary>Framed-Protocol PPP (RFC 2865 section 5.7).</summary>
    public const uint FramedProtocolPpp = 1;

    /// <summary>True for the codes a client sends and a server answers with a Response Authenticator.</summary>
    public static bool IsResponse(RadiusCode code) => code is RadiusCode.AccessAccept or RadiusCode.AccessReject
        or RadiusCode.AccessChallenge or RadiusCode.AccountingResponse or RadiusCode.DisconnectAck
        or RadiusCode.DisconnectNak or RadiusCode.CoaAck or RadiusCode.CoaNak;

    /// <summary>
    /// True for requests whose authenticator is an MD5 over the packet with a zero authenticator
    /// (Accounting-Request, RFC 2866 section 3; Disconnect-Request and CoA-Request, RFC 5176 section 2.3).
    /// </summary>
    public static bool HasComputedRequestAuthenticator(RadiusCode code) =>
        code is RadiusCode.AccountingRequest or RadiusCode.DisconnectRequest or RadiusCode.CoaRequest;
}

/// <summary>
/// Fills <paramref name="destination"/> with unpredictable bytes (Request Authenticators, salts). Production
/// passes the kernel's getrandom (<c>SystemRandom.Fill</c>); tests pass a fixed or seeded source.
/// </summary>
public delegate void RadiusRandomFill(Span<byte> destination);
