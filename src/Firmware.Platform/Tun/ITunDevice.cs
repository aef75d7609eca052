namespace Firmware.Platform.Tun;

/// <summary>
/// A layer-3 tunnel interface: each read returns one IP packet the kernel routed to it, each write hands one
/// IP packet to the kernel. The seam lets whole gateways run in one test process over an in-memory TUN.
/// </summary>
public interface ITunDevice : IDisposable
{
    /// <summary>The interface name the kernel gave (e.g. "pptp0").</summary>
    string Name { get; }

    /// <summary>
    /// Blocks until a packet arrives and copies it into <paramref name="buffer"/>; returns its length, or
    /// -1 once the device is closed (by <see cref="IDisposable.Dispose"/> or because the interface was deleted).
    /// </summary>
    int Read(Span<byte> buffer);

    /// <summary>Hands one IP packet to the kernel. Returns false if the device is gone.</summary>
    bool Write(ReadOnlySpan<byte> packet);
}
