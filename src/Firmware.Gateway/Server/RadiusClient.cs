using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Firmware.Gateway.Configuration;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Radius;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Server;

/// <summary>How one RADIUS exchange for a login ended.</summary>
/// <param name="Answer">The verified answer; null when no server answered.</param>
/// <param name="Server">The server that answered, or the last one tried.</param>
internal readonly record struct RadiusResult(RadiusAccessAnswer? Answer, IPEndPoint Server, string? Problem);

/// <summary>What the client has done since it started, for status.</summary>
/// <param name="Failovers">Times a login's request moved on to the next server because one did not answer.</param>
internal readonly record struct RadiusCounters(long Requests, long Accepts, long Rejects, long NoAnswer, long Failovers, long RefusedAnswers, int Outstanding);

/// <summary>
/// The server's RADIUS client: one connected UDP socket per configured server (so only that server's address
/// and port reach it), an asynchronous receive loop each, and the pure <see cref="RadiusClientTransaction"/> per
/// login for Identifiers, retransmission with back-off and failover. A server that let a request go unanswered
/// is tried last for <see cref="DeadServerHoldDown"/>, so logins do not each wait for it. Everything a
/// transaction does runs under one lock; callers' callbacks run after it is released, on a socket or timer thread.
/// </summary>
internal sealed partial class RadiusClient : IDisposable
{
    /// <summary>A server that did not answer goes to the back of the order this long.</summary>
    public static readonly TimeSpan DeadServerHoldDown = TimeSpan.FromSeconds(60);

    private readonly RadiusOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly ServerState[] _servers;
    private readonly List<Exchange> _exchanges = [];
    private readonly List<(Action<RadiusResult> Done, RadiusResult Result)> _finished = [];
    private readonly RadiusRetryPolicy _policy;
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

    private sealed class ServerState(RadiusServerOptions options, Socket socket)
    {
        public IPEndPoint EndPoint { get; } = options.EndPoint;
        public RadiusServerSlot Slot { get; } = new(Encoding.UTF8.GetBytes(options.Secret.Password!), new RadiusIdentifierPool());
        public Socket Socket { get; } = socket;
        /// <summary>Monotonic timestamp until which this server is tried last; 0 when it is fine.</summary>
        public long DeadUntil { get; set; }
    }

    private sealed class Exchange(RadiusClient owner, CredentialCheck check, int[] order, Action<RadiusResult> done) : IDisposable
    {
        public CredentialCheck Check { get; } = check;
        public int[] Order { get; } = order;
        public Action<RadiusResult> Done { get; } = done;
        public RadiusClientTransaction? Transaction { get; set; }

        public void Dispose() => owner.Cancel(this);
    }

    public RadiusClient(RadiusOptions options, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time;
        _logger = logger;
        _policy = new RadiusRetryPolicy { InitialTimeout = options.Timeout, MaxTimeout = options.MaxTimeout, AttemptsPerServer = options.Attempts };
        _nasIp = options.NasIpAddress?.GetAddressBytes() ?? [];
        _nasIdentifier = options.NasIdentifier is null ? [] : Encoding.UTF8.GetBytes(options.NasIdentifier);
        _servers = new ServerState[options.Servers.Count];
        try
        {
            for (var i = 0; i < _servers.Length; i++)
            {
                var endPoint = options.Servers[i].EndPoint;
                var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                // Connected: the kernel drops datagrams from any other address or port before we see them.
                socket.Connect(endPoint);
                _servers[i] = new ServerState(options.Servers[i], socket);
            }
        }
        catch
        {
            foreach (var server in _servers)
            {
                server?.Socket.Dispose();
            }
            throw;
        }
        for (var i = 0; i < _servers.Length; i++)
        {
            var index = i;
            _ = Task.Run(() => ReceiveLoopAsync(index), CancellationToken.None);
        }
    }

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
        Exchange exchange;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            exchange = new Exchange(this, check, Order(), done);
            var slots = exchange.Order.Select(i => _servers[i].Slot).ToArray();
            var transaction = new RadiusClientTransaction(slots,
                (destination, identifier, authenticator, secret) =>
                    RadiusVerdicts.WriteRequest(destination, identifier, authenticator, secret, check, _nasIp, _nasIdentifier, calling),
                RandomNumberGenerator.Fill, _policy, _time, RunLocked);
            transaction.Send += outgoing => OnSend(exchange, outgoing);
            transaction.Completed += t => OnCompleted(exchange, t);
            exchange.Transaction = transaction;
            _exchanges.Add(exchange);
            _requests++;
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
            foreach (var exchange in _exchanges.ToList())
            {
                exchange.Transaction?.Dispose();
            }
            _exchanges.Clear();
        }
        _stop.Cancel();
        foreach (var server in _servers)
        {
            server.Socket.Dispose();
        }
    }

    /// <summary>Servers that answered lately first, in the configured order; the others after them.</summary>
    private int[] Order()
    {
        var now = _time.GetTimestamp();
        return [.. Enumerable.Range(0, _servers.Length).OrderBy(i => _servers[i].DeadUntil > now ? 1 : 0).ThenBy(i => i)];
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
        List<(Action<RadiusResult> Done, RadiusResult Result)>? finished = null;
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
        foreach (var (done, result) in finished ?? [])
        {
            done(result);
        }
    }

    private void OnSend(Exchange exchange, RadiusOutgoing outgoing)
    {
        var server = _servers[exchange.Order[outgoing.ServerIndex]];
        if (outgoing.Attempt == 1 && outgoing.ServerIndex > 0)
        {
            _failovers++;
            MarkDead(exchange.Order[outgoing.ServerIndex - 1], server.EndPoint);
        }
        else if (outgoing.Attempt > 1)
        {
            LogRetransmit(_logger, server.EndPoint, exchange.Check.UserName, outgoing.Attempt);
        }
        try
        {
            server.Socket.Send(outgoing.Datagram.Span);
        }
        catch (SocketException e)
        {
            // An ICMP error from an earlier datagram, or no route: the retry timer goes on and fails over.
            LogSendFailed(_logger, server.EndPoint, e.SocketErrorCode);
        }
    }

    private void OnCompleted(Exchange exchange, RadiusClientTransaction transaction)
    {
        if (transaction.Status == RadiusTransactionStatus.Cancelled || !_exchanges.Remove(exchange))
        {
            return;
        }
        var index = exchange.Order[transaction.ServerIndex];
        var server = _servers[index];
        RadiusResult result;
        if (transaction.Status == RadiusTransactionStatus.Answered)
        {
            if (server.DeadUntil != 0)
            {
                server.DeadUntil = 0;
                LogServerBack(_logger, server.EndPoint);
            }
            var read = RadiusAccessAnswer.TryRead(transaction.Answer!, transaction.Identifier, transaction.RequestAuthenticator,
                server.Slot.Secret.Span, exchange.Check.Method, out var answer);
            if (answer is null)
            {
                // The transaction verified its authenticators; what is left is an attribute we cannot use.
                _refused++;
                result = new RadiusResult(null, server.EndPoint, $"the answer from {server.EndPoint} is unusable ({read})");
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
                result = new RadiusResult(answer, server.EndPoint, null);
            }
        }
        else
        {
            _noAnswer++;
            MarkDead(index, null);
            var refused = transaction.RefusedAnswers > 0 ? $"; {transaction.RefusedAnswers} answer(s) refused ({transaction.LastRefusal})" : "";
            result = new RadiusResult(null, server.EndPoint,
                $"no RADIUS server answered ({string.Join(", ", exchange.Order.Select(i => _servers[i].EndPoint))}){refused}");
        }
        transaction.Dispose();
        _finished.Add((exchange.Done, result));
    }

    private void MarkDead(int index, IPEndPoint? next)
    {
        var server = _servers[index];
        var now = _time.GetTimestamp();
        var wasAlive = server.DeadUntil <= now;
        server.DeadUntil = now + (long)(DeadServerHoldDown.TotalSeconds * _time.TimestampFrequency);
        if (wasAlive)
        {
            LogServerDead(_logger, server.EndPoint, next?.ToString() ?? "none left", DeadServerHoldDown.TotalSeconds);
        }
    }

    private async Task ReceiveLoopAsync(int index)
    {
        var server = _servers[index];
        var buffer = new byte[RadiusWire.MaxPacketLength];
        while (!_stop.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await server.Socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                continue; // ICMP port unreachable from a dead server arrives here: the retry timer handles it
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            RunLocked(() => Deliver(index, buffer.AsSpan(0, length)));
        }
    }

    private void Deliver(int index, ReadOnlySpan<byte> datagram)
    {
        foreach (var exchange in _exchanges.ToArray())
        {
            var position = Array.IndexOf(exchange.Order, index);
            if (exchange.Transaction is { } transaction && transaction.OnDatagram(position, datagram))
            {
                return;
            }
        }
        _refused++; // late, duplicate, or not verified (a forger's): no login ends on it
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "RADIUS server {Server} did not answer; trying it last for {Seconds} s (next: {Next})")]
    private static partial void LogServerDead(ILogger logger, IPEndPoint server, string next, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "RADIUS server {Server} answers again")]
    private static partial void LogServerBack(ILogger logger, IPEndPoint server);

    [LoggerMessage(Level = LogLevel.Debug, Message = "RADIUS server {Server}: no answer yet for '{User}', sending attempt {Attempt}")]
    private static partial void LogRetransmit(ILogger logger, IPEndPoint server, string user, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "RADIUS server {Server}: send failed ({Error})")]
    private static partial void LogSendFailed(ILogger logger, IPEndPoint server, SocketError error);
}
