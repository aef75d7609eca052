using System.Buffers.Binary;
using System.Net;

namespace Firmware.Protocol.Tests.Pptp;

/// <summary>
/// A minimal classic-pcap writer (LINKTYPE_RAW: each record is an IPv4 packet) with helpers that wrap our
/// encoded PPTP control messages in TCP and our GRE packets in IPv4, so tshark can dissect them.
/// </summary>
internal sealed class PcapWriter
{
    private const int LinkTypeRaw = 101;
    private readonly MemoryStream _stream = new();
    private uint _seconds = 1_700_000_000;
    private ushort _ipId = 1;
    private readonly Dictionary<(IPAddress, ushort), uint> _tcpSequence = [];

    public PcapWriter()
    {
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], LinkTypeRaw);
        _stream.Write(header);
    }

    public byte[] ToArray() => _stream.ToArray();

    /// <summary>One TCP segment (PSH|ACK) carrying <paramref name="payload"/>; sequence numbers continue per direction.</summary>
    public void AddTcp(IPAddress source, ushort sourcePort, IPAddress destination, ushort destinationPort, ReadOnlySpan<byte> payload)
    {
        _tcpSequence.TryGetValue((source, sourcePort), out var sequence);
        _tcpSequence.TryGetValue((destination, destinationPort), out var ack);
        var tcp = new byte[20 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(4), 1000 + sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp.AsSpan(8), 1000 + ack);
        tcp[12] = 5 << 4;
        tcp[13] = 0x18;
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(14), 65535);
        payload.CopyTo(tcp.AsSpan(20));
        BinaryPrimitives.WriteUInt16BigEndian(tcp.AsSpan(16), TransportChecksum(source, destination, 6, tcp));
        _tcpSequence[(source, sourcePort)] = sequence + (uint)payload.Length;
        AddIpv4(source, destination, 6, tcp);
    }

    /// <summary>One IPv4 packet with protocol 47 carrying a GRE packet.</summary>
    public void AddGre(IPAddress source, IPAddress destination, ReadOnlySpan<byte> gre) => AddIpv4(source, destination, 47, gre);

    private void AddIpv4(IPAddress source, IPAddress destination, byte protocol, ReadOnlySpan<byte> payload)
    {
        var packet = new byte[20 + payload.Length];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), _ipId++);
        packet[6] = 0x40; // don't fragment
        packet[8] = 64;
        packet[9] = protocol;
        source.TryWriteBytes(packet.AsSpan(12), out _);
        destination.TryWriteBytes(packet.AsSpan(16), out _);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), Checksum(packet.AsSpan(0, 20), 0));
        payload.CopyTo(packet.AsSpan(20));

        Span<byte> record = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(record, _seconds++);
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)packet.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)packet.Length);
        _stream.Write(record);
        _stream.Write(packet);
    }

    private static ushort TransportChecksum(IPAddress source, IPAddress destination, byte protocol, ReadOnlySpan<byte> segment)
    {
        Span<byte> pseudo = stackalloc byte[12];
        source.TryWriteBytes(pseudo, out _);
        destination.TryWriteBytes(pseudo[4..], out _);
        pseudo[9] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(pseudo[10..], (ushort)segment.Length);
        return Checksum(segment, Sum(pseudo, 0));
    }

    private static uint Sum(ReadOnlySpan<byte> data, uint sum)
    {
        for (var i = 0; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }
        if (data.Length % 2 == 1)
        {
            sum += (uint)data[^1] << 8;
        }
        return sum;
    }

    private static ushort Checksum(ReadOnlySpan<byte> data, uint initial)
    {
        var sum = Sum(data, initial);
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)~sum;
    }
}
