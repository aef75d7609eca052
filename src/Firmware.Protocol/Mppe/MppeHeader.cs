using System.Buffers.Binary;

namespace Firmware.Protocol.Mppe;

/// <summary>
/// The 2-byte MPPE header (RFC 3078 section 3) that starts the data of a PPP Compressed Datagram (00FD):
/// bits A B C D, then a 12-bit coherency count. What follows it is the encrypted PPP protocol field and data.
/// </summary>
public static class MppeHeader
{
    /// <summary>Bytes the header takes in front of the encrypted payload.</summary>
    public const int Length = 2;

    /// <summary>A: the RC4 state was reinitialised (key changed or flushed) for this packet.</summary>
    public const byte FlushedBit = 0x80;

    /// <summary>B: MPPC history restart; meaningless without MPPC, ignored.</summary>
    public const byte RestartBit = 0x40;

    /// <summary>C: MPPC-compressed. We never negotiate MPPC, so such packets are dropped.</summary>
    public const byte CompressedBit = 0x20;

    /// <summary>D: the payload is encrypted.</summary>
    public const byte EncryptedBit = 0x10;

    /// <summary>The coherency count runs modulo 4096.</summary>
    public const int CoherencyCountSpace = 4096;

    /// <summary>Writes the header.</summary>
    public static void Write(Span<byte> destination, byte bits, int coherencyCount) =>
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)((bits << 8) | (coherencyCount & 0x0FFF)));

    /// <summary>The A-D bits of a header (upper nibble of the first byte).</summary>
    public static byte Bits(ReadOnlySpan<byte> header) => (byte)(header[0] & 0xF0);

    /// <summary>The 12-bit coherency count of a header.</summary>
    public static int CoherencyCount(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadUInt16BigEndian(header) & 0x0FFF;
}
