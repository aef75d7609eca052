using System.Collections.Concurrent;
using Firmware.Protocol.Gre;

namespace Firmware.Gateway.Runtime;

/// <summary>What a session's loop is asked to do.</summary>
public enum SessionWorkKind
{
    /// <summary>Run <see cref="SessionWork.Action"/> (timers, commands, control-plane events).</summary>
    Action,
    /// <summary>A GRE packet for this session in a pooled buffer (its header already decoded by the reader).</summary>
    GrePacket,
    /// <summary>An IP packet from the TUN in a pooled buffer, after the header room.</summary>
    TunPacket,
}

/// <summary>One queued item: a struct, so posting a packet allocates nothing.</summary>
/// <param name="Gre">For a GRE packet: its header as the reader decoded it (payload offset relative to the buffer).</param>
public readonly record struct SessionWork(SessionWorkKind Kind, byte[]? Buffer, int Offset, int Length, Action? Action, GrePacket Gre = default);

/// <summary>
/// One logical thread per session: everything that touches a session's state (GRE input, TUN input, timers,
/// control events, commands) is queued here and handled in order by one loop, so the state machines need no
/// locks. Data packets are bounded (a slow session drops and counts rather than growing without limit);
/// control-plane work is never dropped.
/// The loop takes what is queued in batches of up to <see cref="MaxBatch"/> and then calls the batch hook
/// once (a tunnel flushes its GRE sends there, one sendmmsg for the batch). A tunnel's loop runs on a thread
/// of its own that sleeps on a futex while idle: a packet costs no thread-pool hop, and a loop that is busy
/// takes the next packets without being woken at all. A control connection's loop, which sees a few events
/// a minute, runs on the thread pool instead.
/// </summary>
public sealed class SessionLoop : IThreadPoolWorkItem
{
    public const int MaxQueuedPackets = 1024;

    /// <summary>Items handled before the batch hook runs, so a flood still flushes its sends regularly.</summary>
    public const int MaxBatch = 64;

    private readonly ConcurrentQueue<SessionWork> _queue = new();
    private readonly string? _threadName;
    private readonly ManualResetEventSlim? _wake;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Action<SessionWork>? _handler;
    private Action<Exception>? _onError;
    private Action? _afterBatch;
    /// <summary>0: idle, a post must wake the loop; 1: the loop is running or already woken.</summary>
    private int _scheduled;
    private int _posting;
    private volatile bool _completed;
    private bool _started;
    private int _queuedPackets;
    private long _overflowDrops;

    /// <param name="threadName">Run on a dedicated thread of this name; null runs on the thread pool.</param>
    public SessionLoop(string? threadName = null)
    {
        _threadName = threadName;
        // No spinning before sleeping: on a 2-core board a spinning idle loop steals the core the packet needs.
        _wake = threadName is null ? null : new ManualResetEventSlim(false, spinCount: 0);
    }

    /// <summary>Packets dropped because the queue was full.</summary>
    public long OverflowDrops => Interlocked.Read(ref _overflowDrops);

    /// <summary>Queues control-plane work. False once the loop has completed.</summary>
    public bool Post(Action action) => Enqueue(new SessionWork(SessionWorkKind.Action, null, 0, 0, action));

    /// <summary>Hands a packet buffer to the loop. On false the caller still owns the buffer.</summary>
    public bool PostPacket(SessionWorkKind kind, byte[] buffer, int offset, int length)
        => PostPacket(new SessionWork(kind, buffer, offset, length, null));

    /// <summary>Hands a decoded GRE packet to the loop. On false the caller still owns the buffer.</summary>
    public bool PostGre(byte[] buffer, in GrePacket packet)
        => PostPacket(new SessionWork(SessionWorkKind.GrePacket, buffer, packet.PayloadOffset, packet.PayloadLength, null, packet));

    private bool PostPacket(in SessionWork work)
    {
        if (Interlocked.Increment(ref _queuedPackets) > MaxQueuedPackets)
        {
            Interlocked.Decrement(ref _queuedPackets);
            Interlocked.Increment(ref _overflowDrops);
            return false;
        }
        if (Enqueue(work))
        {
            return true;
        }
        Interlocked.Decrement(ref _queuedPackets);
        return false;
    }

    private bool Enqueue(in SessionWork work)
    {
        // _posting fences Complete: the loop ends only once no post is between its check and its enqueue, so an
        // accepted item is always handled and a refused one always stays with its caller.
        Interlocked.Increment(ref _posting);
        try
        {
            if (_completed)
            {
                return false;
            }
            _queue.Enqueue(work);
        }
        finally
        {
            Interlocked.Decrement(ref _posting);
        }
        Wake();
        return true;
    }

    private void Wake()
    {
        if (Interlocked.Exchange(ref _scheduled, 1) != 0 || !Volatile.Read(ref _started))
        {
            return;
        }
        if (_wake is not null)
        {
            _wake.Set();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
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
    public void Complete()
    {
        _completed = true;
        Wake(); // a running loop sees it at the end of its batch; an idle one is woken to finish
    }

    /// <summary>
    /// Runs the loop until <see cref="Complete"/>; the handler owns each packet buffer it is given. A handler
    /// that throws does not end the loop: <paramref name="onError"/> hears of it (and typically closes the
    /// session), so one bad packet or bug costs that session at most, never the process or a silent hang.
    /// <paramref name="afterBatch"/> runs after each batch of work (and may throw the same way).
    /// </summary>
    public Task RunAsync(Action<SessionWork> handler, Action<Exception> onError, Action? afterBatch = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(onError);
        if (_started)
        {
            throw new InvalidOperationException("the loop is already running");
        }
        _handler = handler;
        _onError = onError;
        _afterBatch = afterBatch;
        _scheduled = 1;
        Volatile.Write(ref _started, true);
        if (_threadName is not null)
        {
            new Thread(RunDedicated) { IsBackground = true, Name = _threadName }.Start();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
        return _finished.Task;
    }

    private void RunDedicated()
    {
        while (true)
        {
            if (RunBatches())
            {
                _wake!.Dispose();
                return;
            }
            _wake!.Wait();
            _wake.Reset();
        }
    }

    // Idle or ended: either way a later post queues this again only if the loop still runs.
    void IThreadPoolWorkItem.Execute() => RunBatches();

    /// <summary>Handles what is queued; true once the loop has ended, false when it went idle (a post wakes it).</summary>
    private bool RunBatches()
    {
        while (true)
        {
            var handled = 0;
            while (handled < MaxBatch && _queue.TryDequeue(out var work))
            {
                handled++;
                if (work.Kind != SessionWorkKind.Action)
                {
                    Interlocked.Decrement(ref _queuedPackets);
                }
                Run(work);
            }
            if (handled > 0 && _afterBatch is { } afterBatch)
            {
                Guarded(afterBatch);
            }
            if (handled == MaxBatch)
            {
                continue;
            }
            if (_completed)
            {
                // No post can slip in once none is in flight: what is queued now is the last of it.
                var spin = new SpinWait();
                while (Volatile.Read(ref _posting) != 0)
                {
                    spin.SpinOnce();
                }
                if (!_queue.IsEmpty)
                {
                    continue;
                }
                _finished.TrySetResult();
                return true;
            }
            // Going idle: announce it first, then look once more, so a post racing with us is never stranded.
            Interlocked.Exchange(ref _scheduled, 0);
            if (_queue.IsEmpty && !_completed)
            {
                return false;
            }
            if (Interlocked.Exchange(ref _scheduled, 1) != 0)
            {
                return false; // a poster took the wake-up and is signalling us
            }
        }
    }

    private void Run(in SessionWork work)
    {
#pragma warning disable CA1031 // the loop must survive any handler failure; onError reports it
        try
        {
            _handler!(work);
        }
        catch (Exception e)
        {
            _onError!(e);
        }
#pragma warning restore CA1031
    }

    private void Guarded(Action action)
    {
#pragma warning disable CA1031 // as Run
        try
        {
            action();
        }
        catch (Exception e)
        {
            _onError!(e);
        }
#pragma warning restore CA1031
    }
}
