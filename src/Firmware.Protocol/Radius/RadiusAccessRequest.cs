using Firmware.Protocol.Auth;

namespace Firmware.Protocol.Radius;

/// <summary>
/// What one PPP login puts into an Access-Request. The method decides which password attributes are sent:
/// PAP <see cref="Password"/>; CHAP-MD5, MS-CHAPv1 and MS-CHAPv2 the authenticator's <see cref="Challenge"/>,
/// the CHAP <see cref="ChapIdentifier"/> and the peer's Response value exactly as it came in the PPP packet.
/// </summary>
public readonly ref struct RadiusLogin
{
    public AuthMethod Method { get; init; }

    /// <summary>The name the peer sent (PAP Peer-ID, CHAP Name).</summary>
    public ReadOnlySpan<byte> UserName { get; init; }

    /// <summary>PAP only: the password the peer sent (at most 128 bytes).</summary>
    public ReadOnlySpan<byte> Password { get; init; }

    /// <summary>CHAP methods: the Identifier of the Challenge/Response exchange.</summary>
    public byte ChapIdentifier { get; init; }

    /// <summary>CHAP-MD5: our challenge (1..253 bytes); MS-CHAPv1: 8 bytes; MS-CHAPv2: the 16-byte authenticator challenge.</summary>
    public ReadOnlySpan<byte> Challenge { get; init; }

    /// <summary>
    /// The PPP Response value: CHAP-MD5 the 16-byte digest; MS-CHAPv1 49 bytes (LM-Response 24, NT-Response
    /// 24, Flags); MS-CHAPv2 49 bytes (Peer-Challenge 16, Reserved 8, NT-Response 24, Flags).
    /// </summary>
    public ReadOnlySpan<byte> Response { get; init; }

    /// <summary>NAS-IP-Address (4 bytes) or empty; at least one of it and <see cref="NasIdentifier"/> is required.</summary>
    public ReadOnlySpan<byte> NasIpAddress { get; init; }

    /// <summary>NAS-Identifier or empty.</summary>
    public ReadOnlySpan<byte> NasIdentifier { get; init; }

    /// <summary>Calling-Station-Id (the peer's address as text) or empty.</summary>
    public ReadOnlySpan<byte> CallingStationId { get; init; }
}

/// <summary>
/// Builds a signed Access-Request for a PPP login (RFC 2865, RFC 2548 for MS-CHAP): User-Name, the method's
/// password attributes, NAS-IP-Address and/or NAS-Identifier, NAS-Port-Type Virtual, Service-Type Framed,
/// Framed-Protocol PPP, Calling-Station-Id and a Message-Authenticator (always, RFC 3579 and BlastRADIUS).
/// </summary>
public static class RadiusAccessRequest
{
    /// <summary>MS-CHAP-Response / MS-CHAP2-Response values: Ident, Flags and 48 bytes.</summary>
    public const int MsChapResponseLength = 50;

    /// <summary>The PPP MS-CHAP (v1 and v2) Response value length.</summary>
    public const int PppMsChapResponseLength = 49;

    /// <summary>
    /// Writes and signs the request into <paramref name="destination"/>; returns its length, or -1 if it does
    /// not fit. Throws <see cref="ArgumentException"/> for a login whose fields do not suit its method (our
    /// caller's mistake, never peer bytes: the authenticators check lengths before they ask).
    /// </summary>
    public static int Write(Span<byte> destination, byte identifier, ReadOnlySpan<byte> requestAuthenticator, ReadOnlySpan<byte> secret, scoped in RadiusLogin login)
    {
        Validate(login, requestAuthenticator);
        var writer = new RadiusPacketWriter(destination, RadiusCode.AccessRequest, identifier, requestAuthenticator);
        writer.Add(RadiusAttributeType.UserName, login.UserName);
        switch (login.Method)
        {
            case AuthMethod.Pap:
                var hidden = writer.Reserve((byte)RadiusAttributeType.UserPassword, RadiusAttributeCrypto.HiddenPasswordLength(login.Password.Length));
                if (!writer.Overflowed)
                {
                    RadiusAttributeCrypto.HideUserPassword(login.Password, secret, requestAuthenticator, hidden);
                }
                break;
            case AuthMethod.ChapMd5:
                var chapPassword = writer.Reserve((byte)RadiusAttributeType.ChapPassword, 17);
                if (!writer.Overflowed)
                {
                    chapPassword[0] = login.ChapIdentifier;
                    login.Response.CopyTo(chapPassword[1..]);
                }
                writer.Add(RadiusAttributeType.ChapChallenge, login.Challenge);
                break;
            case AuthMethod.MsChapV1:
                writer.AddMicrosoft(MicrosoftAttributeType.MsChapChallenge, login.Challenge);
                var v1 = writer.ReserveVendor(RadiusWire.MicrosoftVendorId, (byte)MicrosoftAttributeType.MsChapResponse, MsChapResponseLength);
                if (!writer.Overflowed)
                {
                    // PPP: LM-Response 24, NT-Response 24, Flags. RADIUS: Ident, Flags, LM-Response, NT-Response.
                    v1[0] = login.ChapIdentifier;
                    v1[1] = login.Response[48];
                    login.Response[..48].CopyTo(v1[2..]);
                }
                break;
            case AuthMethod.MsChapV2:
                writer.AddMicrosoft(MicrosoftAttributeType.MsChapChallenge, login.Challenge);
                var v2 = writer.ReserveVendor(RadiusWire.MicrosoftVendorId, (byte)MicrosoftAttributeType.MsChap2Response, MsChapResponseLength);
                if (!writer.Overflowed)
                {
                    // PPP: Peer-Challenge 16, Reserved 8, NT-Response 24, Flags.
                    // RADIUS: Ident, Flags, Peer-Challenge, Reserved, Response.
                    v2[0] = login.ChapIdentifier;
                    v2[1] = login.Response[48];
                    login.Response[..48].CopyTo(v2[2..]);
                }
                break;
            default:
                throw new ArgumentException($"No RADIUS form for {login.Method}.", nameof(login));
        }
        if (!login.NasIpAddress.IsEmpty)
        {
            writer.Add(RadiusAttributeType.NasIpAddress, login.NasIpAddress);
        }
        if (!login.NasIdentifier.IsEmpty)
        {
            writer.Add(RadiusAttributeType.NasIdentifier, login.NasIdentifier);
        }
        writer.AddUInt32(RadiusAttributeType.NasPortType, RadiusWire.NasPortTypeVirtual);
        writer.AddUInt32(RadiusAttributeType.ServiceType, RadiusWire.ServiceTypeFramed);
        writer.AddUInt32(RadiusAttributeType.FramedProtocol, RadiusWire.FramedProtocolPpp);
        if (!login.CallingStationId.IsEmpty)
        {
            writer.Add(RadiusAttributeType.CallingStationId, login.CallingStationId);
        }
        writer.AddMessageAuthenticator();
        var length = writer.Finish();
        if (length < 0)
        {
            return -1;
        }
        RadiusAuthenticator.Sign(destination[..length], secret);
        return length;
    }

    private static void Validate(scoped in RadiusLogin login, ReadOnlySpan<byte> requestAuthenticator)
    {
        var problem = requestAuthenticator.Length != RadiusWire.AuthenticatorLength ? "the Request Authenticator must be 16 bytes"
            : login.UserName.IsEmpty ? "User-Name is empty"
            : login.NasIpAddress.IsEmpty && login.NasIdentifier.IsEmpty ? "a NAS-IP-Address or NAS-Identifier is required"
            : !login.NasIpAddress.IsEmpty && login.NasIpAddress.Length != 4 ? "NAS-IP-Address must be 4 bytes"
            : login.Method switch
            {
                AuthMethod.Pap when login.Password.Length > RadiusWire.MaxUserPasswordLength => "a PAP password is at most 128 bytes",
                AuthMethod.ChapMd5 when login.Response.Length != 16 => "a CHAP-MD5 response is 16 bytes",
                AuthMethod.ChapMd5 when login.Challenge.IsEmpty || login.Challenge.Length > RadiusWire.MaxAttributeValueLength => "a CHAP challenge is 1 to 253 bytes",
                AuthMethod.MsChapV1 when login.Challenge.Length != 8 => "an MS-CHAP challenge is 8 bytes",
                AuthMethod.MsChapV2 when login.Challenge.Length != 16 => "an MS-CHAPv2 challenge is 16 bytes",
                AuthMethod.MsChapV1 or AuthMethod.MsChapV2 when login.Response.Length != PppMsChapResponseLength => "an MS-CHAP response is 49 bytes",
                _ => null,
            };
        if (problem is not null)
        {
            throw new ArgumentException($"Access-Request for {login.Method}: {problem}.", nameof(login));
        }
    }
}
