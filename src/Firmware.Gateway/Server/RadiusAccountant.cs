using System.Globalization;
using System.Net;
using Firmware.Gateway.Configuration;
using Firmware.Platform.Linux;
using Firmware.Protocol.Radius;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Server;

/// <summary>What accounting has done since the server started, for status.</summary>
/// <param name="Sent">Records handed to the servers (Start, Interim-Update, Stop), each counted once however often it was retried.</param>
/// <param name="Answered">Records a server acknowledged with an Accounting-Response.</param>
/// <param name="Retried">Times a record no server answered was sent again later.</param>
/// <param name="Pending">Records waiting: in flight, or queued behind one, or for the next retry.</param>
/// <param name="Dropped">Records given up: the queue was full, or no server answered for <see cref="RadiusAccountant.MaxRecordAge"/>.</param>
internal readonly record struct AccountingCounters(long Sent, long Answered, long Retried, int Pending, long Dropped);

/// <summary>Where accounting requests go: <see cref="RadiusClient"/>, or a test's fake.</summary>
internal interface IAccountingTransport
{
    /// <summary>NAS-IP-Address bytes (or empty) for every request.</summary>
    ReadOnlyMemory<byte> NasIpAddress { get; }

    /// <summary>NAS-Identifier bytes (or empty).</summary>
    ReadOnlyMemory<byte> NasIdentifier { get; }

    /// <summary>Sends one request (written by <paramref name="write"/> per server); <paramref name="done"/> gets the server
    /// that answered, or null when none did, once, unless the handle is disposed first.</summary>
    IDisposable Account(string what, RadiusRequestWriter write, Action<IPEndPoint?> done);
}

/// <summary>Acct-Session-Ids: a random prefix per process (so they differ across reboots, which a Pi cannot tell
/// apart by its clock) and a counter.</summary>
internal static class AcctSessionIds
{
    // getrandom, not RandomNumberGenerator: that one needs libssl, which a board's libc-only root has not.
    private static readonly string Prefix = NewPrefix();

    private static long _next;

    private static string NewPrefix()
    {
        Span<byte> bytes = stackalloc byte[4];
        SystemRandom.Fill(bytes);
        return Convert.ToHexString(bytes);
    }

    public static string Next() => string.Create(CultureInfo.InvariantCulture, $"{Prefix}{Interlocked.Increment(ref _next):X8}");
}

/// <summary>
/// RADIUS accounting for the server's sessions (RFC 2866): a Start when a session's network is up, an
/// Interim-Update every interval (the Access-Accept's Acct-Interim-Interval, else the configured one), a Stop
/// with the final counters and the terminate cause. Each session's records go in order, one at a time; a record
/// no server answered waits and is sent again every <see cref="RetryInterval"/> (with Acct-Delay-Time grown), so
/// an outage of the RADIUS servers costs no Stop record. While one waits, a newer Interim-Update replaces a
/// queued one (it carries everything the older did). The queue is bounded: past <see cref="MaxPendingRecords"/>
/// new Interim-Updates are dropped first, and every drop is counted and logged.
/// </summary>
internal sealed partial class RadiusAccountant : IDisposable
{
    /// <summary>How often records that no server answered are sent again.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(30);

    /// <summary>A record no server took for this long is dropped (the server would have closed the session itself).</summary>
    public static readonly TimeSpan MaxRecordAge = TimeSpan.FromHours(24);

    /// <summary>Records held at most: a day's worth of sessions on a small board, a few hundred bytes each.</summary>
    public const int MaxPendingRecords = 1024;

    private readonly IAccountingTransport _client;
    private readonly RadiusAccountingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly List<Session> _waiting = [];
    private readonly ITimer _retry;
    private int _pending;
    private long _sent;
    private long _answered;
    private long _retried;
    private long _dropped;
    private bool _disposed;

    /// <summary>One session's accounting: its queue of records, the head in flight or waiting for a retry.</summary>
    internal sealed class Session
    {
        public required string SessionId { get; init; }
        public required Func<AcctStatusType, AccountingRecord> Snapshot { get; init; }
        public Queue<AccountingRecord> Records { get; } = new();
        public bool InFlight { get; set; }
        public bool Ended { get; set; }
        /// <summary>Its head found no server and the journal said so: one line per outage, not per retry.</summary>
        public bool Warned { get; set; }
        public ITimer? Interim { get; set; }
        public IDisposable? Exchange { get; set; }
    }

    public RadiusAccountant(IAccountingTransport client, RadiusAccountingOptions options, TimeProvider time, ILogger logger)
    {
        _client = client;
        _options = options;
        _time = time;
        _logger = logger;
        _retry = time.CreateTimer(_ => RetryWaiting(), null, RetryInterval, RetryInterval);
    }

    public AccountingCounters Counters
    {
        get
        {
            lock (_gate)
            {
                return new(_sent, _answered, _retried, _pending, _dropped);
            }
        }
    }

    /// <summary>
    /// A session's network is up: sends its Start, and Interim-Updates from then on. <paramref name="snapshot"/>
    /// gives a record of the given type with the session's counters as they are now (called on a timer thread).
    /// </summary>
    public Session Begin(string sessionId, Func<AcctStatusType, AccountingRecord> snapshot, TimeSpan? interimFromServer)
    {
        var session = new Session { SessionId = sessionId, Snapshot = snapshot };
        Enqueue(session, snapshot(AcctStatusType.Start));
        if ((interimFromServer ?? _options.InterimInterval) is { } interval)
        {
            session.Interim = _time.CreateTimer(_ => Enqueue(session, session.Snapshot(AcctStatusType.InterimUpdate)), null, interval, interval);
        }
        return session;
    }

    /// <summary>The session ended: no more Interim-Updates; its Stop (with <paramref name="cause"/>) goes after what is queued.</summary>
    public void End(Session session, AcctTerminateCause cause)
    {
        ArgumentNullException.ThrowIfNull(session);
        session.Interim?.Dispose();
        var stop = session.Snapshot(AcctStatusType.Stop) with { TerminateCause = cause };
        lock (_gate)
        {
            session.Ended = true;
        }
        Enqueue(session, stop);
    }

    /// <summary>Waits (at most <paramref name="limit"/>) until no record is in flight or queued: at shutdown the Stops leave first.</summary>
    public async Task FlushAsync(TimeSpan limit)
    {
        var started = _time.GetTimestamp();
        while (_time.GetElapsedTime(started) < limit)
        {
            lock (_gate)
            {
                if (_waiting.Sum(s => s.Records.Count) == _pending)
                {
                    return; // nothing left, or only records that already found no server
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        List<Session> sessions;
        lock (_gate)
        {
            _disposed = true;
            sessions = [.. _waiting];
            _waiting.Clear();
        }
        _retry.Dispose();
        foreach (var session in sessions)
        {
            session.Interim?.Dispose();
            session.Exchange?.Dispose();
        }
        var left = Counters.Pending;
        if (left > 0)
        {
            LogUnsent(_logger, left);
        }
    }

    private void Enqueue(Session session, AccountingRecord record)
    {
        var send = false;
        lock (_gate)
        {
            if (_disposed || (session.Ended && record.StatusType != AcctStatusType.Stop))
            {
                return; // an Interim-Update racing the session's end
            }
            if (record.StatusType == AcctStatusType.InterimUpdate && session.Records.Count > (session.InFlight ? 1 : 0)
                && session.Records.Last().StatusType == AcctStatusType.InterimUpdate)
            {
                // A queued Interim-Update the server has not seen yet: the newer one says everything it would.
                ReplaceLast(session.Records, record);
                return;
            }
            var limit = record.StatusType == AcctStatusType.InterimUpdate ? MaxPendingRecords * 3 / 4 : MaxPendingRecords;
            if (_pending >= limit)
            {
                _dropped++;
                LogDropped(_logger, record.StatusType, session.SessionId, $"{_pending} records are waiting for a RADIUS server");
                return;
            }
            session.Records.Enqueue(record);
            _pending++;
            _sent++;
            if (!session.InFlight && !_waiting.Contains(session))
            {
                session.InFlight = true;
                send = true;
            }
        }
        if (send)
        {
            SendHead(session);
        }
    }

    private static void ReplaceLast(Queue<AccountingRecord> records, AccountingRecord record)
    {
        var kept = records.ToArray();
        kept[^1] = record;
        records.Clear();
        foreach (var r in kept)
        {
            records.Enqueue(r);
        }
    }

    /// <summary>Sends the session's first record (InFlight is set by the caller).</summary>
    private void SendHead(Session session)
    {
        AccountingRecord record;
        lock (_gate)
        {
            if (_disposed || !session.Records.TryPeek(out record!))
            {
                session.InFlight = false;
                return;
            }
        }
        var nasIp = _client.NasIpAddress;
        var nasIdentifier = _client.NasIdentifier;
        try
        {
            var exchange = _client.Account($"accounting {record.StatusType} of session {session.SessionId} ('{record.UserName}')",
                (destination, identifier, _, secret) => RadiusAccountingRequest.Write(destination, identifier, secret, record,
                    nasIp.Span, nasIdentifier.Span, DelaySeconds(record)),
                server => OnAnswered(session, record, server));
            lock (_gate)
            {
                session.Exchange = exchange;
            }
        }
        catch (ObjectDisposedException)
        {
            // The client is going away with the server: Dispose counts what is left.
        }
    }

    private uint DelaySeconds(AccountingRecord record) =>
        (uint)Math.Min(uint.MaxValue, Math.Max(0, _time.GetElapsedTime(record.EventTimestamp).TotalSeconds));

    private void OnAnswered(Session session, AccountingRecord record, IPEndPoint? server)
    {
        var next = false;
        lock (_gate)
        {
            session.Exchange = null;
            if (_disposed)
            {
                return;
            }
            if (server is null)
            {
                if (_time.GetElapsedTime(record.EventTimestamp) >= MaxRecordAge)
                {
                    session.Records.Dequeue();
                    _pending--;
                    _dropped++;
                    LogDropped(_logger, record.StatusType, session.SessionId, $"no RADIUS server answered for {MaxRecordAge.TotalHours:0} h");
                    next = session.Records.Count > 0;
                }
                if (!next)
                {
                    session.InFlight = false;
                    if (session.Records.Count > 0 && !_waiting.Contains(session))
                    {
                        _waiting.Add(session);
                        if (!session.Warned)
                        {
                            session.Warned = true;
                            LogWaiting(_logger, record.StatusType, session.SessionId, RetryInterval.TotalSeconds);
                        }
                    }
                }
            }
            else
            {
                session.Records.Dequeue();
                _pending--;
                _answered++;
                session.Warned = false;
                LogAnswered(_logger, record.StatusType, session.SessionId, record.UserName, server);
                next = session.Records.Count > 0;
                session.InFlight = next;
            }
        }
        if (next)
        {
            SendHead(session);
        }
    }

    private void RetryWaiting()
    {
        List<Session> again;
        lock (_gate)
        {
            again = [.. _waiting];
            _waiting.Clear();
            foreach (var session in again)
            {
                session.InFlight = true;
                _retried++;
            }
        }
        foreach (var session in again)
        {
            SendHead(session);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "RADIUS accounting {Type} of session {SessionId} ('{User}') taken by {Server}")]
    private static partial void LogAnswered(ILogger logger, AcctStatusType type, string sessionId, string user, IPEndPoint server);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RADIUS accounting {Type} of session {SessionId}: no server answered; it is kept and sent again every {Seconds} s")]
    private static partial void LogWaiting(ILogger logger, AcctStatusType type, string sessionId, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RADIUS accounting {Type} of session {SessionId} dropped: {Why}")]
    private static partial void LogDropped(ILogger logger, AcctStatusType type, string sessionId, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} RADIUS accounting record(s) were not delivered before the server stopped")]
    private static partial void LogUnsent(ILogger logger, int count);
}
