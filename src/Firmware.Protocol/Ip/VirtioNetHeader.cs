using System.Buffers.Binary;

namespace Firmware.Protocol.Ip;

/// <summary>
/// The header a TUN opened with IFF_VNET_HDR puts before each packet (struct virtio_net_hdr, 10 bytes, in
/// the machine's byte order, which is little-endian on every board we run on): whether the checksum is left
/// for us to finish and whether the packet is a TCP super-packet the kernel did not cut into segments. It is
/// what lets one read or write carry up to 64 KiB of a TCP stream instead of one MTU.
/// </summary>
public readonly record struct VirtioNetHeader(
    byte Flags, byte GsoType, ushort HeaderLength, ushort GsoSize, ushort ChecksumStart, ushort ChecksumOffset)
{
    public const int Size = 10;

    /// <summary>VIRTIO_NET_HDR_F_NEEDS_CSUM: the checksum at start + offset holds only the pseudo-header sum.</summary>
    public const byte FlagNeedsChecksum = 1;

    public const byte GsoNone = 0;
    public const byte GsoTcpV4 = 1;
    public const byte GsoUdp = 3;
    public const byte GsoTcpV6 = 4;
    public const byte GsoUdpL4 = 5;
    /// <summary>VIRTIO_NET_HDR_GSO_ECN, or-ed into the type: the super-packet carries CWR (only asked for with TUN_F_TSO_ECN).</summary>
    public const byte GsoEcn = 0x80;

    public bool NeedsChecksum => (Flags & FlagNeedsChecksum) != 0;

    public static VirtioNetHeader Read(ReadOnlySpan<byte> source) => new(
        source[0], source[1],
        BinaryPrimitives.ReadUInt16LittleEndian(source[2..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[8..]));

    public void Write(Span<byte> destination)
    {
        destination[0] = Flags;
        destination[1] = GsoType;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], GsoSize);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], ChecksumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], ChecksumOffset);
    }
}
