using System.Buffers.Binary;

namespace Firmware.Protocol.Ip;

/// <summary>
/// TCP MSS clamping, as routers do on tunnels: the Maximum Segment Size option of a SYN or SYN-ACK is lowered
/// to what fits the tunnel, so TCP never sends segments the path would have to fragment or drop (the most
/// common PPTP complaint: pages that load halfway, because ICMP "fragmentation needed" is filtered somewhere).
/// Works in place on one IPv4 or IPv6 packet and fixes the TCP checksum incrementally (RFC 1624). Anything that
/// is not a well-formed TCP SYN with an MSS option above the limit is left exactly as it was; no input throws.
/// </summary>
public static class TcpMssClamp
{
    private const int Ipv4MinimumHeader = 20;
    private const int Ipv6Header = 40;
    private const int TcpMinimumHeader = 20;
    private const byte ProtocolTcp = 6;
    private const byte FlagSyn = 0x02;
    private const byte OptionEnd = 0;
    private const byte OptionNop = 1;
    private const byte OptionMss = 2;

    /// <summary>The largest MSS that fits <paramref name="mtu"/>: the MTU less the IP and TCP headers without options.</summary>
    public static ushort MaximumSegmentSize(int mtu, bool ipv6)
        => (ushort)Math.Clamp(mtu - (ipv6 ? Ipv6Header : Ipv4MinimumHeader) - TcpMinimumHeader, 0, ushort.MaxValue);

    /// <summary>
    /// Lowers the MSS of a TCP SYN in <paramref name="packet"/> to the limit for its IP version; true when it
    /// did. The limits come from <see cref="MaximumSegmentSize"/> for the tunnel's MTU.
    /// </summary>
    public static bool TryClamp(Span<byte> packet, ushort ipv4Limit, ushort ipv6Limit)
    {
        if (packet.IsEmpty)
        {
            return false;
        }
        int tcpOffset, tcpLength;
        ushort limit;
        switch (packet[0] >> 4)
        {
            case 4:
                var headerLength = (packet[0] & 0x0f) * 4;
                if (headerLength < Ipv4MinimumHeader || packet.Length < headerLength
                    || packet[9] != ProtocolTcp
                    // Only the first fragment carries the TCP header.
                    || (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x1fff) != 0)
                {
                    return false;
                }
                var totalLength = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
                if (totalLength > packet.Length || totalLength < headerLength)
                {
                    return false;
                }
                tcpOffset = headerLength;
                tcpLength = totalLength - headerLength;
                limit = ipv4Limit;
                break;
            case 6:
                // A TCP header straight after the fixed header; a SYN behind extension headers is left alone.
                if (packet.Length < Ipv6Header || packet[6] != ProtocolTcp)
                {
                    return false;
                }
                var payloadLength = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
                if (Ipv6Header + payloadLength > packet.Length)
                {
                    return false;
                }
                tcpOffset = Ipv6Header;
                tcpLength = payloadLength;
                limit = ipv6Limit;
                break;
            default:
                return false;
        }
        return ClampSegment(packet.Slice(tcpOffset, tcpLength), limit);
    }

    private static bool ClampSegment(Span<byte> tcp, ushort limit)
    {
        if (tcp.Length < TcpMinimumHeader || (tcp[13] & FlagSyn) == 0)
        {
            return false;
        }
        var headerLength = (tcp[12] >> 4) * 4;
        if (headerLength < TcpMinimumHeader || headerLength > tcp.Length)
        {
            return false;
        }
        var at = TcpMinimumHeader;
        while (at < headerLength)
        {
            var kind = tcp[at];
            if (kind == OptionEnd)
            {
                return false;
            }
            if (kind == OptionNop)
            {
                at++;
                continue;
            }
            if (at + 1 >= headerLength)
            {
                return false;
            }
            var length = tcp[at + 1];
            if (length < 2 || at + length > headerLength)
            {
                return false;
            }
            if (kind == OptionMss)
            {
                if (length != 4)
                {
                    return false;
                }
                var mss = BinaryPrimitives.ReadUInt16BigEndian(tcp[(at + 2)..]);
                if (mss <= limit)
                {
                    return false;
                }
                BinaryPrimitives.WriteUInt16BigEndian(tcp[(at + 2)..], limit);
                UpdateChecksum(tcp, mss, limit, oddOffset: ((at + 2) & 1) != 0);
                return true;
            }
            at += length;
        }
        return false;
    }

    /// <summary>RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). A field at an odd offset sits byte-swapped in the sum.</summary>
    private static void UpdateChecksum(Span<byte> tcp, ushort old, ushort replacement, bool oddOffset)
    {
        if (oddOffset)
        {
            old = BinaryPrimitives.ReverseEndianness(old);
            replacement = BinaryPrimitives.ReverseEndianness(replacement);
        }
        var checksum = BinaryPrimitives.ReadUInt16BigEndian(tcp[16..]);
        uint sum = (ushort)~checksum + (uint)(ushort)~old + replacement;
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], (ushort)~sum);
    }
}
