using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace Firmware.Protocol.Ip;

/// <summary>Where a <see cref="TcpCoalescer"/> puts what it made: single packets and TCP super-packets.</summary>
public interface ISuperPacketSink
{
    void WritePacket(ReadOnlySpan<byte> packet);

    void WriteSuperPacket(in VirtioNetHeader header, ReadOnlySpan<byte> packet);
}

/// <summary>
/// The 64 KiB buffers coalescers hold segments in, shared by every tunnel of a gateway: a coalescer holds
/// one only between its first held segment and the end of its batch, so a gateway needs about as many as it
/// has loops running at once, not one per tunnel.
/// </summary>
public sealed class SuperPacketBuffers
{
    public const int BufferSize = 65535;
    private const int Kept = 16;
    // A queue, not a stack: ConcurrentStack allocates a node per push, once per batch here.
    private readonly ConcurrentQueue<byte[]> _free = new();
    private long _created;

    /// <summary>Buffers made since start (the rest of the time they are reused).</summary>
    public long Created => Interlocked.Read(ref _created);

    public byte[] Rent()
    {
        if (_free.TryDequeue(out var buffer))
        {
            return buffer;
        }
        Interlocked.Increment(ref _created);
        return new byte[BufferSize];
    }

    public void Return(byte[] buffer)
    {
        if (_free.Count < Kept)
        {
            _free.Enqueue(buffer);
        }
    }
}

/// <summary>
/// Receive coalescing for a TUN that takes super-packets (what GRO does for a network card): consecutive
/// in-order segments of one TCP stream, as a tunnel delivers them in one batch, are joined into one packet
/// of up to 64 KiB with a GSO header, so the kernel runs its IP and TCP receive path once for the lot
/// instead of once per segment. Joins only what the kernel's own GRO would (same addresses, ports, ack,
/// window, options, TTL/hop limit and TOS; contiguous sequence numbers and IPv4 IDs; equal segment sizes
/// with a shorter one only last; ACK and PSH the only flags), and only segments whose TCP checksum is right,
/// so a corrupt segment is never laundered by a checksum we would compute for it. Everything else passes
/// through unchanged and in order. One instance per writer thread; <see cref="Flush"/> at the end of a batch.
/// </summary>
public sealed class TcpCoalescer
{
    private const int MaximumLength = SuperPacketBuffers.BufferSize;
    private const byte FlagAck = 0x10;
    private const byte FlagPsh = 0x08;

    private readonly SuperPacketBuffers _buffers;
    /// <summary>Rented while something is held (<see cref="_count"/> &gt; 0), returned by <see cref="Flush"/>.</summary>
    private byte[] _buffer = [];
    private ISuperPacketSink? _sink;
    private int _length;
    private int _count;
    private int _ipHeaderLength;
    private int _headerLength;
    private int _segmentSize;
    private uint _nextSequence;
    private ushort _nextIdentification;
    /// <summary>The last segment was short or pushed: nothing more may join.</summary>
    private bool _closed;
    private long _joined;

    public TcpCoalescer(SuperPacketBuffers buffers) => _buffers = buffers;

    /// <summary>Segments that went out inside another's super-packet rather than as packets of their own.</summary>
    public long Joined => Interlocked.Read(ref _joined);

    /// <summary>Writes <paramref name="packet"/> to <paramref name="sink"/> now, or holds it to join the next ones.</summary>
    public void Add(ReadOnlySpan<byte> packet, ISuperPacketSink sink)
    {
        if (!IsCandidate(packet, out var ipHeaderLength, out var headerLength))
        {
            Flush();
            sink.WritePacket(packet);
            return;
        }
        if (_count > 0 && _sink == sink && !_closed && TryJoin(packet, ipHeaderLength, headerLength))
        {
            return;
        }
        Flush();
        var push = (packet[ipHeaderLength + 13] & FlagPsh) != 0;
        if (push)
        {
            sink.WritePacket(packet); // it would end its group at once
            return;
        }
        _buffer = _buffers.Rent();
        packet.CopyTo(_buffer);
        _sink = sink;
        _length = packet.Length;
        _count = 1;
        _closed = false;
        _ipHeaderLength = ipHeaderLength;
        _headerLength = headerLength;
        _segmentSize = packet.Length - headerLength;
        _nextSequence = BinaryPrimitives.ReadUInt32BigEndian(packet[(ipHeaderLength + 4)..]) + (uint)_segmentSize;
        _nextIdentification = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(packet[4..]) + 1);
    }

    /// <summary>Writes what is held.</summary>
    public void Flush()
    {
        if (_count == 0)
        {
            return;
        }
        var sink = _sink!;
        var buffer = _buffer;
        var count = _count;
        _count = 0;
        _sink = null;
        _buffer = [];
        try
        {
            Write(sink, buffer.AsSpan(0, _length), count);
        }
        finally
        {
            _buffers.Return(buffer);
        }
    }

    private void Write(ISuperPacketSink sink, Span<byte> packet, int count)
    {
        if (count == 1)
        {
            sink.WritePacket(packet);
            return;
        }
        var ipv6 = packet[0] >> 4 == 6;
        if (ipv6)
        {
            BinaryPrimitives.WriteUInt16BigEndian(packet[4..], (ushort)(_length - 40));
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)_length);
            InternetChecksum.WriteIpv4Header(packet, _ipHeaderLength);
        }
        // CHECKSUM_PARTIAL: the field holds the pseudo-header's sum; the kernel treats the rest as verified.
        var pseudo = InternetChecksum.PseudoHeader(packet, 6, _length - _ipHeaderLength);
        BinaryPrimitives.WriteUInt16BigEndian(packet[(_ipHeaderLength + 16)..], (ushort)pseudo);
        var header = new VirtioNetHeader(
            VirtioNetHeader.FlagNeedsChecksum, ipv6 ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4,
            (ushort)_headerLength, (ushort)_segmentSize, (ushort)_ipHeaderLength, 16);
        Interlocked.Add(ref _joined, count - 1);
        sink.WriteSuperPacket(header, packet);
    }

    private bool TryJoin(ReadOnlySpan<byte> packet, int ipHeaderLength, int headerLength)
    {
        var held = _buffer.AsSpan(0, _headerLength);
        var payload = packet.Length - headerLength;
        if (ipHeaderLength != _ipHeaderLength || headerLength != _headerLength
            || payload > _segmentSize || _length + payload > MaximumLength)
        {
            return false;
        }
        var ipv6 = packet[0] >> 4 == 6;
        if (ipv6)
        {
            // Version, traffic class, flow label; next header and hop limit; both addresses.
            if (!packet[..4].SequenceEqual(held[..4]) || !packet.Slice(6, 34).SequenceEqual(held.Slice(6, 34)))
            {
                return false;
            }
        }
        else if (packet[1] != held[1] || !packet.Slice(6, 4).SequenceEqual(held.Slice(6, 4)) || !packet.Slice(12, 8).SequenceEqual(held.Slice(12, 8))
            || BinaryPrimitives.ReadUInt16BigEndian(packet[4..]) != _nextIdentification)
        {
            return false; // TOS; flags, TTL and protocol; addresses; the next identification
        }
        var tcp = packet[ipHeaderLength..];
        var heldTcp = held[ipHeaderLength..];
        if (BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]) != _nextSequence
            || !tcp[..4].SequenceEqual(heldTcp[..4]) // ports
            || !tcp.Slice(8, 5).SequenceEqual(heldTcp.Slice(8, 5)) // ack, data offset
            || (tcp[13] & ~FlagPsh) != (heldTcp[13] & ~FlagPsh)
            || !tcp.Slice(14, 2).SequenceEqual(heldTcp.Slice(14, 2)) // window
            || !tcp[20..(headerLength - ipHeaderLength)].SequenceEqual(heldTcp[20..(headerLength - ipHeaderLength)]))
        {
            return false;
        }
        packet[headerLength..].CopyTo(_buffer.AsSpan(_length));
        _length += payload;
        _count++;
        _nextSequence += (uint)payload;
        _nextIdentification++;
        if ((tcp[13] & FlagPsh) != 0)
        {
            _buffer[_ipHeaderLength + 13] |= FlagPsh;
            _closed = true;
        }
        if (payload < _segmentSize)
        {
            _closed = true;
        }
        return true;
    }

    /// <summary>A TCP segment with data and only ACK (and PSH) set, not fragmented, with a right checksum.</summary>
    private static bool IsCandidate(ReadOnlySpan<byte> packet, out int ipHeaderLength, out int headerLength)
    {
        ipHeaderLength = 0;
        headerLength = 0;
        if (packet.Length < 40)
        {
            return false;
        }
        switch (packet[0] >> 4)
        {
            case 4:
                if (packet[0] != 0x45 || packet[9] != 6 || BinaryPrimitives.ReadUInt16BigEndian(packet[2..]) != packet.Length
                    || (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3fff) != 0) // MF or an offset: a fragment
                {
                    return false;
                }
                ipHeaderLength = 20;
                break;
            case 6:
                if (packet.Length < 60 || packet[6] != 6 || BinaryPrimitives.ReadUInt16BigEndian(packet[4..]) != packet.Length - 40)
                {
                    return false;
                }
                ipHeaderLength = 40;
                break;
            default:
                return false;
        }
        var tcp = packet[ipHeaderLength..];
        headerLength = ipHeaderLength + (tcp[12] >> 4) * 4;
        if (headerLength < ipHeaderLength + 20 || headerLength >= packet.Length || (tcp[13] & ~FlagPsh) != FlagAck)
        {
            return false;
        }
        return InternetChecksum.Finish(InternetChecksum.Transport(packet, ipHeaderLength, 6)) == 0;
    }
}
