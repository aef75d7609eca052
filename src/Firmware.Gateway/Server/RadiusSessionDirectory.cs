using System.Net;

namespace Firmware.Gateway.Server;

/// <summary>A logged-in session as RADIUS names it (RFC 5176 session identification attributes).</summary>
/// <param name="CallingStationId">The peer's address, as sent in the Access-Request.</param>
internal readonly record struct RadiusSessionView(string AcctSessionId, string UserName, IPAddress? FramedAddress, string CallingStationId);

/// <summary>
/// What <see cref="DynamicAuthorizationServer"/> may see of and do to the server's sessions: the runtime implements
/// it, tests give a fake. Calls come from the dynamic authorization receive loop, never from a session's loop.
/// </summary>
internal interface IRadiusSessionDirectory
{
    /// <summary>The sessions that have logged in, now.</summary>
    IReadOnlyList<RadiusSessionView> LoggedInSessions();

    /// <summary>Asks those sessions to close with <paramref name="reason"/>; returns how many it closed (gone ones do not count).</summary>
    int Disconnect(IReadOnlyCollection<string> acctSessionIds, string reason);

    /// <summary>
    /// Changes the limits of those sessions: null leaves a limit as it is, <see cref="TimeSpan.Zero"/> removes it, any
    /// other Session-Timeout counts from now. Returns how many sessions it changed.
    /// </summary>
    int ChangeLimits(IReadOnlyCollection<string> acctSessionIds, TimeSpan? sessionTimeout, TimeSpan? idleTimeout);
}
