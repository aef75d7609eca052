using System.Net;

namespace Firmware.Platform.Gre;

/// <summary>
/// Sends and receives GRE packets: <see cref="RawGreSocket"/> on Linux, <see cref="Testing.MemoryGreNetwork"/>
/// in tests, which lets whole gateways run in one test process.
/// </summary>
public interface IGreTransport : IDisposable
{
    void Send(ReadOnlySpan<byte> grePacket, SocketAddress peer);

    /// <summary>
    /// Receives one IPv4 datagram (IP header included, as a raw socket gives it) and locates the GRE packet in it,
    /// as <see cref="RawGreSocket.TryLocateGre"/> does; false for one that is not a sane IPv4 GRE datagram.
    /// </summary>
    ValueTask<(bool Ok, GreDatagram Datagram)> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);
}
