using System.Net.Sockets;

namespace Firmware.Gateway.Runtime;

/// <summary>
/// The sending half of a PPTP control connection: the session loop appends messages to a buffer capped at
/// <see cref="MaxQueuedBytes"/> and never blocks on TCP; one writer task at a time moves what is pending to
/// the socket. A peer that stops reading (its receive window closed, e.g. an Echo-Request flood whose replies
/// it never reads) fills the cap and is dropped, instead of stalling the loop while its requests pile up.
/// Nothing is allocated per message: the two buffers grow (doubling, from a few hundred bytes) to the cap.
/// </summary>
internal sealed class ControlStreamWriter(Socket socket, Action onOverflow)
{
    /// <summary>Unsent bytes allowed: hundreds of control messages, far more than any honest peer leaves unread.</summary>
    public const int MaxQueuedBytes = 64 * 1024;

    private const int InitialCapacity = 512;

    private readonly Lock _gate = new();
    private byte[] _pending = new byte[InitialCapacity];
    private int _pendingLength;
    private byte[] _sending = new byte[InitialCapacity];
    private int _inFlight;
    private bool _writing;
    private bool _closeAfterFlush;
    private bool _closed;

    /// <summary>Bytes appended and not yet accepted by the socket.</summary>
    public int QueuedBytes
    {
        get
        {
            lock (_gate)
            {
                return _pendingLength + _inFlight;
            }
        }
    }

    /// <summary>Appends one message. Past the cap the connection is given up: <c>onOverflow</c> runs once.</summary>
    public void Enqueue(ReadOnlySpan<byte> message)
    {
        bool startWriter = false, overflowed = false;
        lock (_gate)
        {
            if (_closed || _closeAfterFlush)
            {
                return;
            }
            if (_pendingLength + _inFlight + message.Length > MaxQueuedBytes)
            {
                _closed = true;
                _pendingLength = 0;
                overflowed = true;
            }
            else
            {
                EnsureCapacity(ref _pending, _pendingLength + message.Length);
                message.CopyTo(_pending.AsSpan(_pendingLength));
                _pendingLength += message.Length;
                startWriter = !_writing;
                _writing = true;
            }
        }
        if (overflowed)
        {
            onOverflow();
        }
        else if (startWriter)
        {
            _ = Task.Run(DrainAsync);
        }
    }

    /// <summary>Sends what is queued, then shuts the connection down (FIN) so the peer sees the end.</summary>
    public void CloseAfterFlush()
    {
        bool shutNow;
        lock (_gate)
        {
            _closeAfterFlush = true;
            shutNow = !_writing;
        }
        if (shutNow)
        {
            ShutdownSocket();
        }
    }

    /// <summary>Drops whatever is unsent (the socket is about to be disposed).</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            _pendingLength = 0;
        }
    }

    private static void EnsureCapacity(ref byte[] buffer, int needed)
    {
        if (buffer.Length >= needed)
        {
            return;
        }
        var grown = new byte[Math.Min(MaxQueuedBytes, Math.Max(needed, buffer.Length * 2))];
        buffer.AsSpan().CopyTo(grown);
        buffer = grown;
    }

    private async Task DrainAsync()
    {
        while (true)
        {
            int length;
            bool shut = false;
            lock (_gate)
            {
                _inFlight = 0;
                length = _closed ? 0 : _pendingLength;
                if (length == 0)
                {
                    _writing = false;
                    shut = _closeAfterFlush;
                }
                else
                {
                    // Swap: the loop appends to the other buffer while this one is on its way.
                    (_pending, _sending) = (_sending, _pending);
                    _pendingLength = 0;
                    _inFlight = length;
                }
            }
            if (length == 0)
            {
                if (shut)
                {
                    ShutdownSocket();
                }
                return;
            }
            try
            {
                var sent = 0;
                while (sent < length)
                {
                    sent += await socket.SendAsync(_sending.AsMemory(sent, length - sent), SocketFlags.None).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The connection is gone; the reader sees it too and the session closes.
                lock (_gate)
                {
                    _closed = true;
                    _pendingLength = 0;
                    _inFlight = 0;
                    _writing = false;
                }
                return;
            }
        }
    }

    private void ShutdownSocket()
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }
}
