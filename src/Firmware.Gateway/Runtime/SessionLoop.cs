using System.Threading.Channels;

namespace Firmware.Gateway.Runtime;

/// <summary>What a session's loop is asked to do.</summary>
public enum SessionWorkKind
{
    /// <summary>Run <see cref="SessionWork.Action"/> (timers, commands, control-plane events).</summary>
    Action,
    /// <summary>A GRE packet for this session in a pooled buffer.</summary>
    GrePacket,
    /// <summary>An IP packet from the TUN in a pooled buffer, after the header room.</summary>
    TunPacket,
    /// <summary>Bytes read from the PPTP control connection, in a pooled buffer.</summary>
    ControlBytes,
}

/// <summary>One queued item: a struct, so posting a packet allocates nothing.</summary>
public readonly record struct SessionWork(SessionWorkKind Kind, byte[]? Buffer, int Offset, int Length, Action? Action);

/// <summary>
/// One logical thread per session: everything that touches a session's state (control bytes, GRE input,
/// TUN input, timers, commands) is queued here and handled in order by one loop, so the state machines need
/// no locks. Data packets are bounded (a slow session drops and counts rather than growing without limit);
/// control-plane work is never dropped.
/// </summary>
public sealed class SessionLoop
{
    public const int MaxQueuedPackets = 1024;

    private readonly Channel<SessionWork> _channel = Channel.CreateUnbounded<SessionWork>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private int _queuedPackets;
    private long _overflowDrops;

    /// <summary>Packets dropped because the queue was full.</summary>
    public long OverflowDrops => Interlocked.Read(ref _overflowDrops);

    /// <summary>Queues control-plane work. False once the loop has completed.</summary>
    public bool Post(Action action) => _channel.Writer.TryWrite(new SessionWork(SessionWorkKind.Action, null, 0, 0, action));

    /// <summary>Hands a packet buffer to the loop. On false the caller still owns the buffer.</summary>
    public bool PostPacket(SessionWorkKind kind, byte[] buffer, int offset, int length)
    {
        if (Interlocked.Increment(ref _queuedPackets) > MaxQueuedPackets)
        {
            Interlocked.Decrement(ref _queuedPackets);
            Interlocked.Increment(ref _overflowDrops);
            return false;
        }
        if (_channel.Writer.TryWrite(new SessionWork(kind, buffer, offset, length, null)))
        {
            return true;
        }
        Interlocked.Decrement(ref _queuedPackets);
        return false;
    }

    /// <summary>
    /// Completes once the loop has run everything queued before it (the watchdog's liveness probe). A loop that
    /// has already finished answers at once.
    /// </summary>
    public Task PingAsync()
    {
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Post(() => answered.TrySetResult()) ? answered.Task : Task.CompletedTask;
    }

    /// <summary>After a handler failed: runs <paramref name="close"/>; if closing fails too, the loop still ends.</summary>
    public void CloseAfterError(Action close)
    {
        ArgumentNullException.ThrowIfNull(close);
#pragma warning disable CA1031 // a second failure while closing must still end the loop
        try
        {
            close();
        }
        catch (Exception)
        {
            Complete();
        }
#pragma warning restore CA1031
    }

    /// <summary>No more work is accepted; the loop drains what is queued and ends.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>
    /// Runs the loop until <see cref="Complete"/>; the handler owns each packet buffer it is given. A handler
    /// that throws does not end the loop: <paramref name="onError"/> hears of it (and typically closes the
    /// session), so one bad packet or bug costs that session at most, never the process or a silent hang.
    /// </summary>
    public async Task RunAsync(Action<SessionWork> handler, Action<Exception> onError)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(onError);
        var reader = _channel.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var work))
            {
                if (work.Kind != SessionWorkKind.Action)
                {
                    Interlocked.Decrement(ref _queuedPackets);
                }
#pragma warning disable CA1031 // the loop must survive any handler failure; onError reports it
                try
                {
                    handler(work);
                }
                catch (Exception e)
                {
                    onError(e);
                }
#pragma warning restore CA1031
            }
        }
    }
}
