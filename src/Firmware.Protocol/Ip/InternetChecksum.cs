using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Firmware.Protocol.Ip;

/// <summary>
/// The Internet checksum (RFC 1071): the ones'-complement sum of 16-bit big-endian words. Partial sums are
/// carried as a <see cref="uint"/> holding a 16-bit value in network order, so sums of separate pieces
/// (a pseudo-header, a header, a payload) add with <see cref="Add"/> and finish with <see cref="Finish"/>.
/// </summary>
public static class InternetChecksum
{
    /// <summary>
    /// The folded sum of <paramref name="data"/> (an odd last byte is the high byte of a zero-padded word).
    /// Eight bytes at a time in native order with end-around carry: the ones'-complement sum does not depend
    /// on byte order up to a final swap (RFC 1071 §2B), which is what makes this several times faster than a
    /// loop over 16-bit big-endian words.
    /// </summary>
    public static uint Sum(ReadOnlySpan<byte> data)
    {
        ulong sum = 0;
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var word in words)
        {
            sum += word;
            if (sum < word)
            {
                sum++;
            }
        }
        var rest = data[(words.Length * sizeof(ulong))..];
        ulong tail = 0;
        var i = 0;
        for (; i + 1 < rest.Length; i += 2)
        {
            tail += MemoryMarshal.Read<ushort>(rest[i..]);
        }
        if (i < rest.Length)
        {
            // The odd byte is the high-order half of a big-endian word: its position in a native-order word.
            tail += BitConverter.IsLittleEndian ? rest[i] : (ulong)rest[i] << 8;
        }
        sum += tail;
        if (sum < tail)
        {
            sum++;
        }
        var folded = Fold(sum);
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness((ushort)folded) : folded;
    }

    /// <summary>Adds two partial sums.</summary>
    public static uint Add(uint a, uint b) => Fold((ulong)a + b);

    /// <summary>The checksum field's value for a finished sum: its complement.</summary>
    public static ushort Finish(uint sum) => (ushort)~Fold(sum);

    /// <summary>The IPv4 pseudo-header (RFC 793): addresses from the IP header, the protocol and the upper-layer length.</summary>
    public static uint PseudoHeaderIpv4(ReadOnlySpan<byte> ipHeader, byte protocol, int upperLength)
        => Add(Sum(ipHeader.Slice(12, 8)), (uint)protocol + (uint)upperLength);

    /// <summary>The IPv6 pseudo-header (RFC 8200 §8.1).</summary>
    public static uint PseudoHeaderIpv6(ReadOnlySpan<byte> ipHeader, byte nextHeader, int upperLength)
        => Add(Sum(ipHeader.Slice(8, 32)), Fold((uint)nextHeader + (uint)upperLength));

    /// <summary>The pseudo-header of either IP version, by the version in the header's first nibble.</summary>
    public static uint PseudoHeader(ReadOnlySpan<byte> ipHeader, byte protocol, int upperLength)
        => ipHeader[0] >> 4 == 6 ? PseudoHeaderIpv6(ipHeader, protocol, upperLength) : PseudoHeaderIpv4(ipHeader, protocol, upperLength);

    /// <summary>
    /// The sum of a transport segment with its pseudo-header: <paramref name="packet"/> is the whole IP packet,
    /// the segment starts at <paramref name="transportOffset"/>. A segment with a right checksum sums to
    /// 0xffff (<see cref="Finish"/> gives 0); with the field zeroed, <see cref="Finish"/> gives its value.
    /// </summary>
    public static uint Transport(ReadOnlySpan<byte> packet, int transportOffset, byte protocol)
    {
        var segment = packet[transportOffset..];
        return Add(PseudoHeader(packet, protocol, segment.Length), Sum(segment));
    }

    /// <summary>Recomputes an IPv4 header's checksum in place (bytes 10–11), over its first <paramref name="headerLength"/> bytes.</summary>
    public static void WriteIpv4Header(Span<byte> packet, int headerLength)
    {
        packet[10] = 0;
        packet[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(packet[10..], Finish(Sum(packet[..headerLength])));
    }

    private static uint Fold(ulong sum)
    {
        sum = (sum & 0xffffffff) + (sum >> 32);
        sum = (sum & 0xffffffff) + (sum >> 32);
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        return (uint)sum;
    }
}
