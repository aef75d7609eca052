using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Firmware.Gateway.Runtime;

/// <summary>
/// The server's tunnels share one TUN, so the kernel cannot tell which tunnel a packet came through: a client
/// could send with another client's address (or any address behind the server) unless each tunnel's packets
/// are checked here against what that tunnel was given. IPv4: the source is the address IPCP assigned.
/// IPv6: the source is the link-local address made of the interface identifier IPv6CP agreed.
/// </summary>
public readonly record struct InnerSourceFilter(uint Ipv4, ulong? InterfaceId)
{
    private const ulong LinkLocalPrefix = 0xFE80_0000_0000_0000;

    public static InnerSourceFilter For(IPAddress? ipv4, ulong? interfaceId)
    {
        uint key = 0;
        if (ipv4 is { AddressFamily: AddressFamily.InterNetwork })
        {
            Span<byte> bytes = stackalloc byte[4];
            ipv4.TryWriteBytes(bytes, out _);
            key = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        }
        return new InnerSourceFilter(key, interfaceId);
    }

    /// <summary>True if <paramref name="packet"/> (an IPv4 or IPv6 packet) carries this tunnel's own source.</summary>
    public bool Allows(ReadOnlySpan<byte> packet)
    {
        if (packet.IsEmpty)
        {
            return false;
        }
        switch (packet[0] >> 4)
        {
            case 4:
                return Ipv4 != 0 && packet.Length >= 20 && BinaryPrimitives.ReadUInt32BigEndian(packet[12..]) == Ipv4;
            case 6:
                return InterfaceId is { } id && packet.Length >= 40
                    && BinaryPrimitives.ReadUInt64BigEndian(packet[8..]) == LinkLocalPrefix
                    && BinaryPrimitives.ReadUInt64BigEndian(packet[16..]) == id;
            default:
                return false;
        }
    }
}
