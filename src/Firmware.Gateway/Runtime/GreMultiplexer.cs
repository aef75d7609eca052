using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Firmware.Platform.Gre;
using Firmware.Protocol.Gre;

namespace Firmware.Gateway.Runtime;

/// <summary>The raw IP-protocol-47 socket as an <see cref="IGreTransport"/>.</summary>
public sealed class RawGreTransport(IPAddress? localAddress) : IGreTransport
{
    private readonly RawGreSocket _socket = new(localAddress);

    public void Send(ReadOnlySpan<byte> grePacket, SocketAddress peer)
    {
        try
        {
            _socket.Send(grePacket, peer);
        }
        catch (SocketException)
        {
            // Unreachable peer or full socket buffer: the packet is lost, as on a wire; PPP and TCP recover.
        }
    }

    public ValueTask<(bool Ok, GreDatagram Datagram)> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        => _socket.ReceiveAsync(buffer, cancellationToken);

    public void Dispose() => _socket.Dispose();
}

/// <summary>A session's registration with the GRE reader: where its packets go.</summary>
public interface IGreReceiver
{
    /// <summary>Takes ownership of <paramref name="buffer"/> on true.</summary>
    bool PostGre(byte[] buffer, int offset, int length);
}

/// <summary>
/// The one GRE reader loop shared by every session: receives each datagram into a pooled buffer, checks the
/// IP and GRE headers, and hands it to the session registered for (source address, call ID). GRE from any
/// other address or with any other call ID is dropped and counted: a third party cannot inject into a tunnel
/// by guessing a call ID unless it also spoofs the peer's address.
/// </summary>
public sealed class GreMultiplexer : IAsyncDisposable
{
    private readonly IGreTransport _transport;
    private readonly PacketBufferPool _pool;
    private readonly ConcurrentDictionary<(uint Peer, ushort CallId), IGreReceiver> _sessions = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _received;
    private long _unknownSession;
    private long _overflow;

    public GreMultiplexer(IGreTransport transport, PacketBufferPool pool)
    {
        _transport = transport;
        _pool = pool;
    }

    public GreDropCounters Drops { get; } = new();

    public long Received => Interlocked.Read(ref _received);

    /// <summary>Datagrams from an unknown (address, call ID): foreign or stale traffic.</summary>
    public long UnknownSession => Interlocked.Read(ref _unknownSession);

    /// <summary>Datagrams dropped because the session's queue or the buffer pool was full.</summary>
    public long Overflow => Interlocked.Read(ref _overflow);

    public IGreTransport Transport => _transport;

    public void Start() => _loop = Task.Run(() => ReceiveLoopAsync(_stop.Token));

    /// <summary>True while the receive loop runs (the watchdog asks).</summary>
    public bool IsRunning => _loop is { IsCompleted: false };

    public bool Register(IPAddress peer, ushort localCallId, IGreReceiver receiver)
        => _sessions.TryAdd((RawGreSocket.AddressKey(peer), localCallId), receiver);

    /// <summary>Whether a session listens for (peer, call ID) now.</summary>
    public bool IsRegistered(IPAddress peer, ushort localCallId)
        => _sessions.ContainsKey((RawGreSocket.AddressKey(peer), localCallId));

    /// <summary>How many sessions are registered now (tests check that teardown leaves none).</summary>
    public int Registrations => _sessions.Count;

    public void Unregister(IPAddress peer, ushort localCallId)
        => _sessions.TryRemove((RawGreSocket.AddressKey(peer), localCallId), out _);

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        byte[]? buffer = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            buffer ??= _pool.Rent();
            if (buffer is null)
            {
                Interlocked.Increment(ref _overflow);
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
                continue;
            }

            bool ok;
            GreDatagram datagram;
            try
            {
                (ok, datagram) = await _transport.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException)
            {
                continue;
            }

            Interlocked.Increment(ref _received);
            if (!ok)
            {
                Drops.Increment(GreDropReason.TooShort);
                continue;
            }
            var span = buffer.AsSpan(datagram.Offset, datagram.Length);
            if (!GreCodec.TryDecode(span, out var packet, out var reason))
            {
                Drops.Increment(reason);
                continue;
            }
            if (!_sessions.TryGetValue((datagram.Source, packet.CallId), out var session))
            {
                Interlocked.Increment(ref _unknownSession);
                continue;
            }
            if (session.PostGre(buffer, datagram.Offset, datagram.Length))
            {
                buffer = null; // the session owns it now
            }
            else
            {
                Interlocked.Increment(ref _overflow);
            }
        }
        if (buffer is not null)
        {
            _pool.Return(buffer);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _transport.Dispose();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
        _stop.Dispose();
    }
}
