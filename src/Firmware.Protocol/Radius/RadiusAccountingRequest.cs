using System.Net;
using System.Text;

namespace Firmware.Protocol.Radius;

/// <summary>
/// One accounting event of one session, as the server's runtime saw it: what RFC 2866 calls the session's
/// identity and its usage so far. Counters are from the NAS's side: input is what the user sent us.
/// </summary>
public sealed record AccountingRecord
{
    public required AcctStatusType StatusType { get; init; }

    /// <summary>Acct-Session-Id: the same in every record of one session, unique across sessions and boots.</summary>
    public required string SessionId { get; init; }

    /// <summary>User-Name: the account that logged in (as the RADIUS server knows it).</summary>
    public required string UserName { get; init; }

    /// <summary>Who checked the login: a RADIUS server, or the users in the config.</summary>
    public AcctAuthentic Authentic { get; init; } = AcctAuthentic.Radius;

    /// <summary>NAS-Port: the PPTP call ID we gave the call, so records of concurrent sessions differ.</summary>
    public uint NasPort { get; init; }

    /// <summary>Framed-IP-Address: the address the session has inside the tunnel.</summary>
    public IPAddress? FramedAddress { get; init; }

    /// <summary>Calling-Station-Id: the peer's public address.</summary>
    public string? CallingStationId { get; init; }

    /// <summary>Called-Station-Id: our address the peer connected to.</summary>
    public string? CalledStationId { get; init; }

    /// <summary>The Access-Accept's Class attributes, echoed unchanged (RFC 2865 section 5.25).</summary>
    public IReadOnlyList<byte[]> Classes { get; init; } = [];

    /// <summary>Acct-Session-Time in seconds (Interim and Stop).</summary>
    public uint SessionSeconds { get; init; }

    public ulong InputOctets { get; init; }

    public ulong OutputOctets { get; init; }

    public ulong InputPackets { get; init; }

    public ulong OutputPackets { get; init; }

    /// <summary>Stop only: why the session ended.</summary>
    public AcctTerminateCause? TerminateCause { get; init; }

    /// <summary>Monotonic timestamp of the event, for Acct-Delay-Time when it is sent later.</summary>
    public long EventTimestamp { get; init; }

    /// <summary>Usage counters go in Interim-Update and Stop; Start has none (RFC 2866 section 5 table).</summary>
    public bool CarriesUsage => StatusType is AcctStatusType.Stop or AcctStatusType.InterimUpdate;
}

/// <summary>
/// Builds a signed Accounting-Request (RFC 2866, Gigawords from RFC 2869 section 5.1): Acct-Status-Type,
/// Acct-Session-Id, User-Name, the NAS's identity, NAS-Port and NAS-Port-Type Virtual, Service-Type Framed,
/// Framed-Protocol PPP, Framed-IP-Address, the station ids, Class echoed, Acct-Authentic, Acct-Delay-Time, and
/// for Interim-Update and Stop the session time, octets (low 32 bits plus Gigawords) and packets, plus the
/// terminate cause in a Stop. A Message-Authenticator is added too: RFC 2866 does not ask for one, but servers
/// that require it on every request (BlastRADIUS hardening) take the packet, and the others ignore it.
/// </summary>
public static class RadiusAccountingRequest
{
    /// <summary>
    /// Writes and signs the request; returns its length, or -1 if it does not fit. Packet counters above
    /// 2^32 are sent as 2^32-1: RFC 2866 has no Gigawords for packets.
    /// </summary>
    public static int Write(Span<byte> destination, byte identifier, ReadOnlySpan<byte> secret, AccountingRecord record,
        ReadOnlySpan<byte> nasIpAddress, ReadOnlySpan<byte> nasIdentifier, uint delaySeconds)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (nasIpAddress.IsEmpty && nasIdentifier.IsEmpty)
        {
            throw new ArgumentException("An Accounting-Request needs NAS-IP-Address or NAS-Identifier (RFC 2866 section 4.1).");
        }
        var writer = new RadiusPacketWriter(destination, RadiusCode.AccountingRequest, identifier, default);
        writer.AddUInt32(RadiusAttributeType.AcctStatusType, (uint)record.StatusType);
        AddText(ref writer, RadiusAttributeType.AcctSessionId, record.SessionId);
        AddText(ref writer, RadiusAttributeType.UserName, record.UserName);
        if (!nasIpAddress.IsEmpty)
        {
            writer.Add(RadiusAttributeType.NasIpAddress, nasIpAddress);
        }
        if (!nasIdentifier.IsEmpty)
        {
            writer.Add(RadiusAttributeType.NasIdentifier, nasIdentifier);
        }
        writer.AddUInt32(RadiusAttributeType.NasPort, record.NasPort);
        writer.AddUInt32(RadiusAttributeType.NasPortType, RadiusWire.NasPortTypeVirtual);
        writer.AddUInt32(RadiusAttributeType.ServiceType, RadiusWire.ServiceTypeFramed);
        writer.AddUInt32(RadiusAttributeType.FramedProtocol, RadiusWire.FramedProtocolPpp);
        if (record.FramedAddress is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetwork } framed)
        {
            Span<byte> address = stackalloc byte[4];
            framed.TryWriteBytes(address, out _);
            writer.Add(RadiusAttributeType.FramedIpAddress, address);
        }
        AddText(ref writer, RadiusAttributeType.CallingStationId, record.CallingStationId);
        AddText(ref writer, RadiusAttributeType.CalledStationId, record.CalledStationId);
        foreach (var value in record.Classes)
        {
            writer.Add(RadiusAttributeType.Class, value);
        }
        writer.AddUInt32(RadiusAttributeType.AcctAuthentic, (uint)record.Authentic);
        writer.AddUInt32(RadiusAttributeType.AcctDelayTime, delaySeconds);
        if (record.CarriesUsage)
        {
            writer.AddUInt32(RadiusAttributeType.AcctSessionTime, record.SessionSeconds);
            writer.AddUInt32(RadiusAttributeType.AcctInputOctets, (uint)record.InputOctets);
            writer.AddUInt32(RadiusAttributeType.AcctInputGigawords, (uint)(record.InputOctets >> 32));
            writer.AddUInt32(RadiusAttributeType.AcctOutputOctets, (uint)record.OutputOctets);
            writer.AddUInt32(RadiusAttributeType.AcctOutputGigawords, (uint)(record.OutputOctets >> 32));
            writer.AddUInt32(RadiusAttributeType.AcctInputPackets, (uint)Math.Min(record.InputPackets, uint.MaxValue));
            writer.AddUInt32(RadiusAttributeType.AcctOutputPackets, (uint)Math.Min(record.OutputPackets, uint.MaxValue));
        }
        if (record.StatusType == AcctStatusType.Stop && record.TerminateCause is { } cause)
        {
            writer.AddUInt32(RadiusAttributeType.AcctTerminateCause, (uint)cause);
        }
        writer.AddMessageAuthenticator();
        var length = writer.Finish();
        if (length < 0 || !RadiusAuthenticator.Sign(destination[..length], secret))
        {
            return -1;
        }
        return length;
    }

    private static void AddText(ref RadiusPacketWriter writer, RadiusAttributeType type, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }
        // Bounded by the attribute: a longer one is cut at a whole character, not dropped, so the record still goes.
        Span<byte> bytes = stackalloc byte[RadiusWire.MaxAttributeValueLength];
        Encoding.UTF8.GetEncoder().Convert(text, bytes, flush: true, out _, out var length, out _);
        writer.Add(type, bytes[..length]);
    }
}

/// <summary>
/// Status-Server (RFC 5997): a probe a server answers without doing any work (Access-Accept on its
/// authentication port, Accounting-Response on its accounting port). It must carry a Message-Authenticator,
/// which is all that makes it verifiable, and names the NAS like every request.
/// </summary>
public static class RadiusStatusServer
{
    /// <summary>Writes and signs the probe; returns its length, or -1 if it does not fit.</summary>
    public static int Write(Span<byte> destination, byte identifier, ReadOnlySpan<byte> requestAuthenticator, ReadOnlySpan<byte> secret,
        ReadOnlySpan<byte> nasIpAddress, ReadOnlySpan<byte> nasIdentifier)
    {
        var writer = new RadiusPacketWriter(destination, RadiusCode.StatusServer, identifier, requestAuthenticator);
        if (!nasIpAddress.IsEmpty)
        {
            writer.Add(RadiusAttributeType.NasIpAddress, nasIpAddress);
        }
        if (!nasIdentifier.IsEmpty)
        {
            writer.Add(RadiusAttributeType.NasIdentifier, nasIdentifier);
        }
        writer.AddMessageAuthenticator();
        var length = writer.Finish();
        return length < 0 || !RadiusAuthenticator.Sign(destination[..length], secret) ? -1 : length;
    }
}
