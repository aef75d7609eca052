using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Runtime;

/// <summary>
/// When to give the managed heap's slack back to the kernel: after the heap has grown since the last time (a
/// burst of logins, a reload) and the gateway has then allocated little for a while. Pure: fed the heap's
/// counters and a monotonic time, it answers whether to collect now.
/// </summary>
/// <remarks>
/// Sessions coming up leave garbage that the generational collector promotes and keeps until a full collection,
/// which an idle router with a small heap may not run for hours: with 100 sessions, 12 MB of a 33 MB process
/// (scripts/bench-tunnel --memory-only). A tunnel carrying traffic allocates nothing, so "quiet" is judged on
/// allocation, not on packets; a trim waits until the allocation has stopped, so it never repeats during a burst.
/// </remarks>
internal sealed class HeapTrimPolicy
{
    /// <summary>Allocation below this per sample (2 s) counts as quiet: an idle server with 100 sessions allocates
    /// about half of it. One `status --json` at 100 sessions allocates another 0.3 MB, so a poll every second
    /// keeps such a server from trimming.</summary>
    public const long QuietAllocationBytes = 1 << 20;

    /// <summary>Committed growth since the last trim that makes one worth its pause.</summary>
    public const long GrowthBytes = 1 << 20;

    /// <summary>Quiet samples in a row before a trim.</summary>
    public const int QuietSamples = 2;

    /// <summary>At most one trim per this long.</summary>
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(30);

    private long _lastAllocated = -1;
    private long _committedAfterTrim = -1;
    private int _quiet;
    private TimeSpan? _lastTrim;

    /// <summary>One sample: total bytes allocated so far, bytes the heap has committed, and a monotonic time.</summary>
    public bool ShouldTrim(long allocatedBytes, long committedBytes, TimeSpan now)
    {
        // The first sample only sets the baselines: what the heap holds at start is not slack.
        if (_lastAllocated < 0)
        {
            _lastAllocated = allocatedBytes;
            _committedAfterTrim = committedBytes;
            return false;
        }

        var allocated = allocatedBytes - _lastAllocated;
        _lastAllocated = allocatedBytes;
        _quiet = allocated < QuietAllocationBytes ? _quiet + 1 : 0;
        return _quiet >= QuietSamples
            && committedBytes - _committedAfterTrim >= GrowthBytes
            && (_lastTrim is not { } last || now - last >= MinimumInterval);
    }

    /// <summary>A trim ran at <paramref name="now"/> and left the heap with <paramref name="committedBytes"/>.</summary>
    public void Trimmed(long committedBytes, TimeSpan now)
    {
        _committedAfterTrim = committedBytes;
        _lastTrim = now;
        _quiet = 0;
    }
}

/// <summary>
/// Samples the managed heap every <see cref="SampleInterval"/> and, when <see cref="HeapTrimPolicy"/> says so,
/// runs one full, compacting collection that decommits what it frees (GCCollectionMode.Aggressive). The pause
/// stops every thread for a few milliseconds; it is counted and logged.
/// </summary>
internal sealed partial class HeapTrimmer : IDisposable
{
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(2);

    private readonly HeapTrimPolicy _policy = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long _start;
    private readonly ITimer _timer;
    private long _trims;
    private long _releasedBytes;
    private long _lastPauseMicroseconds;

    public HeapTrimmer(TimeProvider time, ILogger logger)
    {
        _time = time;
        _logger = logger;
        _start = time.GetTimestamp();
        _timer = time.CreateTimer(_ => Sample(), null, SampleInterval, SampleInterval);
    }

    /// <summary>Trims so far.</summary>
    public long Trims => Interlocked.Read(ref _trims);

    /// <summary>Committed heap bytes the trims gave back, in all.</summary>
    public long ReleasedBytes => Interlocked.Read(ref _releasedBytes);

    /// <summary>How long the last trim stopped the process, in milliseconds.</summary>
    public double LastPauseMilliseconds => Interlocked.Read(ref _lastPauseMicroseconds) / 1000.0;

    private void Sample()
    {
        var now = _time.GetElapsedTime(_start);
        var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        if (!_policy.ShouldTrim(GC.GetTotalAllocatedBytes(precise: false), committed, now))
        {
            return;
        }

        var pausedBefore = GC.GetTotalPauseDuration();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var pause = GC.GetTotalPauseDuration() - pausedBefore;
        var after = GC.GetGCMemoryInfo().TotalCommittedBytes;
        _policy.Trimmed(after, now);
        Interlocked.Increment(ref _trims);
        Interlocked.Add(ref _releasedBytes, Math.Max(0, committed - after));
        Interlocked.Exchange(ref _lastPauseMicroseconds, (long)(pause.TotalMilliseconds * 1000));
        LogTrimmed(_logger, committed / 1024, after / 1024, pause.TotalMilliseconds);
    }

    public void Dispose() => _timer.Dispose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "heap trimmed: {BeforeKb} kB committed, {AfterKb} kB after a {PauseMs:F1} ms pause")]
    private static partial void LogTrimmed(ILogger logger, long beforeKb, long afterKb, double pauseMs);
}
