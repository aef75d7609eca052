using System.Buffers.Binary;
using System.Net;

namespace Firmware.Gateway.Tests.InProcess;

/// <summary>IPv4 packets as a kernel would route them into a TUN.</summary>
internal static class IpPackets
{
    public const byte Icmp = 1;
    public const byte Tcp = 6;
    public const byte Udp = 17;

    public static byte[] Ipv4(IPAddress source, IPAddress destination, byte protocol, ReadOnlySpan<byte> payload, ushort id = 0)
    {
        var packet = new byte[20 + payload.Length];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), id);
        packet[8] = 64;
        packet[9] = protocol;
        source.TryWriteBytes(packet.AsSpan(12, 4), out _);
        destination.TryWriteBytes(packet.AsSpan(16, 4), out _);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), Checksum(packet.AsSpan(0, 20)));
        payload.CopyTo(packet.AsSpan(20));
        return packet;
    }

    /// <summary>ICMP echo request (type 8) or reply (type 0).</summary>
    public static byte[] Echo(IPAddress source, IPAddress destination, byte type, ushort identifier, ushort sequence)
    {
        var icmp = new byte[8 + 32];
        icmp[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(4), identifier);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), sequence);
        for (var i = 8; i < icmp.Length; i++)
        {
            icmp[i] = (byte)i;
        }
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), Checksum(icmp));
        return Ipv4(source, destination, Icmp, icmp, sequence);
    }

    /// <summary>A UDP datagram whose payload is a sequence number and bytes derived from it (see <see cref="Sequence"/>).</summary>
    public static byte[] Numbered(IPAddress source, IPAddress destination, int sequence, int payloadLength)
    {
        var udp = new byte[8 + Math.Max(4, payloadLength)];
        BinaryPrimitives.WriteUInt16BigEndian(udp, 40000);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), 9);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        BinaryPrimitives.WriteInt32BigEndian(udp.AsSpan(8), sequence);
        var random = new Random(sequence);
        random.NextBytes(udp.AsSpan(12));
        return Ipv4(source, destination, Udp, udp, (ushort)sequence);
    }

    /// <summary>
    /// Segment <paramref name="index"/> of a TCP stream of full segments (ACK set, sequence and IPv4 ID counting
    /// up, as a sender's TCP makes them), with a right checksum.
    /// </summary>
    public static byte[] StreamSegment(IPAddress source, IPAddress destination, int index, int segmentSize)
    {
        var tcp = new byte[20 + segmentSize];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, 40001);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), 5201);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(4), (uint)(1000 + (index * segmentSize)));
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(8), 77);
        tcp[12] = 5 << 4;
        tcp[13] = 0x10; // ACK
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(14), 502);
        new Random(index).NextBytes(tcp.AsSpan(20));
        var packet = Ipv4(source, destination, Tcp, tcp, (ushort)index);
        var pseudo = new byte[12 + tcp.Length];
        packet.AsSpan(12, 8).CopyTo(pseudo);
        pseudo[9] = Tcp;
        BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(10), (ushort)tcp.Length);
        tcp.CopyTo(pseudo, 12);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(36), Checksum(pseudo));
        return packet;
    }

    /// <summary>The sequence number of a <see cref="Numbered"/> packet, or -1 if it is not one.</summary>
    public static int Sequence(ReadOnlySpan<byte> packet)
        => packet.Length >= 32 && packet[9] == Udp ? BinaryPrimitives.ReadInt32BigEndian(packet[28..]) : -1;

    public static ushort Checksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (var i = 0; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }
        if (data.Length % 2 == 1)
        {
            sum += (uint)data[^1] << 8;
        }
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)~sum;
    }
}
