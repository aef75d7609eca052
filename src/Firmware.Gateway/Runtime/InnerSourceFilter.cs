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
                    && BinaryPrimitives.ReadUInt64BigEndian(packet[8..]) == Ipv6LinkLocal.Prefix
                    && BinaryPrimitives.ReadUInt64BigEndian(packet[16..]) == id;
            default:
                return false;
        }
    }
}

/// <summary>IPv6 link-local addresses made of an IPv6CP interface identifier (RFC 5072 section 5).</summary>
public static class Ipv6LinkLocal
{
    /// <summary>fe80::/64, as the first 64 bits of an address.</summary>
    public const ulong Prefix = 0xFE80_0000_0000_0000;

    /// <summary>fe80::<paramref name="interfaceId"/>.</summary>
    public static IPAddress Address(ulong interfaceId)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, Prefix);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], interfaceId);
        return new IPAddress(bytes);
    }

    /// <summary>
    /// The server's own interface identifier, the same on every tunnel (they share one TUN, so one address serves
    /// them all): its IPv4 tunnel address in the low 32 bits, as pppd's ipv6cp-use-ipaddr makes it.
    /// </summary>
    public static ulong InterfaceIdFor(IPAddress ipv4)
    {
        ArgumentNullException.ThrowIfNull(ipv4);
        Span<byte> bytes = stackalloc byte[4];
        return ipv4.TryWriteBytes(bytes, out var written) && written == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : 1;
    }
}
