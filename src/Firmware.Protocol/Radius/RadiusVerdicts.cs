using System.Net;
using Firmware.Protocol.Auth;

namespace Firmware.Protocol.Radius;

/// <summary>
/// What a verified RADIUS answer means for one PPP login: the request written from a <see cref="CredentialCheck"/>
/// and the answer turned into a <see cref="CredentialVerdict"/>. An accept is taken only when it carries what the
/// method needs (MS-CHAPv2's S= for the client to check us; MPPE keys when MPPE is required), so a RADIUS server
/// configured without them gives a clear refusal here, not a tunnel that fails later in CCP.
/// </summary>
public static class RadiusVerdicts
{
    private static readonly IPAddress NasAssigns = new([255, 255, 255, 254]);

    /// <summary>How much of a server's Reply-Message goes into a verdict's reason (our log line).</summary>
    private const int MaxReplyInReason = 200;

    /// <summary>The shortest Acct-Interim-Interval taken from a server (RFC 2869 section 5.16: it MUST NOT be below 60).</summary>
    public const uint MinInterimSeconds = 60;

    /// <summary>The methods a RADIUS server can check (all four PPP login methods).</summary>
    public static bool CanCheck(AuthMethod method) => method is AuthMethod.Pap or AuthMethod.ChapMd5 or AuthMethod.MsChapV1 or AuthMethod.MsChapV2;

    /// <summary>Writes and signs the Access-Request for <paramref name="check"/>; the length, or -1 if it does not fit.</summary>
    public static int WriteRequest(Span<byte> destination, byte identifier, ReadOnlySpan<byte> requestAuthenticator, ReadOnlySpan<byte> secret,
        CredentialCheck check, ReadOnlySpan<byte> nasIpAddress, ReadOnlySpan<byte> nasIdentifier, ReadOnlySpan<byte> callingStationId)
    {
        ArgumentNullException.ThrowIfNull(check);
        var pap = check.Method == AuthMethod.Pap;
        return RadiusAccessRequest.Write(destination, identifier, requestAuthenticator, secret, new RadiusLogin
        {
            Method = check.Method,
            UserName = check.UserNameBytes,
            Password = pap ? check.Response : default,
            ChapIdentifier = check.ChapIdentifier,
            Challenge = pap ? default : check.Challenge,
            Response = pap ? default : check.Response,
            NasIpAddress = nasIpAddress,
            NasIdentifier = nasIdentifier,
            CallingStationId = callingStationId,
        });
    }

    /// <summary>The verdict an answer gives <paramref name="check"/>; <paramref name="server"/> names the server in the reason.</summary>
    public static CredentialVerdict FromAnswer(CredentialCheck check, RadiusAccessAnswer answer, bool mppeKeysRequired, string server)
    {
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(answer);
        var method = AuthMethods.Describe(check.Method);
        var name = check.UserName;
        var said = answer.ReplyMessage is { Length: > 0 } reply ? $" (\"{reply[..Math.Min(reply.Length, MaxReplyInReason)]}\")" : "";
        if (!answer.Accepted)
        {
            var code = answer.MsChapErrorCode ?? MsChapFailure.AuthenticationFailure;
            return CredentialVerdict.Refuse($"{method}: RADIUS {server} rejected user '{name}'{said}.", name,
                retryAllowed: answer.MsChapRetryAllowed, msChapError: code);
        }

        MppeKeyMaterial? keys = null;
        byte[]? authenticatorResponse = null;
        switch (check.Method)
        {
            case AuthMethod.MsChapV2:
                if (answer.AuthenticatorResponse is null)
                {
                    return CredentialVerdict.Refuse($"{method}: RADIUS {server} accepted user '{name}' without MS-CHAP2-Success, so the client could not check this server; refused.", name);
                }
                authenticatorResponse = answer.AuthenticatorResponse;
                if (answer.MppeSendKey is { } send && answer.MppeRecvKey is { } receive)
                {
                    keys = MppeKeyMaterial.FromStartKeys(send, receive, NtResponse(check));
                }
                break;
            case AuthMethod.MsChapV1:
                if (answer.MsChapMppeKeys is { } v1Keys)
                {
                    keys = MppeKeyMaterial.FromMsChapV1Keys(v1Keys.AsSpan(0, 8), v1Keys.AsSpan(8, 16), check.Challenge, NtResponse(check));
                }
                else if (answer.MppeSendKey is { } send1 && answer.MppeRecvKey is { } receive1)
                {
                    keys = MppeKeyMaterial.FromStartKeys(send1, receive1, NtResponse(check));
                }
                break;
        }
        if (mppeKeysRequired && keys is null)
        {
            var what = check.Method switch
            {
                AuthMethod.MsChapV2 => "MS-MPPE-Send-Key and MS-MPPE-Recv-Key",
                AuthMethod.MsChapV1 => "MS-CHAP-MPPE-Keys",
                _ => "MPPE keys (only MS-CHAP and MS-CHAPv2 logins give them)",
            };
            return CredentialVerdict.Refuse($"{method}: RADIUS {server} accepted user '{name}' but sent no {what}, and MPPE is required; refused.", name);
        }

        var authorization = new SessionAuthorization(
            FramedAddress(answer.FramedIpAddress),
            answer.SessionTimeout is > 0 and var session ? TimeSpan.FromSeconds(session) : null,
            answer.IdleTimeout is > 0 and var idle ? TimeSpan.FromSeconds(idle) : null,
            answer.Classes,
            // RFC 2869 section 5.16: never more often than once a minute, whatever the server says.
            answer.InterimInterval is > 0 and var interim ? TimeSpan.FromSeconds(Math.Max(interim, MinInterimSeconds)) : null)
        {
            FromRadius = true,
            EncryptionRequired = answer.MppeEncryptionPolicy == EncryptionPolicyRequired,
            MppeKeyLengths = KeyLengths(answer.MppeEncryptionTypes),
        };
        return CredentialVerdict.Accept(name, $"{method}: user '{name}' accepted by RADIUS {server}{said}.", keys, authenticatorResponse, authorization);
    }

    /// <summary>MS-MPPE-Encryption-Policy (RFC 2548 section 2.4.4): 1 encryption allowed, 2 required.</summary>
    private const uint EncryptionPolicyRequired = 2;

    /// <summary>
    /// MS-MPPE-Encryption-Types (RFC 2548 section 2.4.5): 0x2 40-bit, 0x4 128-bit, and 0x8 56-bit as Windows sends it.
    /// Absent or 0 (the server lists none) means no restriction from RADIUS.
    /// </summary>
    private static int[]? KeyLengths(uint? types) => types is null or 0
        ? null
        : [.. new[] { (0x2u, 40), (0x8u, 56), (0x4u, 128) }.Where(t => (types.Value & t.Item1) != 0).Select(t => t.Item2)];

    /// <summary>
    /// Framed-IP-Address 255.255.255.255 lets the user choose and 255.255.255.254 asks the NAS to (RFC 2865
    /// section 5.8): both mean our pool here. 0.0.0.0 is no address either.
    /// </summary>
    private static IPAddress? FramedAddress(IPAddress? address) =>
        address is null || address.Equals(IPAddress.Broadcast) || address.Equals(IPAddress.Any) || address.Equals(NasAssigns)
            ? null
            : address;

    /// <summary>MS-CHAP (both versions): the NT-Response is bytes 24..48 of the PPP Response value.</summary>
    private static ReadOnlySpan<byte> NtResponse(CredentialCheck check) => check.Response.AsSpan(24, 24);
}
