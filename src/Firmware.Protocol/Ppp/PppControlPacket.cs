using System.Buffers.Binary;

namespace Firmware.Protocol.Ppp;

/// <summary>Packet codes shared by LCP and the NCPs (RFC 1661 5, RFC 1962 for the CCP resets).</summary>
public enum PppCode : byte
{
    /// <summary>Configure-Request.</summary>
    ConfigureRequest = 1,
    /// <summary>Configure-Ack.</summary>
    ConfigureAck = 2,
    /// <summary>Configure-Nak.</summary>
    ConfigureNak = 3,
    /// <summary>Configure-Reject.</summary>
    ConfigureReject = 4,
    /// <summary>Terminate-Request.</summary>
    TerminateRequest = 5,
    /// <summary>Terminate-Ack.</summary>
    TerminateAck = 6,
    /// <summary>Code-Reject.</summary>
    CodeReject = 7,
    /// <summary>Protocol-Reject (LCP only).</summary>
    ProtocolReject = 8,
    /// <summary>Echo-Request (LCP only).</summary>
    EchoRequest = 9,
    /// <summary>Echo-Reply (LCP only).</summary>
    EchoReply = 10,
    /// <summary>Discard-Request (LCP only).</summary>
    DiscardRequest = 11,
    /// <summary>Identification (LCP, RFC 1570 1.1).</summary>
    Identification = 12,
    /// <summary>Time-Remaining (LCP, RFC 1570 1.2).</summary>
    TimeRemaining = 13,
    /// <summary>Reset-Request (CCP, RFC 1962).</summary>
    ResetRequest = 14,
    /// <summary>Reset-Ack (CCP, RFC 1962).</summary>
    ResetAck = 15,
}

/// <summary>The Code/Identifier/Length/Data packet every PPP control protocol uses (RFC 1661 5).</summary>
public static class PppControlPacket
{
    /// <summary>Code, Identifier and Length.</summary>
    public const int HeaderLength = 4;

    /// <summary>
    /// Splits a control packet. False when shorter than its header or when the Length field is below 4 or
    /// beyond the datagram; bytes after Length are padding and are ignored (RFC 1661 5).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out byte code, out byte identifier, out ReadOnlySpan<byte> data)
    {
        code = 0;
        identifier = 0;
        data = default;
        if (packet.Length < HeaderLength)
        {
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (length < HeaderLength || length > packet.Length)
        {
            return false;
        }

        code = packet[0];
        identifier = packet[1];
        data = packet[HeaderLength..length];
        return true;
    }

    /// <summary>Writes a packet header in front of <paramref name="dataLength"/> bytes already at destination[4..].</summary>
    public static int WriteHeader(Span<byte> destination, byte code, byte identifier, int dataLength)
    {
        destination[0] = code;
        destination[1] = identifier;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)(HeaderLength + dataLength));
        return HeaderLength + dataLength;
    }

    /// <summary>Writes a whole packet; returns its length, or 0 if <paramref name="destination"/> is too small.</summary>
    public static int Write(Span<byte> destination, byte code, byte identifier, ReadOnlySpan<byte> data)
    {
        if (destination.Length < HeaderLength + data.Length || HeaderLength + data.Length > ushort.MaxValue)
        {
            return 0;
        }

        data.CopyTo(destination[HeaderLength..]);
        return WriteHeader(destination, code, identifier, data.Length);
    }
}

/// <summary>
/// Walks the Type/Length/Value options of a Configure packet. The caller first checks the whole list with
/// <see cref="IsWellFormed"/>; after that every option read is within the span.
/// </summary>
public ref struct PppOptionReader
{
    private ReadOnlySpan<byte> _rest;

    /// <param name="options">The Data field of a Configure-Request/Ack/Nak/Reject.</param>
    public PppOptionReader(ReadOnlySpan<byte> options)
    {
        _rest = options;
    }

    /// <summary>
    /// True when every option has Length ≥ 2 and fits inside <paramref name="options"/>. Options with
    /// Length 0 or 1 would make a parser loop or read backwards; such packets are dropped whole.
    /// </summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> options)
    {
        while (!options.IsEmpty)
        {
            if (options.Length < 2)
            {
                return false;
            }

            int length = options[1];
            if (length < 2 || length > options.Length)
            {
                return false;
            }

            options = options[length..];
        }

        return true;
    }

    /// <summary>Reads the next option; false at the end or at a malformed option.</summary>
    public bool TryRead(out byte type, out ReadOnlySpan<byte> value, out ReadOnlySpan<byte> whole)
    {
        type = 0;
        value = default;
        whole = default;
        if (_rest.Length < 2)
        {
            return false;
        }

        int length = _rest[1];
        if (length < 2 || length > _rest.Length)
        {
            _rest = default;
            return false;
        }

        type = _rest[0];
        whole = _rest[..length];
        value = whole[2..];
        _rest = _rest[length..];
        return true;
    }
}
