using System.Net;

namespace Firmware.Protocol.Radius;

/// <summary>
/// Duplicate detection for a RADIUS server side (RFC 5080 section 2.2.2, RFC 5176 section 2.3): a request from the
/// same client with the same Identifier and Request Authenticator within <see cref="Lifetime"/> is a retransmission,
/// and gets the answer sent the first time instead of being acted on again. Monotonic time from the
/// <see cref="TimeProvider"/> (no wall clock needed); at most <see cref="Capacity"/> answers, the oldest dropped
/// first. Not thread-safe: one receive loop owns it.
/// </summary>
public sealed class RadiusAnswerCache
{
    /// <summary>How long an answer is kept for retransmissions: well past a client's usual 3 s x 3 retries.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromSeconds(30);

    private readonly TimeProvider _time;
    private readonly LinkedList<Entry> _entries = new();

    private sealed record Entry(IPAddress Client, byte Identifier, byte[] Authenticator, byte[] Answer, long Stored);

    public RadiusAnswerCache(TimeProvider time, TimeSpan? lifetime = null, int capacity = 256)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time;
        Lifetime = lifetime ?? DefaultLifetime;
        Capacity = capacity;
    }

    public TimeSpan Lifetime { get; }

    public int Capacity { get; }

    /// <summary>Answers held now (expired ones go at the next lookup or store).</summary>
    public int Count => _entries.Count;

    /// <summary>The answer already sent for this request, if it is a retransmission of one seen lately.</summary>
    public bool TryGet(IPAddress client, byte identifier, ReadOnlySpan<byte> authenticator, out byte[] answer)
    {
        ArgumentNullException.ThrowIfNull(client);
        Expire();
        foreach (var entry in _entries)
        {
            if (entry.Identifier == identifier && entry.Client.Equals(client) && authenticator.SequenceEqual(entry.Authenticator))
            {
                answer = entry.Answer;
                return true;
            }
        }
        answer = [];
        return false;
    }

    /// <summary>Remembers the answer sent for a request.</summary>
    public void Add(IPAddress client, byte identifier, ReadOnlySpan<byte> authenticator, byte[] answer)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(answer);
        Expire();
        if (_entries.Count >= Capacity)
        {
            _entries.RemoveFirst();
        }
        _entries.AddLast(new Entry(client, identifier, authenticator.ToArray(), answer, _time.GetTimestamp()));
    }

    private void Expire()
    {
        var now = _time.GetTimestamp();
        while (_entries.First is { } first && _time.GetElapsedTime(first.Value.Stored, now) >= Lifetime)
        {
            _entries.RemoveFirst();
        }
    }
}
