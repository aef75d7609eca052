using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Firmware.Platform.Linux;
using Tmds.Linux;

namespace Firmware.Platform.Gre;

/// <summary>Where the GRE packet sits inside a received IPv4 datagram, and who sent it.</summary>
/// <param name="Source">The sender's IPv4 address: its four header bytes read as a little-endian integer, the same
/// value <see cref="RawGreSocket.AddressKey"/> gives, so sessions are found without allocating an IPAddress.</param>
/// <param name="Offset">Offset of the GRE header in the receive buffer (after the IP header).</param>
/// <param name="Length">Length of the GRE packet (header and payload).</param>
public readonly record struct GreDatagram(uint Source, int Offset, int Length);

/// <summary>
/// The one raw IP-protocol-47 socket that all sessions share. The kernel hands raw IPv4 sockets the whole
/// datagram, IP header included; the header is skipped in place, so the caller demultiplexes by
/// (source address, call ID) with no copy and no allocation. Sending lets the kernel write the IP header.
/// </summary>
public sealed class RawGreSocket : IDisposable
{
    public const int GreProtocol = 47;
    private readonly Socket _socket;

    /// <param name="localAddress">Bind to this address (the control connection's local address), or null for any.</param>
    public RawGreSocket(IPAddress? localAddress = null)
    {
        // .NET's ProtocolType mapping does not pass 47 through, so the descriptor is made directly and wrapped.
        var fd = LibC.socket(LibC.AF_INET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, GreProtocol);
        if (fd < 0)
        {
            throw PlatformException.FromErrno("raw GRE socket (needs CAP_NET_RAW)");
        }
        _socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        if (localAddress is not null)
        {
            _socket.Bind(new IPEndPoint(localAddress, 0));
        }
        // Room for bursts: the reader is one loop, and a tunnel at line rate fills the default quickly.
        _socket.ReceiveBufferSize = 4 * 1024 * 1024;
        _socket.SendBufferSize = 4 * 1024 * 1024;
    }

    /// <summary>Receives one datagram into <paramref name="buffer"/>; false for one that is not a sane IPv4 GRE datagram.</summary>
    public async ValueTask<(bool Ok, GreDatagram Datagram)> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var received = await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var ok = TryLocateGre(buffer.Span[..received], out var datagram);
        return (ok, datagram);
    }

    /// <summary>Sends one GRE packet to <paramref name="peer"/> (an IPv4 <see cref="SocketAddress"/> the session keeps).</summary>
    public int Send(ReadOnlySpan<byte> grePacket, SocketAddress peer) => _socket.SendTo(grePacket, SocketFlags.None, peer);

    /// <summary>The socket address to send GRE to <paramref name="address"/>; allocate once per session.</summary>
    public static SocketAddress PeerAddress(IPAddress address) => new IPEndPoint(address, 0).Serialize();

    /// <summary>The key <see cref="GreDatagram.Source"/> uses for <paramref name="address"/>.</summary>
    public static uint AddressKey(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[4];
        return address.TryWriteBytes(bytes, out var written) && written == 4
            ? BinaryPrimitives.ReadUInt32LittleEndian(bytes)
            : throw new ArgumentException("not an IPv4 address", nameof(address));
    }

    /// <summary>Validates the IPv4 header of a raw datagram and finds the GRE packet after it.</summary>
    public static bool TryLocateGre(ReadOnlySpan<byte> datagram, out GreDatagram gre)
    {
        gre = default;
        if (datagram.Length < 20 || datagram[0] >> 4 != 4)
        {
            return false;
        }
        var headerLength = (datagram[0] & 0x0F) * 4;
        var totalLength = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        if (headerLength < 20 || totalLength < headerLength || totalLength > datagram.Length || datagram[9] != GreProtocol)
        {
            return false;
        }
        gre = new GreDatagram(BinaryPrimitives.ReadUInt32LittleEndian(datagram[12..]), headerLength, totalLength - headerLength);
        return true;
    }

    public void Dispose() => _socket.Dispose();
}
