namespace Firmware.Platform.Gre;

/// <summary>
/// GRE packets waiting to leave, each in a buffer its session owns until the batch is sent: one sendmmsg for
/// the lot instead of a sendto each. Holds references only; what to do with the buffers afterwards is the
/// owner's business (a session returns them to its pool).
/// </summary>
public sealed class GreSendBatch
{
    private readonly byte[][] _buffers;
    private readonly int[] _offsets;
    private readonly int[] _lengths;
    private readonly uint[] _peers;

    public GreSendBatch(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _buffers = new byte[capacity][];
        _offsets = new int[capacity];
        _lengths = new int[capacity];
        _peers = new uint[capacity];
    }

    public int Capacity => _buffers.Length;

    public int Count { get; private set; }

    public bool IsFull => Count == _buffers.Length;

    /// <summary>Queues buffer[offset..+length] for <paramref name="peer"/> (an address key, see <see cref="RawGreSocket.AddressKey"/>).</summary>
    public void Add(byte[] buffer, int offset, int length, uint peer)
    {
        if (IsFull)
        {
            throw new InvalidOperationException("the send batch is full; send it first");
        }
        _buffers[Count] = buffer;
        _offsets[Count] = offset;
        _lengths[Count] = length;
        _peers[Count] = peer;
        Count++;
    }

    public byte[] Buffer(int index) => _buffers[CheckIndex(index)];

    public ReadOnlySpan<byte> Packet(int index) => _buffers[CheckIndex(index)].AsSpan(_offsets[index], _lengths[index]);

    public uint Peer(int index) => _peers[CheckIndex(index)];

    public int Offset(int index) => _offsets[CheckIndex(index)];

    public int Length(int index) => _lengths[CheckIndex(index)];

    /// <summary>Forgets the entries (the owner has taken its buffers back).</summary>
    public void Clear()
    {
        Array.Clear(_buffers, 0, Count);
        Count = 0;
    }

    private int CheckIndex(int index) => (uint)index < (uint)Count ? index : throw new ArgumentOutOfRangeException(nameof(index));
}

/// <summary>
/// Buffers for one recvmmsg: the reader fills the slots with pooled buffers, the transport receives up to one
/// datagram into each (the IPv4 header included, as a raw socket delivers it), and the reader takes the
/// buffers it hands on, leaving the slot empty for the next round.
/// </summary>
public sealed class GreReceiveBatch
{
    private readonly byte[]?[] _buffers;
    private readonly int[] _lengths;

    public GreReceiveBatch(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _buffers = new byte[capacity][];
        _lengths = new int[capacity];
    }

    public int Capacity => _buffers.Length;

    /// <summary>How many leading slots hold a buffer: the most one receive may fill.</summary>
    public int Ready
    {
        get
        {
            var ready = 0;
            while (ready < _buffers.Length && _buffers[ready] is not null)
            {
                ready++;
            }
            return ready;
        }
    }

    /// <summary>Datagrams the last receive put in slots [0, Count).</summary>
    public int Count { get; private set; }

    public byte[]? Buffer(int index) => _buffers[index];

    public void SetBuffer(int index, byte[] buffer) => _buffers[index] = buffer;

    /// <summary>Empties the slot: its buffer now belongs to whoever took it.</summary>
    public void Take(int index) => _buffers[index] = null;

    /// <summary>The datagram received into slot <paramref name="index"/> (valid until the next receive).</summary>
    public ReadOnlySpan<byte> Datagram(int index) => (uint)index < (uint)Count
        ? _buffers[index].AsSpan(0, _lengths[index])
        : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>For transports: records what arrived.</summary>
    public void SetReceived(int index, int length) => _lengths[index] = length;

    /// <summary>For transports: how many slots the receive filled.</summary>
    public void SetCount(int count) => Count = count;
}
