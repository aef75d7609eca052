using System.Collections.Concurrent;
using System.Net;
using Firmware.Platform.Gre;
using Firmware.Protocol.Gre;

namespace Firmware.Gateway.Runtime;

/// <summary>A session's registration with the GRE reader: where its packets go.</summary>
public interface IGreReceiver
{
    /// <summary>
    /// A GRE packet for this session: the datagram at buffer[offset..+length], its header already decoded into
    /// <paramref name="packet"/> (payload offset relative to the buffer). Takes ownership of the buffer on true.
    /// </summary>
    bool PostGre(byte[] buffer, in GrePacket packet);
}

/// <summary>
/// The one GRE reader shared by every session: a thread of its own receives batches of datagrams into pooled
/// buffers, checks the IP and GRE headers once, and hands each packet, decoded, to the session registered for
/// (source address, call ID). GRE from any other address or with any other call ID is dropped and counted: a
/// third party cannot inject into a tunnel by guessing a call ID unless it also spoofs the peer's address.
/// </summary>
public sealed class GreMultiplexer : IAsyncDisposable
{
    /// <summary>Datagrams one receive may take.</summary>
    public const int BatchSize = 32;

    private readonly IGreTransport _transport;
    private readonly PacketBufferPool _pool;
    private readonly ConcurrentDictionary<(uint Peer, ushort CallId), IGreReceiver> _sessions = new();
    private readonly Thread _reader;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;
    private long _received;
    private long _batches;
    private long _unknownSession;
    private long _overflow;

    public GreMultiplexer(IGreTransport transport, PacketBufferPool pool)
    {
        _transport = transport;
        _pool = pool;
        _reader = new Thread(ReceiveLoop) { IsBackground = true, Name = "gre-reader" };
    }

    public GreDropCounters Drops { get; } = new();

    public long Received => Interlocked.Read(ref _received);

    /// <summary>Receive calls that returned datagrams: Received / ReceiveBatches is the batching achieved.</summary>
    public long ReceiveBatches => Interlocked.Read(ref _batches);

    /// <summary>Datagrams from an unknown (address, call ID): foreign or stale traffic.</summary>
    public long UnknownSession => Interlocked.Read(ref _unknownSession);

    /// <summary>Datagrams dropped because the session's queue or the buffer pool was full.</summary>
    public long Overflow => Interlocked.Read(ref _overflow);

    public IGreTransport Transport => _transport;

    public void Start() => _reader.Start();

    /// <summary>True while the receive loop runs (the watchdog asks).</summary>
    public bool IsRunning => _reader.IsAlive && !_stopped.Task.IsCompleted;

    public bool Register(IPAddress peer, ushort localCallId, IGreReceiver receiver)
        => _sessions.TryAdd((RawGreSocket.AddressKey(peer), localCallId), receiver);

    /// <summary>Whether a session listens for (peer, call ID) now.</summary>
    public bool IsRegistered(IPAddress peer, ushort localCallId)
        => _sessions.ContainsKey((RawGreSocket.AddressKey(peer), localCallId));

    /// <summary>Sessions listening now (a finished gateway has none left).</summary>
    public int Registrations => _sessions.Count;

    public void Unregister(IPAddress peer, ushort localCallId)
        => _sessions.TryRemove((RawGreSocket.AddressKey(peer), localCallId), out _);

    private void ReceiveLoop()
    {
        var batch = new GreReceiveBatch(BatchSize);
        try
        {
            while (!_stopping)
            {
                if (!Refill(batch))
                {
                    Interlocked.Increment(ref _overflow);
                    Thread.Sleep(1); // every buffer is in use: let the sessions catch up
                    continue;
                }
                var count = _transport.Receive(batch);
                if (count < 0)
                {
                    break;
                }
                if (count == 0)
                {
                    continue;
                }
                Interlocked.Add(ref _received, count);
                Interlocked.Increment(ref _batches);
                for (var i = 0; i < count; i++)
                {
                    Dispatch(batch, i);
                }
            }
        }
        finally
        {
            for (var i = 0; i < batch.Capacity; i++)
            {
                if (batch.Buffer(i) is { } buffer)
                {
                    _pool.Return(buffer);
                    batch.Take(i);
                }
            }
            _stopped.TrySetResult();
        }
    }

    /// <summary>Gives every empty slot a buffer; false if not even the first could have one.</summary>
    private bool Refill(GreReceiveBatch batch)
    {
        for (var i = 0; i < batch.Capacity; i++)
        {
            if (batch.Buffer(i) is not null)
            {
                continue;
            }
            if (_pool.Rent() is not { } buffer)
            {
                return i > 0;
            }
            batch.SetBuffer(i, buffer);
        }
        return true;
    }

    private void Dispatch(GreReceiveBatch batch, int index)
    {
        var datagram = batch.Datagram(index);
        if (!RawGreSocket.TryLocateGre(datagram, out var located))
        {
            Drops.Increment(GreDropReason.TooShort);
            return;
        }
        if (!GreCodec.TryDecode(datagram.Slice(located.Offset, located.Length), out var packet, out var reason))
        {
            Drops.Increment(reason);
            return;
        }
        if (!_sessions.TryGetValue((located.Source, packet.CallId), out var session))
        {
            Interlocked.Increment(ref _unknownSession);
            return;
        }
        var buffer = batch.Buffer(index)!;
        if (session.PostGre(buffer, packet with { PayloadOffset = packet.PayloadOffset + located.Offset }))
        {
            batch.Take(index); // the session owns it now
        }
        else
        {
            Interlocked.Increment(ref _overflow);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        _transport.Dispose();
        if (_reader.IsAlive)
        {
            await _stopped.Task.ConfigureAwait(false);
        }
    }
}
