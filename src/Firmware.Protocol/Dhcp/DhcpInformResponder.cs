using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Firmware.Protocol.Dhcp;

/// <summary>
/// Answers the DHCPINFORM (RFC 2131 3.4) a Windows client sends over its PPP link once IPCP is up, with a
/// DHCPACK carrying the routes to push as RFC 3442 classless static routes (option 121) and Microsoft's
/// option 249 (the same encoding, read by Windows before Vista), plus DNS (option 6) when configured: this is
/// how RRAS gives split-tunnel clients their routes. Pure and bounded: one IPv4 packet in, one IPv4 packet
/// out, the options precomputed once, nothing allocated per request, and no input throws.
/// </summary>
public sealed class DhcpInformResponder
{
    /// <summary>Most routes one option carries: 24 routes of at most 9 octets fit one 255-octet option.</summary>
    public const int MaxRoutes = 24;

    /// <summary>Room a reply needs: IPv4 and UDP headers, the BOOTP fixed part and every option we write.</summary>
    public const int MaxReplyLength = Ipv4HeaderLength + UdpHeaderLength + OptionsOffset + 3 + 6 + (2 + 4 * MaxDnsServers) + 2 * (2 + 9 * MaxRoutes) + 1;

    /// <summary>Most DNS servers put in option 6.</summary>
    public const int MaxDnsServers = 4;

    private const int Ipv4HeaderLength = 20;
    private const int UdpHeaderLength = 8;
    private const byte ProtocolUdp = 17;
    private const ushort ServerPort = 67;
    private const ushort ClientPort = 68;
    private const int OptionsOffset = 240; // op … file (236) and the magic cookie (4)
    private const int MinimumMessageLength = 300; // RFC 1542 2.1: relays and old clients expect at least this
    private const uint MagicCookie = 0x63825363;
    private const byte BootRequest = 1;
    private const byte BootReply = 2;
    private const byte OptionPad = 0;
    private const byte OptionDns = 6;
    private const byte OptionMessageType = 53;
    private const byte OptionServerIdentifier = 54;
    private const byte OptionParameterRequestList = 55;
    private const byte OptionClasslessRoutes = 121;
    private const byte OptionMicrosoftRoutes = 249;
    private const byte OptionEnd = 255;
    private const byte MessageInform = 8;
    private const byte MessageAck = 5;

    private readonly uint _server;
    private readonly byte[] _routes;
    private readonly byte[] _dns;

    /// <param name="serverAddress">Our address on the tunnels: the DHCP server identifier, and every route's router.</param>
    /// <param name="routes">The IPv4 prefixes to push, at most <see cref="MaxRoutes"/>.</param>
    /// <param name="dnsServers">DNS servers for option 6, at most <see cref="MaxDnsServers"/> (more are left out).</param>
    public DhcpInformResponder(IPAddress serverAddress, IReadOnlyList<IPNetwork> routes, IReadOnlyList<IPAddress> dnsServers)
    {
        ArgumentNullException.ThrowIfNull(serverAddress);
        ArgumentNullException.ThrowIfNull(routes);
        ArgumentNullException.ThrowIfNull(dnsServers);
        _server = ToUInt32(serverAddress);
        if (routes.Count > MaxRoutes)
        {
            throw new ArgumentOutOfRangeException(nameof(routes), $"at most {MaxRoutes} routes fit one DHCP option");
        }

        _routes = EncodeRoutes(routes, _server);
        var dnsCount = Math.Min(dnsServers.Count, MaxDnsServers);
        _dns = new byte[4 * dnsCount];
        for (var i = 0; i < dnsCount; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(_dns.AsSpan(4 * i), ToUInt32(dnsServers[i]));
        }
    }

    /// <summary>
    /// RFC 3442 3: per route, the prefix length, the significant octets of the destination (prefix length / 8,
    /// rounded up) and the router.
    /// </summary>
    private static byte[] EncodeRoutes(IReadOnlyList<IPNetwork> routes, uint router)
    {
        var length = 0;
        foreach (var route in routes)
        {
            length += 1 + (route.PrefixLength + 7) / 8 + 4;
        }

        var encoded = new byte[length];
        var at = 0;
        Span<byte> destination = stackalloc byte[4];
        foreach (var route in routes)
        {
            if (route.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
            {
                throw new ArgumentException($"{route} is not an IPv4 prefix", nameof(routes));
            }

            BinaryPrimitives.WriteUInt32BigEndian(destination, ToUInt32(route.BaseAddress));
            var significant = (route.PrefixLength + 7) / 8;
            encoded[at++] = (byte)route.PrefixLength;
            destination[..significant].CopyTo(encoded.AsSpan(at));
            at += significant;
            BinaryPrimitives.WriteUInt32BigEndian(encoded.AsSpan(at), router);
            at += 4;
        }

        return encoded;
    }

    private static uint ToUInt32(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"{address} is not an IPv4 address", nameof(address));
        }

        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    /// <summary>
    /// A glance for the data path: true when <paramref name="packet"/> is IPv4 UDP to port 67 (the only
    /// packets worth a closer look); every other packet costs this and nothing more.
    /// </summary>
    public static bool MayBeDhcp(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < Ipv4HeaderLength || packet[0] >> 4 != 4 || packet[9] != ProtocolUdp)
        {
            return false;
        }

        var headerLength = (packet[0] & 0x0f) * 4;
        return packet.Length >= headerLength + UdpHeaderLength && BinaryPrimitives.ReadUInt16BigEndian(packet[(headerLength + 2)..]) == ServerPort;
    }

    /// <summary>
    /// If <paramref name="request"/> is a well-formed DHCPINFORM (UDP 68 to 67, to the limited broadcast or to
    /// <c>serverAddress</c>, from a client that names its address), writes the DHCPACK, unicast to that
    /// address, into <paramref name="reply"/> and returns its length; otherwise returns 0 and writes nothing
    /// that matters. Options the client's Parameter Request List leaves out are not sent (RFC 2131 4.3.1).
    /// </summary>
    public int TryAnswer(ReadOnlySpan<byte> request, Span<byte> reply)
    {
        if (!TryParseInform(request, out var dhcp, out var client, out var requested))
        {
            return 0;
        }

        var withDns = _dns.Length > 0 && requested.Wants(OptionDns);
        var withRoutes = _routes.Length > 0 && requested.Wants(OptionClasslessRoutes);
        var withMicrosoftRoutes = _routes.Length > 0 && requested.Wants(OptionMicrosoftRoutes);
        var optionsLength = 3 + 6 + (withDns ? 2 + _dns.Length : 0) + (withRoutes ? 2 + _routes.Length : 0)
            + (withMicrosoftRoutes ? 2 + _routes.Length : 0) + 1;
        var messageLength = Math.Max(OptionsOffset + optionsLength, MinimumMessageLength);
        var udpLength = UdpHeaderLength + messageLength;
        var totalLength = Ipv4HeaderLength + udpLength;
        if (reply.Length < totalLength)
        {
            return 0;
        }

        var ip = reply[..Ipv4HeaderLength];
        var udp = reply.Slice(Ipv4HeaderLength, udpLength);
        var message = udp[UdpHeaderLength..];
        message.Clear();

        // BOOTP fixed part (RFC 2131 4.3.5, DHCPINFORM column): xid, flags, ciaddr, giaddr and chaddr copied,
        // yiaddr and siaddr zero, no lease time.
        message[0] = BootReply;
        dhcp[1..3].CopyTo(message[1..]); // htype, hlen
        dhcp.Slice(4, 4).CopyTo(message[4..]); // xid
        dhcp.Slice(10, 6).CopyTo(message[10..]); // flags, ciaddr
        dhcp.Slice(24, 20).CopyTo(message[24..]); // giaddr, chaddr
        BinaryPrimitives.WriteUInt32BigEndian(message[236..], MagicCookie);
        var options = message[OptionsOffset..];
        options[0] = OptionMessageType;
        options[1] = 1;
        options[2] = MessageAck;
        options[3] = OptionServerIdentifier;
        options[4] = 4;
        BinaryPrimitives.WriteUInt32BigEndian(options[5..], _server);
        var at = 9;
        if (withDns)
        {
            at = WriteOption(options, at, OptionDns, _dns);
        }

        if (withRoutes)
        {
            at = WriteOption(options, at, OptionClasslessRoutes, _routes);
        }

        if (withMicrosoftRoutes)
        {
            at = WriteOption(options, at, OptionMicrosoftRoutes, _routes);
        }

        options[at] = OptionEnd;

        BinaryPrimitives.WriteUInt16BigEndian(udp, ServerPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], ClientPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)udpLength);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], 0);

        ip[0] = 0x45;
        ip[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)totalLength);
        BinaryPrimitives.WriteUInt32BigEndian(ip[4..], 0); // identification, flags and fragment offset
        ip[8] = 64;
        ip[9] = ProtocolUdp;
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], _server);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], client);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Complement(Sum(ip, 0)));

        var pseudo = (_server >> 16) + (_server & 0xffff) + (client >> 16) + (client & 0xffff) + ProtocolUdp + (uint)udpLength;
        var checksum = Complement(Sum(udp, pseudo));
        // RFC 768: a computed 0 goes as all ones, 0 meaning "no checksum".
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], checksum == 0 ? (ushort)0xffff : checksum);
        return totalLength;
    }

    private static int WriteOption(Span<byte> options, int at, byte code, ReadOnlySpan<byte> value)
    {
        options[at] = code;
        options[at + 1] = (byte)value.Length;
        value.CopyTo(options[(at + 2)..]);
        return at + 2 + value.Length;
    }

    private bool TryParseInform(ReadOnlySpan<byte> packet, out ReadOnlySpan<byte> dhcp, out uint client, out RequestedOptions requested)
    {
        dhcp = default;
        client = 0;
        requested = default;
        if (packet.Length < Ipv4HeaderLength + UdpHeaderLength + OptionsOffset || packet[0] >> 4 != 4 || packet[9] != ProtocolUdp)
        {
            return false;
        }

        var headerLength = (packet[0] & 0x0f) * 4;
        var totalLength = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        // A fragment (MF set or an offset) cannot be read on its own; a DHCPINFORM never needs fragmenting.
        if (headerLength < Ipv4HeaderLength || totalLength > packet.Length || totalLength < headerLength + UdpHeaderLength
            || (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3fff) != 0)
        {
            return false;
        }

        var destination = BinaryPrimitives.ReadUInt32BigEndian(packet[16..]);
        if (destination != 0xffffffff && destination != _server)
        {
            return false;
        }

        var udp = packet[headerLength..totalLength];
        var udpLength = BinaryPrimitives.ReadUInt16BigEndian(udp[4..]);
        if (BinaryPrimitives.ReadUInt16BigEndian(udp) != ClientPort || BinaryPrimitives.ReadUInt16BigEndian(udp[2..]) != ServerPort
            || udpLength < UdpHeaderLength + OptionsOffset || udpLength > udp.Length)
        {
            return false;
        }

        dhcp = udp[UdpHeaderLength..udpLength];
        if (dhcp[0] != BootRequest || dhcp[2] > 16 || BinaryPrimitives.ReadUInt32BigEndian(dhcp[236..]) != MagicCookie)
        {
            return false;
        }

        // The client names its own address in ciaddr (RFC 2131 4.4.3); the IP source is the fallback.
        client = BinaryPrimitives.ReadUInt32BigEndian(dhcp[12..]);
        if (client == 0)
        {
            client = BinaryPrimitives.ReadUInt32BigEndian(packet[12..]);
        }

        if (client is 0 or 0xffffffff)
        {
            return false;
        }

        var messageType = 0;
        var options = dhcp[OptionsOffset..];
        for (var i = 0; i < options.Length;)
        {
            var code = options[i];
            if (code == OptionEnd)
            {
                break;
            }

            if (code == OptionPad)
            {
                i++;
                continue;
            }

            if (i + 1 >= options.Length || i + 2 + options[i + 1] > options.Length)
            {
                return false;
            }

            var value = options.Slice(i + 2, options[i + 1]);
            if (code == OptionMessageType && value.Length == 1)
            {
                messageType = value[0];
            }
            else if (code == OptionParameterRequestList)
            {
                requested = requested.With(value);
            }

            i += 2 + value.Length;
        }

        return messageType == MessageInform;
    }

    private static uint Sum(ReadOnlySpan<byte> data, uint sum)
    {
        var i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
        }

        return sum;
    }

    private static ushort Complement(uint sum)
    {
        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    /// <summary>The options a Parameter Request List names, of those we may send; no list means all of them.</summary>
    private readonly struct RequestedOptions
    {
        private const int Dns = 1;
        private const int Classless = 2;
        private const int Microsoft = 4;
        private readonly int _bits;
        private readonly bool _listed;

        private RequestedOptions(int bits, bool listed)
        {
            _bits = bits;
            _listed = listed;
        }

        public RequestedOptions With(ReadOnlySpan<byte> list)
        {
            var bits = _bits;
            foreach (var code in list)
            {
                bits |= code switch
                {
                    OptionDns => Dns,
                    OptionClasslessRoutes => Classless,
                    OptionMicrosoftRoutes => Microsoft,
                    _ => 0,
                };
            }

            return new RequestedOptions(bits, true);
        }

        public bool Wants(byte option) => !_listed || (_bits & option switch
        {
            OptionDns => Dns,
            OptionClasslessRoutes => Classless,
            _ => Microsoft,
        }) != 0;
    }
}
