using System.Net;
using System.Net.Sockets;
using System.Text;
using Firmware.Gateway.Configuration;
using Firmware.Platform.Linux;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Radius;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Server;

/// <summary>How one RADIUS exchange for a login ended.</summary>
/// <param name="Answer">The verified answer; null when no server answered.</param>
/// <param name="Server">The server that answered, or the last one tried.</param>
internal readonly record struct RadiusResult(RadiusAccessAnswer? Answer, IPEndPoint Server, string? Problem);

/// <summary>What the client has done since it started, for status.</summary>
/// <param name="Requests">Logins asked about (Accepts, Rejects and NoAnswer count their ends).</param>
/// <param name="Failovers">Times a login's request moved on to the next server because one did not answer (accounting's failovers
/// show in the journal, as every server that stops answering does).</param>
/// <param name="RefusedAnswers">Datagrams from a server that were not a verified answer to an outstanding request.</param>
/// <param name="Outstanding">Requests of both kinds waiting for an answer.</param>
internal readonly record struct RadiusCounters(long Requests, long Accepts, long Rejects, long NoAnswer, long Failovers, long RefusedAnswers, int Outstanding);

/// <summary>
/// The server's RADIUS client: one connected UDP socket per configured server and port (so only that server's
/// address and port reach it: authentication and accounting each have their own, with their own Identifiers),
/// an asynchronous receive loop each, and the pure <see cref="RadiusClientTransaction"/> per request for
/// Identifiers, retransmission with back-off and failover. A server that let a request go unanswered is tried
/// last for <see cref="DeadServerHoldDown"/>, so requests do not each wait for it. Everything a transaction does
/// runs under one lock; callers' callbacks run after it is released, on a socket or timer thread.
/// </summary>
internal sealed partial class RadiusClient : IAccountingTransport, IDisposable
{
    /// <summary>A server that did not answer goes to the back of the order this long.</summary>
    public static readonly TimeSpan DeadServerHoldDown = TimeSpan.FromSeconds(60);

    /// <summary>How often a server at the back is asked with Status-Server (RFC 5997) whether it is back.</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Target[] _auth;
    private readonly Target[] _accounting;
    private readonly List<Exchange> _exchanges = [];
    private readonly List<Action> _finished = [];
    private readonly RadiusRetryPolicy _policy;
    private readonly RadiusRetryPolicy _probePolicy;
    private readonly ITimer _probes;
    private readonly byte[] _nasIp;
    private readonly byte[] _nasIdentifier;
    private readonly CancellationTokenSource _stop = new();
    private long _requests;
    private long _accepts;
    private long _rejects;
    private long _noAnswer;
    private long _failovers;
    private long _refused;
    private bool _disposed;

    /// <summary>One server's authentication or accounting port.</summary>
    private sealed class Target(IPEndPoint endPoint, byte[] secret, Socket socket)
    {
        public IPEndPoint EndPoint { get; } = endPoint;
        public RadiusServerSlot Slot { get; } = new(secret, new RadiusIdentifierPool());
        public Socket Socket { get; } = socket;
        /// <summary>Monotonic timestamp until which this target is tried last; 0 when it is fine.</summary>
        public long DeadUntil { get; set; }
        /// <summary>A Status-Server to it is outstanding.</summary>
        public bool Probing { get; set; }
    }

    private sealed class Exchange(RadiusClient owner, string what, Target[] order, Action<RadiusClientTransaction, Exchange> completed) : IDisposable
    {
        /// <summary>For the journal: "'alice'" or "accounting Stop of session …".</summary>
        public string What { get; } = what;
        public Target[] Order { get; } = order;
        /// <summary>A login's Access-Request (not accounting).</summary>
        public bool Login { get; init; }
        public Action<RadiusClientTransaction, Exchange> Completed { get; } = completed;
        public RadiusClientTransaction? Transaction { get; set; }

        public void Dispose() => owner.Cancel(this);
    }

    public RadiusClient(RadiusOptions options, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _logger = logger;
        _policy = new RadiusRetryPolicy { InitialTimeout = options.Timeout, MaxTimeout = options.MaxTimeout, AttemptsPerServer = options.Attempts };
        _probePolicy = _policy with { AttemptsPerServer = 1 };
        _nasIp = options.NasIpAddress?.GetAddressBytes() ?? [];
        _nasIdentifier = options.NasIdentifier is null ? [] : Encoding.UTF8.GetBytes(options.NasIdentifier);
        var targets = new List<Target>();
        try
        {
            _auth = [.. options.Servers.Select(s => Open(s.EndPoint, s.Secret, targets))];
            _accounting = options.Accounting is null
                ? []
                : [.. options.Servers.Select(s => Open(s.AccountingEndPoint ?? new IPEndPoint(s.EndPoint.Address, 1813), s.Secret, targets))];
        }
        catch
        {
            foreach (var target in targets)
            {
                target.Socket.Dispose();
            }
            throw;
        }
        foreach (var target in targets)
        {
            _ = Task.Run(() => ReceiveLoopAsync(target), CancellationToken.None);
        }
        _probes = time.CreateTimer(_ => Probe(), null, ProbeInterval, ProbeInterval);
    }

    private static Target Open(IPEndPoint endPoint, ConfigSecret secret, List<Target> opened)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // Connected: the kernel drops datagrams from any other address or port before we see them.
            socket.Connect(endPoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var target = new Target(endPoint, Encoding.UTF8.GetBytes(secret.Password!), socket);
        opened.Add(target);
        return target;
    }

    /// <summary>The NAS identity every request carries (NAS-IP-Address bytes, NAS-Identifier bytes; either may be empty).</summary>
    public ReadOnlyMemory<byte> NasIpAddress => _nasIp;

    public ReadOnlyMemory<byte> NasIdentifier => _nasIdentifier;

    public RadiusCounters Counters
    {
        get
        {
            lock (_gate)
            {
                return new(_requests, _accepts, _rejects, _noAnswer, _failovers, _refused, _exchanges.Count);
            }
        }
    }

    /// <summary>
    /// Asks the servers about <paramref name="check"/>. <paramref name="done"/> is called once, on another
    /// thread, unless the returned handle is disposed first.
    /// </summary>
    public IDisposable Authenticate(CredentialCheck check, string callingStationId, Action<RadiusResult> done)
    {
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(done);
        var calling = Encoding.ASCII.GetBytes(callingStationId);
        var exchange = Begin($"'{check.UserName}'", _auth, _policy,
            (destination, identifier, authenticator, secret) =>
                RadiusVerdicts.WriteRequest(destination, identifier, authenticator, secret, check, _nasIp, _nasIdentifier, calling),
            (transaction, exchange) => OnLoginCompleted(exchange, transaction, check, done));
        lock (_gate)
        {
            _requests++;
        }
        return exchange;
    }

    /// <summary>
    /// Sends one accounting request to the accounting ports, with the same retransmission and failover as logins.
    /// <paramref name="write"/> is called again for each server (a new Identifier, and Acct-Delay-Time may have
    /// grown). <paramref name="done"/> says whether a server answered, and which, once, on another thread.
    /// </summary>
    public IDisposable Account(string what, RadiusRequestWriter write, Action<IPEndPoint?> done)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(done);
        if (_accounting.Length == 0)
        {
            throw new InvalidOperationException("RADIUS accounting is off.");
        }
        return Begin(what, _accounting, _policy, write, (transaction, exchange) =>
        {
            IPEndPoint? server = null;
            if (transaction.Status == RadiusTransactionStatus.Answered)
            {
                var target = exchange.Order[transaction.ServerIndex];
                MarkAlive(target);
                server = target.EndPoint;
            }
            else
            {
                MarkDead(exchange.Order[transaction.ServerIndex], null);
            }
            _finished.Add(() => done(server));
        });
    }

    /// <summary>
    /// Every server at the back of the order gets one Status-Server at a time: an answer brings it to the front
    /// before a login has to find out, silence keeps it at the back (so logins keep not waiting for it).
    /// </summary>
    private void Probe()
    {
        List<Target> dead;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            var now = _time.GetTimestamp();
            dead = [.. _auth.Concat(_accounting).Where(t => t.DeadUntil > now && !t.Probing)];
            foreach (var target in dead)
            {
                target.Probing = true;
            }
        }
        foreach (var target in dead)
        {
            try
            {
                Begin($"Status-Server", [target], _probePolicy,
                    (destination, identifier, authenticator, secret) => RadiusStatusServer.Write(destination, identifier, authenticator, secret, _nasIp, _nasIdentifier),
                    (transaction, _) =>
                    {
                        target.Probing = false;
                        if (transaction.Status == RadiusTransactionStatus.Answered)
                        {
                            MarkAlive(target);
                        }
                        else
                        {
                            MarkDead(target, null);
                        }
                    });
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    private Exchange Begin(string what, Target[] targets, RadiusRetryPolicy policy, RadiusRequestWriter write, Action<RadiusClientTransaction, Exchange> completed)
    {
        Exchange exchange;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            exchange = new Exchange(this, what, Order(targets), completed) { Login = targets == _auth };
            var transaction = new RadiusClientTransaction([.. exchange.Order.Select(t => t.Slot)], write, SystemRandom.Fill, policy, _time, RunLocked);
            transaction.Send += outgoing => OnSend(exchange, outgoing);
            transaction.Completed += t => OnCompleted(exchange, t);
            exchange.Transaction = transaction;
            _exchanges.Add(exchange);
        }
        RunLocked(() => exchange.Transaction!.Start());
        return exchange;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _probes.Dispose();
            foreach (var exchange in _exchanges.ToList())
            {
                exchange.Transaction?.Dispose();
            }
            _exchanges.Clear();
        }
        _stop.Cancel();
        foreach (var target in _auth.Concat(_accounting))
        {
            target.Socket.Dispose();
        }
    }

    /// <summary>Targets that answered lately first, in the configured order; the others after them.</summary>
    private Target[] Order(Target[] targets)
    {
        var now = _time.GetTimestamp();
        return [.. targets.OrderBy(t => t.DeadUntil > now ? 1 : 0).ThenBy(t => Array.IndexOf(targets, t))];
    }

    private void Cancel(Exchange exchange)
    {
        lock (_gate)
        {
            if (_exchanges.Remove(exchange))
            {
                exchange.Transaction?.Dispose();
            }
        }
    }

    /// <summary>Runs transaction work under the lock, then the callbacks it finished, outside it.</summary>
    private void RunLocked(Action action)
    {
        List<Action>? finished = null;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            action();
            if (_finished.Count > 0)
            {
                finished = [.. _finished];
                _finished.Clear();
            }
        }
        foreach (var done in finished ?? [])
        {
            done();
        }
    }

    private void OnSend(Exchange exchange, RadiusOutgoing outgoing)
    {
        var target = exchange.Order[outgoing.ServerIndex];
        if (outgoing.Attempt == 1 && outgoing.ServerIndex > 0)
        {
            if (exchange.Login)
            {
                _failovers++;
            }
            MarkDead(exchange.Order[outgoing.ServerIndex - 1], target.EndPoint);
        }
        else if (outgoing.Attempt > 1)
        {
            LogRetransmit(_logger, target.EndPoint, exchange.What, outgoing.Attempt);
        }
        try
        {
            target.Socket.Send(outgoing.Datagram.Span);
        }
        catch (SocketException e)
        {
            // An ICMP error from an earlier datagram, or no route: the retry timer goes on and fails over.
            LogSendFailed(_logger, target.EndPoint, e.SocketErrorCode);
        }
    }

    private void OnCompleted(Exchange exchange, RadiusClientTransaction transaction)
    {
        if (transaction.Status == RadiusTransactionStatus.Cancelled || !_exchanges.Remove(exchange))
        {
            return;
        }
        exchange.Completed(transaction, exchange);
        transaction.Dispose();
    }

    private void OnLoginCompleted(Exchange exchange, RadiusClientTransaction transaction, CredentialCheck check, Action<RadiusResult> done)
    {
        var target = exchange.Order[transaction.ServerIndex];
        RadiusResult result;
        if (transaction.Status == RadiusTransactionStatus.Answered)
        {
            MarkAlive(target);
            var read = RadiusAccessAnswer.TryRead(transaction.Answer!, transaction.Identifier, transaction.RequestAuthenticator,
                target.Slot.Secret.Span, check.Method, out var answer);
            if (answer is null)
            {
                // The transaction verified its authenticators; what is left is an attribute we cannot use.
                _refused++;
                result = new RadiusResult(null, target.EndPoint, $"the answer from {target.EndPoint} is unusable ({read})");
            }
            else
            {
                if (answer.Accepted)
                {
                    _accepts++;
                }
                else
                {
                    _rejects++;
                }
                result = new RadiusResult(answer, target.EndPoint, null);
            }
        }
        else
        {
            _noAnswer++;
            MarkDead(target, null);
            var refused = transaction.RefusedAnswers > 0 ? $"; {transaction.RefusedAnswers} answer(s) refused ({transaction.LastRefusal})" : "";
            result = new RadiusResult(null, target.EndPoint,
                $"no RADIUS server answered ({string.Join(", ", exchange.Order.Select(t => t.EndPoint))}){refused}");
        }
        _finished.Add(() => done(result));
    }

    private void MarkAlive(Target target)
    {
        if (target.DeadUntil != 0)
        {
            target.DeadUntil = 0;
            LogServerBack(_logger, target.EndPoint);
        }
    }

    private void MarkDead(Target target, IPEndPoint? next)
    {
        var now = _time.GetTimestamp();
        var wasAlive = target.DeadUntil <= now;
        target.DeadUntil = now + (long)(DeadServerHoldDown.TotalSeconds * _time.TimestampFrequency);
        if (wasAlive)
        {
            LogServerDead(_logger, target.EndPoint, next?.ToString() ?? "none left", DeadServerHoldDown.TotalSeconds);
        }
    }

    private async Task ReceiveLoopAsync(Target target)
    {
        var buffer = new byte[RadiusWire.MaxPacketLength];
        while (!_stop.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await target.Socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                continue; // ICMP port unreachable from a dead server arrives here: the retry timer handles it
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            RunLocked(() => Deliver(target, buffer.AsSpan(0, length)));
        }
    }

    private void Deliver(Target target, ReadOnlySpan<byte> datagram)
    {
        foreach (var exchange in _exchanges.ToArray())
        {
            var position = Array.IndexOf(exchange.Order, target);
            if (position >= 0 && exchange.Transaction is { } transaction && transaction.OnDatagram(position, datagram))
            {
                return;
            }
        }
        _refused++; // late, duplicate, or not verified (a forger's): no request ends on it
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "RADIUS server {Server} did not answer; trying it last for {Seconds} s (next: {Next})")]
    private static partial void LogServerDead(ILogger logger, IPEndPoint server, string next, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "RADIUS server {Server} answers again")]
    private static partial void LogServerBack(ILogger logger, IPEndPoint server);

    [LoggerMessage(Level = LogLevel.Debug, Message = "RADIUS server {Server}: no answer yet for {What}, sending attempt {Attempt}")]
    private static partial void LogRetransmit(ILogger logger, IPEndPoint server, string what, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "RADIUS server {Server}: send failed ({Error})")]
    private static partial void LogSendFailed(ILogger logger, IPEndPoint server, SocketError error);
}
