namespace Firmware.Gateway.Server;

/// <summary>
/// Locks out an account or a source address after repeated authentication failures inside a window, for a
/// while, so an online password guesser gets nowhere. Accounts and sources are tracked apart: a flood from one
/// address locks that address without locking its victims out everywhere, and a distributed guesser hitting
/// one account locks that account.
/// <list type="bullet">
/// <item>An account is the name the user store actually matched (after the authenticator dropped any
/// "DOMAIN\" prefix), so spellings of one account share one count. A failure under an empty or unknown
/// name counts against the source only: a stranger's made-up name can neither lock out nor crowd out a
/// real account.</item>
/// <item>Memory is bounded (<see cref="MaxTrackedKeys"/> per kind) and a lock cannot be flushed by filling
/// the table: only entries that hold no lock are evicted; when every slot holds a lock, new keys go
/// untracked until one expires.</item>
/// <item>Windows and locks run on the monotonic clock; the wall clock only labels "locked until".</item>
/// </list>
/// Safe to call from any thread.
/// </summary>
public sealed class LoginLockout
{
    public const int MaxTrackedKeys = 4096;

    private readonly TimeProvider _time;
    private readonly int _maxFailures;
    private readonly TimeSpan _window;
    private readonly TimeSpan _lockDuration;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Entry> _sources = new(StringComparer.Ordinal);

    public LoginLockout(TimeProvider time, int maxFailures, TimeSpan window, TimeSpan lockDuration)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFailures, 1);
        _time = time;
        _maxFailures = maxFailures;
        _window = window;
        _lockDuration = lockDuration;
    }

    /// <summary>When the source is locked, the (wall-clock, for display) time the lock ends; else null.</summary>
    public DateTimeOffset? SourceLockedUntil(string source)
    {
        lock (_gate)
        {
            return ToWallClock(Remaining(_sources, source, _time.GetTimestamp()));
        }
    }

    /// <summary>When the account itself is locked, the (wall-clock, for display) time the lock ends; else null.</summary>
    public DateTimeOffset? AccountLockedUntil(string account)
    {
        lock (_gate)
        {
            return ToWallClock(Remaining(_accounts, account, _time.GetTimestamp()));
        }
    }

    /// <summary>When the account (null: unknown) or the source is locked, the time the later lock ends; else null.</summary>
    public DateTimeOffset? LockedUntil(string? account, string source)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            var remaining = Remaining(_sources, source, now);
            if (account is not null && Remaining(_accounts, account, now) is { } accountRemaining
                && (remaining is null || accountRemaining > remaining))
            {
                remaining = accountRemaining;
            }
            return ToWallClock(remaining);
        }
    }

    /// <summary>
    /// Records a failure of <paramref name="account"/> (the store's name for it; null or empty when the name
    /// matched no account) from <paramref name="source"/>. True if this failure started a lock (for one log
    /// line, not one per try).
    /// </summary>
    public bool RecordFailure(string? account, string source)
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            var lockedAccount = !string.IsNullOrEmpty(account) && Fail(_accounts, account, now);
            var lockedSource = Fail(_sources, source, now);
            return lockedAccount || lockedSource;
        }
    }

    /// <summary>A success clears the account's count (the source keeps its history: other accounts may be guessed from it).</summary>
    public void RecordSuccess(string account)
    {
        lock (_gate)
        {
            _accounts.Remove(account);
        }
    }

    private DateTimeOffset? ToWallClock(TimeSpan? remaining) => remaining is { } r ? _time.GetUtcNow() + r : null;

    private TimeSpan? Remaining(Dictionary<string, Entry> table, string key, long now)
    {
        if (!table.TryGetValue(key, out var entry) || !entry.Locked)
        {
            return null;
        }
        var left = _lockDuration - _time.GetElapsedTime(entry.LockedAt, now);
        return left > TimeSpan.Zero ? left : null;
    }

    private bool IsLocked(Entry entry, long now) => entry.Locked && _time.GetElapsedTime(entry.LockedAt, now) < _lockDuration;

    private bool Fail(Dictionary<string, Entry> table, string key, long now)
    {
        if (table.TryGetValue(key, out var entry) && IsLocked(entry, now))
        {
            return false;
        }
        if (entry is null || entry.Locked || _time.GetElapsedTime(entry.WindowStart, now) > _window)
        {
            if (entry is null && table.Count >= MaxTrackedKeys && !EvictOneUnlocked(table, now))
            {
                return false;
            }
            entry = new Entry { WindowStart = now };
            table[key] = entry;
        }
        entry.Failures++;
        if (entry.Failures < _maxFailures)
        {
            return false;
        }
        entry.Locked = true;
        entry.LockedAt = now;
        return true;
    }

    /// <summary>Frees the slot of the oldest entry that holds no lock; false when every entry holds one.</summary>
    private bool EvictOneUnlocked(Dictionary<string, Entry> table, long now)
    {
        string? oldest = null;
        long oldestStart = long.MaxValue;
        foreach (var (key, entry) in table)
        {
            if (!IsLocked(entry, now) && entry.WindowStart < oldestStart)
            {
                oldest = key;
                oldestStart = entry.WindowStart;
            }
        }
        return oldest is not null && table.Remove(oldest);
    }

    private sealed class Entry
    {
        public long WindowStart { get; init; }
        public int Failures { get; set; }
        public bool Locked { get; set; }
        public long LockedAt { get; set; }
    }
}
