using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Firmware.Gateway.Configuration;
using Firmware.Gateway.Server;
using Firmware.Protocol.Auth;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Runtime;

/// <summary>
/// The server's side of RFC 5176: the sessions a <see cref="DynamicAuthorizationServer"/> may name, end and change.
/// Kept apart from the rest of the runtime; it touches sessions only through their <see cref="SessionInfo"/> and
/// <see cref="TunnelSession.RequestClose"/>, and their limits through <see cref="LimitSession"/>.
/// </summary>
internal sealed partial class ServerRuntime : IRadiusSessionDirectory
{
    /// <summary>Limits a CoA set, with when their Session-Timeout started counting; gone with their session.</summary>
    private readonly ConditionalWeakTable<SessionInfo, ChangedLimits> _changedLimits = [];

    private DynamicAuthorizationServer? _dynamicAuthorization;

    private sealed record ChangedLimits(SessionAuthorization Authorization, long SessionTimeoutFrom);

    /// <summary>The Disconnect/CoA server's counters; null when it is off.</summary>
    public DynamicAuthorizationCounters? DynamicAuthorizationCounters => _dynamicAuthorization?.Counters;

    /// <summary>Starts listening when configured; a port that cannot be bound is logged and the server runs without it.</summary>
    private void StartDynamicAuthorization(ServerOptions options)
    {
        if (options.Radius is not { DynamicAuthorization: { Enabled: true } dynamic } radius)
        {
            return;
        }
        try
        {
            _dynamicAuthorization = new DynamicAuthorizationServer(dynamic, radius.NasIpAddress, radius.NasIdentifier, this, _context.Time, _context.Logger);
        }
        catch (SocketException e)
        {
            LogDynamicAuthorizationFailed(_context.Logger, dynamic.Listen, dynamic.Port, e.Message);
        }
    }

    public IReadOnlyList<RadiusSessionView> LoggedInSessions()
    {
        lock (_gate)
        {
            return [.. _sessions.Where(s => s.Value.User is not null)
                .Select(s => new RadiusSessionView(s.Value.AcctSessionId, s.Value.User!, s.Value.Address, s.Key.Peer.ToString()))];
        }
    }

    public int Disconnect(IReadOnlyCollection<string> acctSessionIds, string reason)
    {
        var chosen = Chosen(acctSessionIds);
        foreach (var (session, _) in chosen)
        {
            session.RequestClose(reason);
        }
        return chosen.Count;
    }

    public int ChangeLimits(IReadOnlyCollection<string> acctSessionIds, TimeSpan? sessionTimeout, TimeSpan? idleTimeout)
    {
        var chosen = Chosen(acctSessionIds);
        var now = _context.Time.GetTimestamp();
        foreach (var (session, info) in chosen)
        {
            var (current, from) = _changedLimits.TryGetValue(info, out var changed)
                ? (changed.Authorization, changed.SessionTimeoutFrom)
                // LimitSession started the login's Session-Timeout at login, a moment before the network came up.
                : (info.Verifier.Authorization, session.UpSinceTimestamp ?? session.StartedTimestamp);
            var kept = sessionTimeout is null;
            var next = current with
            {
                SessionTimeout = sessionTimeout is { } st ? (st == TimeSpan.Zero ? null : st) : current.SessionTimeout,
                IdleTimeout = idleTimeout is { } it ? (it == TimeSpan.Zero ? null : it) : current.IdleTimeout,
            };
            var start = kept ? from : now;
            _changedLimits.AddOrUpdate(info, new ChangedLimits(next, start));
            ITimer? old;
            lock (_gate)
            {
                old = info.Limit;
                info.Limit = null;
            }
            old?.Dispose();
            // LimitSession counts a Session-Timeout from now: an unchanged one is given as what is left of it.
            var left = next.SessionTimeout is { } limit && kept ? limit - _context.Time.GetElapsedTime(from, now) : next.SessionTimeout;
            LimitSession(session, info, next with { SessionTimeout = left is { } l && l < TimeSpan.Zero ? TimeSpan.Zero : left });
        }
        return chosen.Count;
    }

    /// <summary>Logged-in sessions with those Acct-Session-Ids.</summary>
    private List<(TunnelSession Session, SessionInfo Info)> Chosen(IReadOnlyCollection<string> acctSessionIds)
    {
        lock (_gate)
        {
            return [.. _sessions.Where(s => s.Value.User is not null && acctSessionIds.Contains(s.Value.AcctSessionId)).Select(s => (s.Key, s.Value))];
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "RADIUS Disconnect/CoA: cannot listen on UDP {Address}:{Port} ({Reason}); running without it")]
    private static partial void LogDynamicAuthorizationFailed(ILogger logger, IPAddress address, int port, string reason);
}
