namespace Firmware.Gateway.Server;

/// <summary>
/// Locks out a user name or a source address after repeated authentication failures inside a window, for a
/// while, so an online password guesser gets nowhere. Keys are tracked separately: a flood from one address
/// locks that address without locking the user out everywhere, and a distributed guesser hitting one user
/// locks that user. Bounded memory: the oldest entries are dropped past <see cref="MaxTrackedKeys"/>.
/// </summary>
public sealed class LoginLockout
{
    public const int MaxTrackedKeys = 4096;

    private readonly TimeProvider _time;
    private readonly int _maxFailures;
    private readonly TimeSpan _window;
    private readonly TimeSpan _lockDuration;
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public LoginLockout(TimeProvider time, int maxFailures, TimeSpan window, TimeSpan lockDuration)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFailures, 1);
        _time = time;
        _maxFailures = maxFailures;
        _window = window;
        _lockDuration = lockDuration;
    }

    /// <summary>When the user or the source is locked, the time the lock ends; else null.</summary>
    public DateTimeOffset? LockedUntil(string user, string source)
    {
        var now = _time.GetUtcNow();
        var a = LockedUntil(UserKey(user), now);
        var b = LockedUntil(SourceKey(source), now);
        return a > b ? a : b ?? a;
    }

    /// <summary>Records a failure; returns true if this failure started a lock (for one log line, not one per try).</summary>
    public bool RecordFailure(string user, string source)
    {
        var now = _time.GetUtcNow();
        var lockedUser = Fail(UserKey(user), now);
        var lockedSource = Fail(SourceKey(source), now);
        return lockedUser || lockedSource;
    }

    /// <summary>A success clears the user's count (the source keeps its history: other users may be guessed from it).</summary>
    public void RecordSuccess(string user) => _entries.Remove(UserKey(user));

    private static string UserKey(string user) => "user:" + user;

    private static string SourceKey(string source) => "source:" + source;

    private DateTimeOffset? LockedUntil(string key, DateTimeOffset now)
        => _entries.TryGetValue(key, out var e) && e.LockedUntil > now ? e.LockedUntil : null;

    private bool Fail(string key, DateTimeOffset now)
    {
        if (!_entries.TryGetValue(key, out var entry) || now - entry.WindowStart > _window)
        {
            if (_entries.Count >= MaxTrackedKeys)
            {
                var oldest = _entries.MinBy(e => e.Value.WindowStart).Key;
                _entries.Remove(oldest);
            }
            entry = new Entry { WindowStart = now };
            _entries[key] = entry;
        }
        if (entry.LockedUntil > now)
        {
            return false;
        }
        entry.Failures++;
        if (entry.Failures >= _maxFailures)
        {
            entry.LockedUntil = now + _lockDuration;
            entry.Failures = 0;
            entry.WindowStart = now;
            return true;
        }
        return false;
    }

    private sealed class Entry
    {
        public DateTimeOffset WindowStart { get; set; }
        public int Failures { get; set; }
        public DateTimeOffset LockedUntil { get; set; }
    }
}
