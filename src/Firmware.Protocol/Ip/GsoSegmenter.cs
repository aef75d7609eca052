using System.Buffers.Binary;

namespace Firmware.Protocol.Ip;

/// <summary>
/// What one packet read from an offloading TUN becomes: how many IP packets, of which sizes. Made by
/// <see cref="GsoSegmenter.TryPlan"/>, which has checked every offset it holds against the packet.
/// </summary>
public readonly record struct GsoPlan(
    int Count, int HeaderLength, int SegmentSize, int ChecksumStart, int ChecksumOffset, bool NeedsChecksum, bool Tcp);

/// <summary>
/// Turns what the kernel hands an offloading TUN (a <see cref="VirtioNetHeader"/> and up to 64 KiB) into the
/// IP packets a peer expects: a TCP super-packet is cut at the segment size the kernel chose for the TUN's
/// MTU, each piece with its own IP length, IPv4 identification and header checksum, sequence number, flags
/// (FIN and PSH only on the last, CWR only on the first) and a full TCP checksum; a packet whose checksum
/// was left to us gets it finished. Pure and bounded: any header that does not match the packet is refused
/// with a reason, never trusted.
/// </summary>
public static class GsoSegmenter
{
    private const byte TcpFlagFin = 0x01;
    private const byte TcpFlagPsh = 0x08;
    private const byte TcpFlagCwr = 0x80;
    private const int TcpChecksumOffset = 16;
    private const int UdpChecksumOffset = 6;

    public static bool TryPlan(in VirtioNetHeader header, ReadOnlySpan<byte> packet, out GsoPlan plan, out string? error)
    {
        plan = default;
        if (packet.Length < 20 || (packet[0] >> 4 != 4 && packet[0] >> 4 != 6))
        {
            error = "not an IP packet";
            return false;
        }
        var ipv6 = packet[0] >> 4 == 6;
        var type = (byte)(header.GsoType & ~VirtioNetHeader.GsoEcn);
        if (type == VirtioNetHeader.GsoNone)
        {
            if (!header.NeedsChecksum)
            {
                plan = new GsoPlan(1, packet.Length, packet.Length, 0, 0, false, false);
                error = null;
                return true;
            }
            if (header.ChecksumStart + header.ChecksumOffset + 2 > packet.Length)
            {
                error = $"checksum at {header.ChecksumStart}+{header.ChecksumOffset} lies outside a {packet.Length}-byte packet";
                return false;
            }
            plan = new GsoPlan(1, packet.Length, packet.Length, header.ChecksumStart, header.ChecksumOffset, true, false);
            error = null;
            return true;
        }
        if (type != VirtioNetHeader.GsoTcpV4 && type != VirtioNetHeader.GsoTcpV6)
        {
            error = $"GSO type {header.GsoType} was not asked for";
            return false;
        }
        if ((type == VirtioNetHeader.GsoTcpV6) != ipv6)
        {
            error = "GSO type and IP version disagree";
            return false;
        }
        int ipHeader = header.ChecksumStart;
        if (ipv6 ? ipHeader < 40 : ipHeader != (packet[0] & 0x0f) * 4 || ipHeader < 20)
        {
            error = $"the TCP header cannot start at {ipHeader}";
            return false;
        }
        if (ipv6 ? ipHeader == 40 && packet[6] != 6 : packet[9] != 6)
        {
            error = "a TCP super-packet that does not carry TCP";
            return false;
        }
        if (header.ChecksumOffset != TcpChecksumOffset || ipHeader + 20 > packet.Length)
        {
            error = "no room for a TCP header";
            return false;
        }
        var headerLength = ipHeader + (packet[ipHeader + 12] >> 4) * 4;
        if (headerLength < ipHeader + 20 || headerLength >= packet.Length || header.GsoSize == 0)
        {
            error = $"a {headerLength}-byte header and segments of {header.GsoSize} do not fit a {packet.Length}-byte packet";
            return false;
        }
        var payload = packet.Length - headerLength;
        plan = new GsoPlan((payload + header.GsoSize - 1) / header.GsoSize, headerLength, header.GsoSize, ipHeader, TcpChecksumOffset, true, true);
        error = null;
        return true;
    }

    /// <summary>The size of packet <paramref name="index"/> of the plan.</summary>
    public static int SegmentLength(in GsoPlan plan, int packetLength, int index)
        => !plan.Tcp ? packetLength : plan.HeaderLength + Math.Min(plan.SegmentSize, packetLength - plan.HeaderLength - (index * plan.SegmentSize));

    /// <summary>
    /// Writes IP packet <paramref name="index"/> (0 ≤ index &lt; <see cref="GsoPlan.Count"/>) into
    /// <paramref name="destination"/> and returns its length, or -1 if it does not fit there.
    /// </summary>
    public static int WriteSegment(in GsoPlan plan, ReadOnlySpan<byte> packet, int index, Span<byte> destination)
    {
        var length = SegmentLength(plan, packet.Length, index);
        if ((uint)index >= (uint)plan.Count || length > destination.Length)
        {
            return -1;
        }
        var segment = destination[..length];
        if (!plan.Tcp)
        {
            packet.CopyTo(segment);
            if (plan.NeedsChecksum)
            {
                FinishChecksum(segment, plan.ChecksumStart, plan.ChecksumOffset);
            }
            return length;
        }

        packet[..plan.HeaderLength].CopyTo(segment);
        packet.Slice(plan.HeaderLength + (index * plan.SegmentSize), length - plan.HeaderLength).CopyTo(segment[plan.HeaderLength..]);
        var ipHeader = plan.ChecksumStart;
        if (segment[0] >> 4 == 4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[2..], (ushort)length);
            BinaryPrimitives.WriteUInt16BigEndian(segment[4..], (ushort)(BinaryPrimitives.ReadUInt16BigEndian(segment[4..]) + index));
            InternetChecksum.WriteIpv4Header(segment, ipHeader);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[4..], (ushort)(length - 40));
        }
        var tcp = segment[ipHeader..];
        var sequence = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence + (uint)(index * plan.SegmentSize));
        if (index != plan.Count - 1)
        {
            tcp[13] &= unchecked((byte)~(TcpFlagFin | TcpFlagPsh));
        }
        if (index != 0)
        {
            tcp[13] &= unchecked((byte)~TcpFlagCwr);
        }
        tcp[TcpChecksumOffset] = 0;
        tcp[TcpChecksumOffset + 1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[TcpChecksumOffset..], InternetChecksum.Finish(InternetChecksum.Transport(segment, ipHeader, 6)));
        return length;
    }

    /// <summary>
    /// Finishes a checksum the kernel left partial: the field already holds the pseudo-header's sum, so the
    /// sum from <paramref name="start"/> to the end, complemented, is the checksum.
    /// </summary>
    public static void FinishChecksum(Span<byte> packet, int start, int offset)
    {
        var value = InternetChecksum.Finish(InternetChecksum.Sum(packet[start..]));
        if (value == 0 && offset == UdpChecksumOffset)
        {
            value = 0xffff; // UDP's 0 means "no checksum" (RFC 768)
        }
        BinaryPrimitives.WriteUInt16BigEndian(packet[(start + offset)..], value);
    }
}
