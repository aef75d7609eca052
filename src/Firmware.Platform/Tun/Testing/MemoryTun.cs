using Firmware.Protocol.Ip;

namespace Firmware.Platform.Tun.Testing;

/// <summary>
/// An in-memory TUN for tests: <see cref="InjectFromKernel"/> plays the kernel routing a packet to the
/// interface (the gateway's <see cref="Read"/> gets it), <see cref="TryTakeDelivered"/> returns what the gateway
/// wrote to the kernel. Both queues are bounded; a full one drops the packet and counts it, as a real TUN's
/// queue does. Like a TUN with offloads it takes TCP super-packets (unless told not to) and delivers them as
/// the kernel would see them after cutting: one segment at a time, each checked by the same segmenter.
/// </summary>
public sealed class MemoryTun : ITunDevice
{
    private readonly Queue<byte[]> _fromKernel = new();
    private readonly Queue<byte[]> _delivered = new();
    private readonly int _capacity;
    private bool _disposed;
    private long _dropped;
    private long _superPacketsWritten, _refused;

    public MemoryTun(string name, int capacity = 4096, bool takesSuperPackets = true)
    {
        Name = name;
        _capacity = capacity;
        TakesSuperPackets = takesSuperPackets;
    }

    public string Name { get; }

    public bool TakesSuperPackets { get; }

    public TunOffloadCounts OffloadCounts => new(0, Interlocked.Read(ref _superPacketsWritten), Interlocked.Read(ref _refused));

    /// <summary>Raised once by <see cref="Dispose"/>: the interface is gone (a fake route table forgets its link).</summary>
    public event Action<MemoryTun>? Closed;

    public bool IsDisposed
    {
        get
        {
            lock (_fromKernel)
            {
                return _disposed;
            }
        }
    }

    /// <summary>Packets dropped because a queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The kernel routes <paramref name="packet"/> to this interface. False if dropped (full or closed).</summary>
    public bool InjectFromKernel(ReadOnlySpan<byte> packet)
    {
        lock (_fromKernel)
        {
            if (_disposed || _fromKernel.Count >= _capacity)
            {
                Interlocked.Increment(ref _dropped);
                return false;
            }
            _fromKernel.Enqueue(packet.ToArray());
            Monitor.PulseAll(_fromKernel);
            return true;
        }
    }

    /// <summary>The next packet the gateway wrote to the kernel, waiting up to <paramref name="timeout"/>.</summary>
    public bool TryTakeDelivered(TimeSpan timeout, out byte[] packet)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_delivered)
        {
            while (_delivered.Count == 0)
            {
                var left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    packet = [];
                    return false;
                }
                Monitor.Wait(_delivered, (int)left);
            }
            packet = _delivered.Dequeue();
            return true;
        }
    }

    /// <summary>How many delivered packets wait to be taken.</summary>
    public int DeliveredCount
    {
        get
        {
            lock (_delivered)
            {
                return _delivered.Count;
            }
        }
    }

    public int Read(Span<byte> buffer)
    {
        byte[] packet;
        lock (_fromKernel)
        {
            while (_fromKernel.Count == 0 && !_disposed)
            {
                Monitor.Wait(_fromKernel);
            }
            if (_disposed)
            {
                return -1;
            }
            packet = _fromKernel.Dequeue();
        }
        // A real TUN truncates a packet larger than the read buffer; so does this one.
        var n = Math.Min(packet.Length, buffer.Length);
        packet.AsSpan(0, n).CopyTo(buffer);
        return n;
    }

    public bool Write(ReadOnlySpan<byte> packet)
    {
        if (IsDisposed)
        {
            return false;
        }
        lock (_delivered)
        {
            if (_delivered.Count >= _capacity)
            {
                Interlocked.Increment(ref _dropped);
                return true; // the kernel's queue dropped it; the write itself succeeded
            }
            _delivered.Enqueue(packet.ToArray());
            Monitor.PulseAll(_delivered);
        }
        return true;
    }

    public bool WriteSuperPacket(in VirtioNetHeader header, ReadOnlySpan<byte> packet)
    {
        if (!TakesSuperPackets)
        {
            throw new InvalidOperationException($"{Name} takes no super-packets");
        }
        if (!GsoSegmenter.TryPlan(header, packet, out var plan, out _))
        {
            Interlocked.Increment(ref _refused); // the kernel would refuse the write: EINVAL
            return true;
        }
        Interlocked.Increment(ref _superPacketsWritten);
        var segment = new byte[plan.HeaderLength + plan.SegmentSize];
        for (var i = 0; i < plan.Count; i++)
        {
            var length = GsoSegmenter.WriteSegment(plan, packet, i, segment);
            if (!Write(segment.AsSpan(0, length)))
            {
                return false;
            }
        }
        return true;
    }

    public void Dispose()
    {
        lock (_fromKernel)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _fromKernel.Clear();
            Monitor.PulseAll(_fromKernel);
        }
        Closed?.Invoke(this);
    }
}
