using System.Collections.Concurrent;
using Firmware.Protocol.Ip;

namespace Firmware.Gateway.Runtime;

/// <summary>
/// Fixed-size packet buffers with a cap, shared by the GRE reader, the TUN readers and the sessions. A buffer
/// has one owner at a time: the reader that rented it, then the session it was posted to, then whoever
/// returns it. <see cref="HeaderRoom"/> bytes at the front let GRE, PPP and MPPE headers be written in
/// place in front of a packet read from the TUN, so the payload is never copied.
/// </summary>
public sealed class PacketBufferPool
{
    public const int BufferSize = 2048;
    public const int HeaderRoom = 64;

    private readonly ConcurrentQueue<byte[]> _free = new();
    private readonly int _capacity;
    private int _created;
    private long _exhausted;

    public PacketBufferPool(int capacity = 4096) => _capacity = capacity;

    /// <summary>The 64 KiB buffers the sessions join received TCP segments in, for a TUN that takes them whole.</summary>
    public SuperPacketBuffers SuperPackets { get; } = new();

    /// <summary>Times a rent failed because every buffer was in use (the packet was dropped).</summary>
    public long Exhausted => Interlocked.Read(ref _exhausted);

    public int Created => Volatile.Read(ref _created);

    /// <summary>Buffers created and back in the pool now; equal to <see cref="Created"/> when nobody holds one.</summary>
    public int Available => _free.Count;

    /// <summary>Buffers rented and not yet returned: held by readers, queues, windows and send batches.</summary>
    public int InUse => Created - Available;

    /// <summary>A buffer, or null when the cap is reached (the caller drops the packet).</summary>
    public byte[]? Rent()
    {
        if (_free.TryDequeue(out var buffer))
        {
            return buffer;
        }
        if (Interlocked.Increment(ref _created) <= _capacity)
        {
            return GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        }
        Interlocked.Decrement(ref _created);
        Interlocked.Increment(ref _exhausted);
        return null;
    }

    public void Return(byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        _free.Enqueue(buffer);
    }
}
