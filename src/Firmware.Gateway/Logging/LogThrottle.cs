namespace Firmware.Gateway.Logging;

/// <summary>
/// Keeps a flood from flooding the journal: at most <c>linesPerInterval</c> lines per interval, measured on
/// the monotonic clock; the first line allowed after a quiet spell says how many were held back. Thread-safe.
/// </summary>
internal sealed class LogThrottle(TimeProvider time, int linesPerInterval, TimeSpan interval)
{
    private readonly Lock _gate = new();
    private long _intervalStart = time.GetTimestamp();
    private int _lines;
    private long _suppressed;

    /// <summary>True if a line may be written now; <paramref name="suppressed"/> is how many were held back before it.</summary>
    public bool TryTake(out long suppressed)
    {
        lock (_gate)
        {
            var now = time.GetTimestamp();
            if (time.GetElapsedTime(_intervalStart, now) >= interval)
            {
                _intervalStart = now;
                _lines = 0;
            }
            if (_lines >= linesPerInterval)
            {
                _suppressed++;
                suppressed = 0;
                return false;
            }
            _lines++;
            suppressed = _suppressed;
            _suppressed = 0;
            return true;
        }
    }
}
