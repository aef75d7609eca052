using System.Buffers.Binary;

namespace Firmware.Protocol.Gre;

/// <summary>Why a GRE datagram (or a packet inside a window) was dropped; index into <see cref="GreDropCounters"/>.</summary>
public enum GreDropReason
{
    None,
    /// <summary>Shorter than the 8-byte base header or than the optional fields its flags announce.</summary>
    TooShort,
    /// <summary>C (checksum present) set; RFC 2637 section 4.1 requires 0.</summary>
    ChecksumFlag,
    /// <summary>R (routing present) set.</summary>
    RoutingFlag,
    /// <summary>K (key present) clear: there is no call ID.</summary>
    KeyMissing,
    /// <summary>s (strict source route) set.</summary>
    StrictSourceRouteFlag,
    /// <summary>Recursion control non-zero.</summary>
    RecursionNonZero,
    /// <summary>The four reserved flag bits non-zero.</summary>
    ReservedFlags,
    /// <summary>Version other than 1 (enhanced GRE).</summary>
    WrongVersion,
    /// <summary>Protocol type other than 0x880B (PPP).</summary>
    WrongProtocol,
    /// <summary>Payload Length runs past the end of the datagram.</summary>
    PayloadBeyondDatagram,
    /// <summary>Payload present but S clear (RFC: S is set whenever there is a payload).</summary>
    PayloadWithoutSequence,
    /// <summary>Neither sequence nor acknowledgment: the packet carries nothing.</summary>
    Empty,
    /// <summary>No live call with that call ID from that peer (counted by the demultiplexer).</summary>
    UnknownCallId,
    /// <summary>Sequence number already received.</summary>
    Duplicate,
    /// <summary>Sequence number older than the window (or given up on before it arrived).</summary>
    TooOld,
}

/// <summary>A decoded enhanced GRE header: a view of the payload by offset/length into the datagram.</summary>
public readonly record struct GrePacket(
    ushort CallId,
    bool HasSequence,
    uint SequenceNumber,
    bool HasAcknowledgment,
    uint AcknowledgmentNumber,
    int PayloadOffset,
    int PayloadLength);

/// <summary>
/// Enhanced GRE (version 1) as RFC 2637 section 4.1 defines it for PPTP: K always set, key = payload length
/// (high 16 bits) and call ID (low 16 bits), optional sequence (S) and acknowledgment (A) numbers, protocol
/// 0x880B. Encoding writes the header in place in front of a payload already in the buffer (header room),
/// so the payload is never copied; decoding returns an offset/length view. Neither allocates or throws on
/// peer bytes.
/// </summary>
public static class GreCodec
{
    /// <summary>GRE protocol type for PPP.</summary>
    public const ushort PppProtocolType = 0x880B;

    /// <summary>IP protocol number of GRE.</summary>
    public const byte IpProtocolNumber = 47;

    /// <summary>Flags, version, protocol type, payload length, call ID.</summary>
    public const int BaseHeaderLength = 8;

    /// <summary>Header with both sequence and acknowledgment numbers: the header room data buffers need.</summary>
    public const int MaxHeaderLength = 16;

    /// <summary>Length of an acknowledgment-only packet.</summary>
    public const int AckOnlyLength = 12;

    private const byte FlagChecksum = 0x80;
    private const byte FlagRouting = 0x40;
    private const byte FlagKey = 0x20;
    private const byte FlagSequence = 0x10;
    private const byte FlagStrictRoute = 0x08;
    private const byte RecursionMask = 0x07;
    private const byte FlagAck = 0x80;
    private const byte ReservedFlagsMask = 0x78;
    private const byte VersionMask = 0x07;
    private const byte Version = 1;

    /// <summary>Header length for the given optional fields.</summary>
    public static int HeaderLength(bool sequence, bool acknowledgment) =>
        BaseHeaderLength + (sequence ? 4 : 0) + (acknowledgment ? 4 : 0);

    /// <summary>
    /// Writes a header ending exactly at <paramref name="payloadOffset"/> (where the payload already sits) and
    /// returns the offset where the packet starts; the packet is buffer[start .. payloadOffset + payloadLength].
    /// Returns -1 (writing nothing) if there is not enough header room or the payload does not fit the buffer
    /// or the 16-bit length field.
    /// </summary>
    public static int WriteHeader(
        Span<byte> buffer,
        int payloadOffset,
        int payloadLength,
        ushort callId,
        bool hasSequence,
        uint sequenceNumber,
        bool hasAcknowledgment,
        uint acknowledgmentNumber)
    {
        var headerLength = HeaderLength(hasSequence, hasAcknowledgment);
        if (payloadOffset < headerLength || payloadLength < 0 || payloadLength > ushort.MaxValue
            || payloadOffset > buffer.Length - payloadLength)
        {
            return -1;
        }
        var start = payloadOffset - headerLength;
        var header = buffer.Slice(start, headerLength);
        header[0] = (byte)(FlagKey | (hasSequence ? FlagSequence : 0));
        header[1] = (byte)((hasAcknowledgment ? FlagAck : 0) | Version);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], PppProtocolType);
        BinaryPrimitives.WriteUInt16BigEndian(header[4..], (ushort)payloadLength);
        BinaryPrimitives.WriteUInt16BigEndian(header[6..], callId);
        var next = BaseHeaderLength;
        if (hasSequence)
        {
            BinaryPrimitives.WriteUInt32BigEndian(header[next..], sequenceNumber);
            next += 4;
        }
        if (hasAcknowledgment)
        {
            BinaryPrimitives.WriteUInt32BigEndian(header[next..], acknowledgmentNumber);
        }
        return start;
    }

    /// <summary>Writes an acknowledgment-only packet (S clear, A set, no payload); returns its length or -1
    /// if <paramref name="destination"/> is too small.</summary>
    public static int WriteAckOnly(Span<byte> destination, ushort callId, uint acknowledgmentNumber) =>
        WriteHeader(destination, AckOnlyLength, 0, callId, false, 0, true, acknowledgmentNumber) == 0 ? AckOnlyLength : -1;

    /// <summary>
    /// Decodes one GRE datagram (the IP payload). Trailing bytes beyond Payload Length are ignored (link
    /// padding); a Payload Length past the end is a drop.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> datagram, out GrePacket packet, out GreDropReason reason)
    {
        packet = default;
        if (datagram.Length < BaseHeaderLength)
        {
            reason = GreDropReason.TooShort;
            return false;
        }
        var flags = datagram[0];
        var versionByte = datagram[1];
        reason = (flags & FlagChecksum) != 0 ? GreDropReason.ChecksumFlag
            : (flags & FlagRouting) != 0 ? GreDropReason.RoutingFlag
            : (flags & FlagKey) == 0 ? GreDropReason.KeyMissing
            : (flags & FlagStrictRoute) != 0 ? GreDropReason.StrictSourceRouteFlag
            : (flags & RecursionMask) != 0 ? GreDropReason.RecursionNonZero
            : (versionByte & ReservedFlagsMask) != 0 ? GreDropReason.ReservedFlags
            : (versionByte & VersionMask) != Version ? GreDropReason.WrongVersion
            : BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]) != PppProtocolType ? GreDropReason.WrongProtocol
            : GreDropReason.None;
        if (reason != GreDropReason.None)
        {
            return false;
        }

        var hasSequence = (flags & FlagSequence) != 0;
        var hasAck = (versionByte & FlagAck) != 0;
        var headerLength = HeaderLength(hasSequence, hasAck);
        if (datagram.Length < headerLength)
        {
            reason = GreDropReason.TooShort;
            return false;
        }
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(datagram[4..]);
        if (payloadLength > datagram.Length - headerLength)
        {
            reason = GreDropReason.PayloadBeyondDatagram;
            return false;
        }
        if (!hasSequence && payloadLength != 0)
        {
            reason = GreDropReason.PayloadWithoutSequence;
            return false;
        }
        if (!hasSequence && !hasAck)
        {
            reason = GreDropReason.Empty;
            return false;
        }

        var next = BaseHeaderLength;
        uint sequence = 0;
        uint ack = 0;
        if (hasSequence)
        {
            sequence = BinaryPrimitives.ReadUInt32BigEndian(datagram[next..]);
            next += 4;
        }
        if (hasAck)
        {
            ack = BinaryPrimitives.ReadUInt32BigEndian(datagram[next..]);
        }
        packet = new GrePacket(
            BinaryPrimitives.ReadUInt16BigEndian(datagram[6..]),
            hasSequence,
            sequence,
            hasAck,
            ack,
            headerLength,
            payloadLength);
        return true;
    }
}

/// <summary>One counter per <see cref="GreDropReason"/>; allocated once, incremented on the data path.</summary>
public sealed class GreDropCounters
{
    private readonly long[] _counts = new long[(int)GreDropReason.TooOld + 1];

    /// <summary>Drops counted for <paramref name="reason"/>.</summary>
    public long this[GreDropReason reason] => (uint)reason < (uint)_counts.Length ? Interlocked.Read(ref _counts[(int)reason]) : 0;

    /// <summary>All drops.</summary>
    public long Total
    {
        get
        {
            long total = 0;
            for (var i = 1; i < _counts.Length; i++)
            {
                total += Interlocked.Read(ref _counts[i]);
            }
            return total;
        }
    }

    /// <summary>Counts one drop.</summary>
    public void Increment(GreDropReason reason)
    {
        if ((uint)reason < (uint)_counts.Length)
        {
            Interlocked.Increment(ref _counts[(int)reason]);
        }
    }
}
