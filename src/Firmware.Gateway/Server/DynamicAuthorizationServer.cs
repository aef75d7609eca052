using System.Net;
using System.Net.Sockets;
using System.Text;
using Firmware.Gateway.Configuration;
using Firmware.Gateway.Logging;
using Firmware.Protocol.Radius;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Server;

/// <summary>What the dynamic authorization server has done since it started, for status.</summary>
/// <param name="UnknownClients">Datagrams from an address not in the clients list: dropped unread.</param>
/// <param name="BadAuthenticators">Requests whose Request Authenticator or Message-Authenticator did not check out with that client's secret: dropped unanswered.</param>
/// <param name="Malformed">Datagrams from a client that are not a Disconnect-Request or CoA-Request: dropped.</param>
/// <param name="RateLimited">Datagrams beyond <see cref="DynamicAuthorizationServer.MaxRequestsPerSecond"/>: dropped.</param>
/// <param name="Duplicates">Retransmissions answered again from the cache, not acted on twice.</param>
/// <param name="SessionsClosed">Sessions ended by a Disconnect-Request.</param>
/// <param name="SessionsChanged">Sessions whose limits a CoA-Request changed.</param>
internal readonly record struct DynamicAuthorizationCounters(long Requests, long Acks, long Naks, long UnknownClients, long BadAuthenticators,
    long Malformed, long RateLimited, long Duplicates, long SessionsClosed, long SessionsChanged);

/// <summary>
/// RFC 5176 for the PPTP server: Disconnect-Request and CoA-Request on one UDP socket, from the configured clients
/// only, each checked with its client's secret by <see cref="RadiusDynamicRequest"/>. A request names sessions by
/// User-Name, Acct-Session-Id, Framed-IP-Address and Calling-Station-Id (all given must match); a Disconnect ends
/// every session it names, a CoA changes their Session-Timeout and Idle-Timeout. Work is bounded: one receive loop,
/// at most <see cref="MaxRequestsPerSecond"/> datagrams a second looked at, a bounded answer cache for retransmissions.
/// </summary>
internal sealed partial class DynamicAuthorizationServer : IDisposable
{
    /// <summary>Datagrams looked at per second, at most: a RADIUS server sends a handful; a flood costs no more than this.</summary>
    public const int MaxRequestsPerSecond = 20;

    private readonly Dictionary<IPAddress, byte[]> _secrets = [];
    private readonly IPAddress? _nasIpAddress;
    private readonly string? _nasIdentifier;
    private readonly IRadiusSessionDirectory _sessions;
    private readonly ILogger _logger;
    private readonly Socket _socket;
    private readonly RadiusAnswerCache _answers;
    // A fixed one-second window: the same counting the journal's throttle does, used here to bound the work.
    private readonly LogThrottle _admission;
    private readonly LogThrottle _dropLog;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiveLoop;
    private long _requests;
    private long _acks;
    private long _naks;
    private long _unknownClients;
    private long _badAuthenticators;
    private long _malformed;
    private long _rateLimited;
    private long _duplicates;
    private long _sessionsClosed;
    private long _sessionsChanged;

    /// <summary>Binds <see cref="DynamicAuthorizationOptions.Listen"/>:<see cref="DynamicAuthorizationOptions.Port"/> (throws <see cref="SocketException"/> if it cannot) and starts receiving.</summary>
    public DynamicAuthorizationServer(DynamicAuthorizationOptions options, IPAddress? nasIpAddress, string? nasIdentifier,
        IRadiusSessionDirectory sessions, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var client in options.Clients)
        {
            _secrets[client.Address] = Encoding.UTF8.GetBytes(client.Secret.Password!);
        }
        // Our NAS-IP-Address is the configured one, else the address we listen on when it is one address.
        _nasIpAddress = nasIpAddress ?? (options.Listen.Equals(IPAddress.Any) ? null : options.Listen);
        _nasIdentifier = nasIdentifier;
        _sessions = sessions;
        _logger = logger;
        _answers = new RadiusAnswerCache(time);
        _admission = new LogThrottle(time, MaxRequestsPerSecond, TimeSpan.FromSeconds(1));
        _dropLog = new LogThrottle(time, linesPerInterval: 5, TimeSpan.FromSeconds(10));
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.Bind(new IPEndPoint(options.Listen, options.Port));
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        if (_logger.IsEnabled(LogLevel.Information))
        {
            var clients = string.Join(", ", options.Clients.Select(c => c.Address));
            LogListening(_logger, LocalEndPoint, clients);
        }
        _receiveLoop = Task.Run(ReceiveLoopAsync, CancellationToken.None);
    }

    /// <summary>Where it listens (the port is the bound one when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    public DynamicAuthorizationCounters Counters => new(Interlocked.Read(ref _requests), Interlocked.Read(ref _acks), Interlocked.Read(ref _naks),
        Interlocked.Read(ref _unknownClients), Interlocked.Read(ref _badAuthenticators), Interlocked.Read(ref _malformed),
        Interlocked.Read(ref _rateLimited), Interlocked.Read(ref _duplicates), Interlocked.Read(ref _sessionsClosed), Interlocked.Read(ref _sessionsChanged));

    public void Dispose()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        _stop.Cancel();
        _socket.Dispose();
        _receiveLoop.Wait(TimeSpan.FromSeconds(2));
        _stop.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[RadiusWire.MaxPacketLength];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                continue; // an ICMP error for an earlier answer: nothing to do
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            var from = (IPEndPoint)received.RemoteEndPoint;
            try
            {
                if (Handle(from.Address, buffer.AsSpan(0, received.ReceivedBytes)) is { } answer)
                {
                    _socket.SendTo(answer, from);
                }
            }
            catch (SocketException e)
            {
                LogSendFailed(_logger, from, e.SocketErrorCode);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    /// <summary>One datagram from <paramref name="from"/>: the answer to send back, or null to stay silent (RFC 5176 section 3.5).</summary>
    internal byte[]? Handle(IPAddress from, ReadOnlySpan<byte> datagram)
    {
        from = from.IsIPv4MappedToIPv6 ? from.MapToIPv4() : from;
        if (!_secrets.TryGetValue(from, out var secret))
        {
            Interlocked.Increment(ref _unknownClients);
            if (_dropLog.TryTake(out var suppressed))
            {
                LogUnknownClient(_logger, from, Suppressed(suppressed));
            }
            return null;
        }
        // After the source check: a flood from an unlisted address costs a lookup and leaves the allowance to the clients.
        if (!_admission.TryTake(out _))
        {
            Interlocked.Increment(ref _rateLimited);
            if (_dropLog.TryTake(out var suppressed))
            {
                LogDropped(_logger, from, $"more than {MaxRequestsPerSecond} datagrams a second", Suppressed(suppressed));
            }
            return null;
        }
        var read = RadiusDynamicRequest.TryRead(datagram, secret, out var request);
        if (request is null)
        {
            var bad = read is RadiusVerifyError.BadRequestAuthenticator or RadiusVerifyError.BadMessageAuthenticator
                or RadiusVerifyError.DuplicateMessageAuthenticator or RadiusVerifyError.MessageAuthenticatorWrongLength;
            Interlocked.Increment(ref bad ? ref _badAuthenticators : ref _malformed);
            if (_dropLog.TryTake(out var suppressed))
            {
                LogDropped(_logger, from, bad ? $"it does not check out with that client's secret ({read})" : $"not a Disconnect-Request or CoA-Request ({read})",
                    Suppressed(suppressed));
            }
            return null;
        }
        if (_answers.TryGet(from, request.Identifier, request.Authenticator, out var cached))
        {
            Interlocked.Increment(ref _duplicates);
            if (_logger.IsEnabled(LogLevel.Information))
            {
                var name = RadiusDynamicRequest.Name(request.Code);
                LogDuplicate(_logger, from, name, request.Identifier);
            }
            return cached;
        }

        Interlocked.Increment(ref _requests);
        var (nak, outcome) = Decide(from, request);
        var buffer = new byte[RadiusWire.MaxPacketLength];
        var length = request.WriteAnswer(buffer, nak, secret);
        if (length < 0)
        {
            // Only a request full of Proxy-States gets here: its echo does not fit in 4096 bytes.
            Log(from, request, outcome, null, nak);
            return null;
        }
        var answer = buffer[..length];
        _answers.Add(from, request.Identifier, request.Authenticator, answer);
        Interlocked.Increment(ref nak is null ? ref _acks : ref _naks);
        Log(from, request, outcome, (RadiusCode)answer[0], nak);
        return answer;
    }

    /// <summary>One journal line per request: who, which sessions it named, what happened, the answer.</summary>
    private void Log(IPAddress from, RadiusDynamicRequest request, string outcome, RadiusCode? answer, RadiusErrorCause? nak)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }
        var said = answer is not { } code ? "no answer (it does not fit one packet)"
            : nak is { } cause ? $"{RadiusDynamicRequest.Name(code)} (Error-Cause {(uint)cause} {cause})"
            : RadiusDynamicRequest.Name(code);
        var name = RadiusDynamicRequest.Name(request.Code);
        var sessions = request.Selector.ToString();
        LogRequest(_logger, from, name, sessions, outcome, said);
    }

    /// <summary>Judges and acts: the Error-Cause of a NAK (null for an ACK) and what happened, for the log.</summary>
    private (RadiusErrorCause? Nak, string Outcome) Decide(IPAddress from, RadiusDynamicRequest request)
    {
        if (request.Judge(_nasIpAddress, _nasIdentifier, out var reason) is { } refusal)
        {
            return (refusal, reason);
        }
        var selector = request.Selector;
        var matched = _sessions.LoggedInSessions()
            .Where(s => selector.Matches(s.AcctSessionId, s.UserName, s.FramedAddress, s.CallingStationId))
            .Select(s => s.AcctSessionId)
            .ToList();
        if (matched.Count == 0)
        {
            return (RadiusErrorCause.SessionContextNotFound, "no such session");
        }
        var ids = $"Acct-Session-Id {string.Join(", ", matched)}";
        if (request.IsDisconnect)
        {
            var closed = _sessions.Disconnect(matched, $"disconnected by RADIUS ({from})");
            Interlocked.Add(ref _sessionsClosed, closed);
            return closed == 0
                ? (RadiusErrorCause.SessionContextNotFound, $"the session ended meanwhile ({ids})")
                : (null, $"{closed} session{(closed == 1 ? "" : "s")} closed ({ids})");
        }
        var changed = _sessions.ChangeLimits(matched, request.SessionTimeout, request.IdleTimeout);
        Interlocked.Add(ref _sessionsChanged, changed);
        var what = string.Join(", ", new[]
        {
            request.SessionTimeout is { } st ? $"Session-Timeout {Limit(st)}" : null,
            request.IdleTimeout is { } it ? $"Idle-Timeout {Limit(it)}" : null,
        }.OfType<string>());
        return changed == 0
            ? (RadiusErrorCause.SessionContextNotFound, $"the session ended meanwhile ({ids})")
            : (null, $"{what} for {changed} session{(changed == 1 ? "" : "s")} ({ids})");
    }

    private static string Limit(TimeSpan limit) => limit == TimeSpan.Zero ? "removed" : $"{limit.TotalSeconds:0} s";

    private static string Suppressed(long suppressed) => suppressed == 0 ? "" : $" ({suppressed} more not logged)";

    [LoggerMessage(Level = LogLevel.Information, Message = "RADIUS Disconnect/CoA: listening on UDP {EndPoint} for {Clients}")]
    private static partial void LogListening(ILogger logger, IPEndPoint endPoint, string clients);

    [LoggerMessage(Level = LogLevel.Information, Message = "RADIUS client {Client} {Request} for {Sessions}: {Outcome}; {Answer}")]
    private static partial void LogRequest(ILogger logger, IPAddress client, string request, string sessions, string outcome, string answer);

    [LoggerMessage(Level = LogLevel.Information, Message = "RADIUS client {Client}: {Request} Identifier {Identifier} again, answered as before")]
    private static partial void LogDuplicate(ILogger logger, IPAddress client, string request, byte identifier);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RADIUS Disconnect/CoA: dropped a datagram from {Source}, not a configured client{Suppressed}")]
    private static partial void LogUnknownClient(ILogger logger, IPAddress source, string suppressed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RADIUS Disconnect/CoA: dropped a datagram from client {Client}: {Reason}{Suppressed}")]
    private static partial void LogDropped(ILogger logger, IPAddress client, string reason, string suppressed);

    [LoggerMessage(Level = LogLevel.Debug, Message = "RADIUS Disconnect/CoA: answer to {Client} not sent ({Error})")]
    private static partial void LogSendFailed(ILogger logger, IPEndPoint client, SocketError error);
}
