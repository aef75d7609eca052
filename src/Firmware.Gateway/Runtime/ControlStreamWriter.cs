using System.Net.Sockets;

namespace Firmware.Gateway.Runtime;

/// <summary>
/// The sending half of a PPTP control connection: the session loop hands messages to a queue capped at
/// <see cref="MaxQueuedBytes"/> and never blocks on TCP; one writer task at a time drains the queue. A peer
/// that stops reading (its receive window closed, e.g. an Echo-Request flood whose replies it never reads)
/// fills the cap and is dropped, instead of stalling the loop while its requests pile up.
/// </summary>
internal sealed class ControlStreamWriter(Socket socket, Action onOverflow)
{
    /// <summary>Unsent bytes allowed: hundreds of control messages, far more than any honest peer leaves unread.</summary>
    public const int MaxQueuedBytes = 64 * 1024;

    private readonly Lock _gate = new();
    private readonly Queue<byte[]> _queue = new();
    private int _queuedBytes;
    private bool _writing;
    private bool _closeAfterFlush;
    private bool _closed;

    /// <summary>Unsent bytes now.</summary>
    public int QueuedBytes
    {
        get
        {
            lock (_gate)
            {
                return _queuedBytes;
            }
        }
    }

    /// <summary>Queues one message (copied). Past the cap the connection is given up: <c>onOverflow</c> runs once.</summary>
    public void Enqueue(ReadOnlySpan<byte> message)
    {
        bool startWriter = false, overflowed = false;
        lock (_gate)
        {
            if (_closed || _closeAfterFlush)
            {
                return;
            }
            if (_queuedBytes + message.Length > MaxQueuedBytes)
            {
                _closed = true;
                _queue.Clear();
                _queuedBytes = 0;
                overflowed = true;
            }
            else
            {
                _queue.Enqueue(message.ToArray());
                _queuedBytes += message.Length;
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
            _queue.Clear();
            _queuedBytes = 0;
        }
    }

    private async Task DrainAsync()
    {
        while (true)
        {
            byte[] next;
            bool shut;
            lock (_gate)
            {
                if (_closed || _queue.Count == 0)
                {
                    _writing = false;
                    shut = _closeAfterFlush;
                    next = [];
                }
                else
                {
                    next = _queue.Peek();
                    shut = false;
                }
            }
            if (next.Length == 0)
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
                while (sent < next.Length)
                {
                    sent += await socket.SendAsync(next.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The connection is gone; the reader sees it too and the session closes.
                Close();
                lock (_gate)
                {
                    _writing = false;
                }
                return;
            }
            lock (_gate)
            {
                if (_queue.Count > 0 && ReferenceEquals(_queue.Peek(), next))
                {
                    _queue.Dequeue();
                    _queuedBytes -= next.Length;
                }
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
