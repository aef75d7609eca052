using Firmware.Protocol.Ip;

namespace Firmware.Platform.Tun;

/// <summary>
/// A layer-3 tunnel interface: each read returns one IP packet the kernel routed to it, each write hands one
/// IP packet to the kernel. A device with offloads also takes TCP super-packets (<see cref="WriteSuperPacket"/>)
/// and cuts the ones the kernel hands it itself, so readers still see one IP packet per read. The seam lets
/// whole gateways run in one test process over an in-memory TUN.
/// </summary>
public interface ITunDevice : IDisposable
{
    /// <summary>The interface name the kernel gave (e.g. "pptp0").</summary>
    string Name { get; }

    /// <summary>Whether <see cref="WriteSuperPacket"/> may be used.</summary>
    bool TakesSuperPackets { get; }

    /// <summary>What the offloads did since the device was opened.</summary>
    TunOffloadCounts OffloadCounts { get; }

    /// <summary>
    /// Blocks until a packet arrives and copies it into <paramref name="buffer"/>; returns its length, or
    /// -1 once the device is closed (by <see cref="IDisposable.Dispose"/> or because the interface was deleted).
    /// </summary>
    int Read(Span<byte> buffer);

    /// <summary>Hands one IP packet to the kernel. Returns false if the device is gone.</summary>
    bool Write(ReadOnlySpan<byte> packet);

    /// <summary>Hands a TCP super-packet (see <see cref="TcpCoalescer"/>) to the kernel in one write.</summary>
    bool WriteSuperPacket(in VirtioNetHeader header, ReadOnlySpan<byte> packet);
}

/// <param name="SuperPacketsRead">TCP super-packets the kernel handed us, each cut into segments here.</param>
/// <param name="SuperPacketsWritten">Super-packets we handed the kernel (each several of a tunnel's segments).</param>
/// <param name="Refused">What the kernel handed us with an offload header that did not match the packet: dropped.</param>
public readonly record struct TunOffloadCounts(long SuperPacketsRead, long SuperPacketsWritten, long Refused);
