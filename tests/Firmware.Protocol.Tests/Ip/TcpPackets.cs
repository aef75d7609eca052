using System.Buffers.Binary;

namespace Firmware.Protocol.Tests.Ip;

/// <summary>
/// TCP segments for the IP tests, built and checked with a plain word-by-word Internet checksum written here
/// on purpose (the code under test has a faster one of its own; each is the other's judge).
/// </summary>
internal static class TcpPackets
{
    public static readonly byte[] Source4 = [10, 77, 0, 10], Destination4 = [192, 0, 2, 80];
    public static readonly byte[] Source6 = [0xfe, 0x80, .. new byte[13], 1], Destination6 = [0x20, 0x01, 0x0d, 0xb8, .. new byte[11], 9];

    public const byte Fin = 0x01, Syn = 0x02, Psh = 0x08, Ack = 0x10, Cwr = 0x80;

    /// <summary>The options Linux puts on data segments: NOP, NOP, timestamps.</summary>
    public static readonly byte[] Timestamps = [1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78];

    /// <summary>A TCP segment with the given flags and options (padded to 4 bytes), checksummed for its IP header.</summary>
    public static byte[] Segment(bool ipv6, byte flags, byte[] options, int payload = 0, uint sequence = 0x01020304,
        ushort identification = 1000, int payloadSeed = 0, ushort sourcePort = 40000)
    {
        var optionLength = (options.Length + 3) / 4 * 4;
        var tcpLength = 20 + optionLength + payload;
        var ipLength = ipv6 ? 40 : 20;
        var packet = new byte[ipLength + tcpLength];
        if (ipv6)
        {
            packet[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)tcpLength);
            packet[6] = 6;
            packet[7] = 64;
            Source6.CopyTo(packet, 8);
            Destination6.CopyTo(packet, 24);
        }
        else
        {
            packet[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), identification);
            packet[6] = 0x40; // DF
            packet[8] = 64;
            packet[9] = 6;
            Source4.CopyTo(packet, 12);
            Destination4.CopyTo(packet, 16);
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), ReferenceChecksum(packet.AsSpan(0, 20)));
        }
        var tcp = packet.AsSpan(ipLength);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], 443);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], 0xa0b0c0d0);
        tcp[12] = (byte)((20 + optionLength) / 4 << 4);
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 64240);
        options.CopyTo(tcp[20..]);
        for (var i = 0; i < payload; i++)
        {
            tcp[20 + optionLength + i] = (byte)((i + payloadSeed) * 7);
        }
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], TcpChecksum(packet));
        return packet;
    }

    public static int IpHeaderLength(byte[] packet) => packet[0] >> 4 == 6 ? 40 : (packet[0] & 0x0f) * 4;

    /// <summary>The TCP checksum computed from scratch (pseudo-header included), with the field taken as zero.</summary>
    /// <param name="ipv6">The IP version to take the packet for; null: by its first nibble (a test that garbles it says).</param>
    public static ushort TcpChecksum(byte[] packet, bool? ipv6 = null)
    {
        var v6 = ipv6 ?? packet[0] >> 4 == 6;
        var ipLength = v6 ? 40 : ipv6 is null ? IpHeaderLength(packet) : 20;
        var tcp = packet.AsSpan(ipLength).ToArray();
        tcp[16] = tcp[17] = 0;
        return ReferenceChecksum([.. PseudoHeader(packet, 6, tcp.Length, v6), .. tcp]);
    }

    /// <summary>The UDP checksum computed from scratch, with the field taken as zero (0 sent as 0xffff).</summary>
    public static ushort UdpChecksum(byte[] packet)
    {
        var ipLength = IpHeaderLength(packet);
        var udp = packet.AsSpan(ipLength).ToArray();
        udp[6] = udp[7] = 0;
        var value = ReferenceChecksum([.. PseudoHeader(packet, 17, udp.Length), .. udp]);
        return value == 0 ? (ushort)0xffff : value;
    }

    public static byte[] PseudoHeader(byte[] packet, byte protocol, int length, bool? ipv6 = null) => ipv6 ?? packet[0] >> 4 == 6
        ? [.. packet.AsSpan(8, 32), 0, 0, (byte)(length >> 8), (byte)length, 0, 0, 0, protocol]
        : [.. packet.AsSpan(12, 8), 0, protocol, (byte)(length >> 8), (byte)length];

    /// <summary>RFC 1071 the slow way: 16-bit big-endian words, carries folded at the end.</summary>
    public static ushort ReferenceChecksum(ReadOnlySpan<byte> data) => (ushort)~ReferenceSum(data);

    public static ushort ReferenceSum(ReadOnlySpan<byte> data)
    {
        ulong sum = 0;
        for (var i = 0; i < data.Length; i += 2)
        {
            sum += (uint)(data[i] << 8 | (i + 1 < data.Length ? data[i + 1] : 0));
        }
        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (ushort)sum;
    }

    public static ushort StoredTcpChecksum(byte[] packet, bool? ipv6 = null)
        => BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan((ipv6 is { } v6 ? v6 ? 40 : 20 : IpHeaderLength(packet)) + 16));
}
