using System.Buffers.Binary;
using System.Net;
using System.Threading.Channels;
using Firmware.Protocol.Ip;

namespace Firmware.Platform.Gre.Testing;

/// <summary>
/// What the in-memory network does to packets in flight. Counting starts when it is set.
/// </summary>
/// <param name="DropEvery">Drop every Nth packet (0: none).</param>
/// <param name="LossRate">Drop each packet with this probability, from a Random seeded with <paramref name="Seed"/>.</param>
/// <param name="ReorderEvery">Hold every Nth packet back and deliver it after the next one to the same address (0: none).</param>
/// <param name="Seed">The seed of the loss Random, so a failing run can be repeated.</param>
public sealed record GreImpairment(int DropEvery = 0, double LossRate = 0, int ReorderEvery = 0, int Seed = 1);

/// <summary>
/// An IPv4 network of GRE hosts in memory, for tests that run whole gateways in one process. Each
/// <see cref="MemoryGreTransport"/> has an address; sending to an address delivers to the transport that has
/// it, as raw IP would: the receiver gets the datagram with a 20-byte IPv4 header (protocol 47) in front, the
/// shape the kernel gives a raw socket. Each host's receive queue is bounded; a full one drops.
/// </summary>
public sealed class MemoryGreNetwork
{
    private readonly Lock _gate = new();
    private readonly Dictionary<uint, MemoryGreTransport> _hosts = [];
    /// <summary>Per destination: the packet held back to be delivered after the next one.</summary>
    private readonly Dictionary<uint, byte[]> _held = [];
    private readonly Dictionary<uint, (long Sent, long Dropped)> _perDestination = [];
    private GreImpairment _impairment = new();
    private Random _random = new(1);
    private long _counted;
    private long _sent, _delivered, _dropped, _reordered, _unreachable, _overflow;

    /// <summary>Loss and reordering from now on (a new value restarts the counting and the Random).</summary>
    public GreImpairment Impairment
    {
        get
        {
            lock (_gate)
            {
                return _impairment;
            }
        }
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (_gate)
            {
                _impairment = value;
                _random = new Random(value.Seed);
                _counted = 0;
            }
        }
    }

    public long Sent => Interlocked.Read(ref _sent);
    public long Delivered => Interlocked.Read(ref _delivered);
    /// <summary>Dropped by the impairment.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);
    /// <summary>Delivered after the packet sent behind them.</summary>
    public long Reordered => Interlocked.Read(ref _reordered);
    /// <summary>Sent to an address no transport has.</summary>
    public long Unreachable => Interlocked.Read(ref _unreachable);
    /// <summary>Dropped because the receiver's queue was full.</summary>
    public long Overflow => Interlocked.Read(ref _overflow);

    /// <summary>Packets sent to <paramref name="address"/> so far.</summary>
    public long SentTo(IPAddress address)
    {
        lock (_gate)
        {
            return _perDestination.GetValueOrDefault(RawGreSocket.AddressKey(address)).Sent;
        }
    }

    /// <summary>Packets to <paramref name="address"/> the impairment dropped so far.</summary>
    public long DroppedTo(IPAddress address)
    {
        lock (_gate)
        {
            return _perDestination.GetValueOrDefault(RawGreSocket.AddressKey(address)).Dropped;
        }
    }

    /// <summary>Delivers every packet held back for reordering now (the end of a burst has no next packet).</summary>
    public void ReleaseHeld()
    {
        lock (_gate)
        {
            foreach (var (destination, held) in _held)
            {
                Interlocked.Increment(ref _reordered);
                Deliver(destination, held);
            }
            _held.Clear();
        }
    }

    /// <summary>A host with <paramref name="address"/> on this network.</summary>
    public MemoryGreTransport Attach(IPAddress address, int queueCapacity = 1024)
    {
        var transport = new MemoryGreTransport(this, address, queueCapacity);
        lock (_gate)
        {
            if (!_hosts.TryAdd(transport.Key, transport))
            {
                throw new InvalidOperationException($"{address} is already on the network");
            }
        }
        return transport;
    }

    /// <summary>Whether a transport has <paramref name="address"/> now (a disposed one has left).</summary>
    public bool IsAttached(IPAddress address)
    {
        lock (_gate)
        {
            return _hosts.ContainsKey(RawGreSocket.AddressKey(address));
        }
    }

    internal void Detach(MemoryGreTransport transport)
    {
        lock (_gate)
        {
            if (_hosts.TryGetValue(transport.Key, out var host) && host == transport)
            {
                _hosts.Remove(transport.Key);
            }
        }
    }

    /// <returns>False when no host has the destination address (a send failure, as EHOSTUNREACH would be).</returns>
    internal bool Send(uint source, ReadOnlySpan<byte> grePacket, uint destination)
    {
        Interlocked.Increment(ref _sent);
        var datagram = Datagram(source, destination, grePacket);
        lock (_gate)
        {
            var n = ++_counted;
            var impairment = _impairment;
            var counts = _perDestination.GetValueOrDefault(destination);
            counts.Sent++;
            var drop = (impairment.DropEvery > 0 && n % impairment.DropEvery == 0)
                || (impairment.LossRate > 0 && _random.NextDouble() < impairment.LossRate);
            if (drop)
            {
                counts.Dropped++;
            }
            _perDestination[destination] = counts;
            if (!_hosts.ContainsKey(destination))
            {
                Interlocked.Increment(ref _unreachable);
                return false;
            }
            if (drop)
            {
                Interlocked.Increment(ref _dropped);
                return true;
            }
            if (impairment.ReorderEvery > 0 && n % impairment.ReorderEvery == 0 && _held.TryAdd(destination, datagram))
            {
                return true;
            }
            Deliver(destination, datagram);
            if (_held.Remove(destination, out var held))
            {
                Interlocked.Increment(ref _reordered);
                Deliver(destination, held);
            }
            return true;
        }
    }

    private void Deliver(uint destination, byte[] datagram)
    {
        if (!_hosts.TryGetValue(destination, out var host))
        {
            Interlocked.Increment(ref _unreachable);
        }
        else if (host.Enqueue(datagram))
        {
            Interlocked.Increment(ref _delivered);
        }
        else
        {
            Interlocked.Increment(ref _overflow);
        }
    }

    /// <summary>The IPv4 datagram raw IP would carry: a 20-byte header, protocol 47, then the GRE packet.</summary>
    private static byte[] Datagram(uint source, uint destination, ReadOnlySpan<byte> grePacket)
    {
        var datagram = new byte[20 + grePacket.Length];
        var header = datagram.AsSpan(0, 20);
        header[0] = 0x45; // version 4, 5 words
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)datagram.Length);
        header[8] = 64; // TTL
        header[9] = RawGreSocket.GreProtocol;
        // The address keys are the header's bytes read little-endian (RawGreSocket.AddressKey).
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], source);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], destination);
        InternetChecksum.WriteIpv4Header(header, 20);
        grePacket.CopyTo(datagram.AsSpan(20));
        return datagram;
    }
}

/// <summary>One host's GRE transport on a <see cref="MemoryGreNetwork"/>.</summary>
public sealed class MemoryGreTransport : IGreTransport
{
    private readonly MemoryGreNetwork _network;
    private readonly Channel<byte[]> _queue;

    internal MemoryGreTransport(MemoryGreNetwork network, IPAddress address, int queueCapacity)
    {
        _network = network;
        Address = address;
        Key = RawGreSocket.AddressKey(address);
        _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(queueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    public IPAddress Address { get; }

    internal uint Key { get; }

    internal bool Enqueue(byte[] datagram) => _queue.Writer.TryWrite(datagram);

    /// <summary>How long a receive waits for the first datagram before it returns 0, as the raw socket's timeout does.</summary>
    public static readonly TimeSpan ReceiveTimeout = TimeSpan.FromMilliseconds(200);

    public long SendFailures => Interlocked.Read(ref _sendFailures);

    private long _sendFailures;

    public void Send(GreSendBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        for (var i = 0; i < batch.Count; i++)
        {
            Send(batch.Packet(i), batch.Peer(i));
        }
    }

    public void Send(ReadOnlySpan<byte> grePacket, uint peer)
    {
        if (!_network.Send(Key, grePacket, peer))
        {
            Interlocked.Increment(ref _sendFailures);
        }
    }

    /// <summary>As the raw socket: blocks for the first datagram (or the timeout), then takes what else is queued.</summary>
    public int Receive(GreReceiveBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.SetCount(0);
        var slots = batch.Ready;
        if (slots == 0)
        {
            return 0;
        }
        var reader = _queue.Reader;
        if (!reader.TryPeek(out _))
        {
            var wait = reader.WaitToReadAsync().AsTask();
            if (!wait.Wait(ReceiveTimeout))
            {
                return 0;
            }
            if (!wait.Result)
            {
                return -1; // disposed and drained: what the raw socket's receive says once it is closed
            }
        }
        var count = 0;
        while (count < slots && reader.TryRead(out var datagram))
        {
            var buffer = batch.Buffer(count)!;
            var n = Math.Min(datagram.Length, buffer.Length);
            datagram.AsSpan(0, n).CopyTo(buffer);
            batch.SetReceived(count, n);
            count++;
        }
        batch.SetCount(count);
        return count;
    }

    public void Dispose()
    {
        _network.Detach(this);
        _queue.Writer.TryComplete();
    }
}
