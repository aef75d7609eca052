namespace Firmware.Gateway.Runtime;

/// <summary>
/// Why a tunnel ended, in words every part can act on: accounting maps it to Acct-Terminate-Cause, the log
/// keeps the full reason. The first cause wins, as the first reason does: a session our timeout closed stays
/// closed by the timeout even though its LCP goes down after.
/// </summary>
public enum SessionEndCause
{
    Unknown,
    /// <summary>The peer asked: LCP Terminate-Request, Call-Clear-Request, Stop-Control-Connection-Request.</summary>
    PeerRequest,
    /// <summary>The peer went silent or away: echo timeouts, the TCP connection lost or not read.</summary>
    LostCarrier,
    SessionTimeout,
    IdleTimeout,
    /// <summary>Someone here ended it: a button, the control socket, a config change, a RADIUS Disconnect.</summary>
    AdminReset,
    /// <summary>The gateway is stopping.</summary>
    ServiceStop,
    /// <summary>Our own failure: an internal error, a route we could not add.</summary>
    NasError,
    /// <summary>The peer broke the protocol (malformed or out-of-order control messages).</summary>
    PortError,
    /// <summary>We refused it after login: the server is full, the user has too many sessions, its address is taken.</summary>
    NasRequest,
    /// <summary>PPP could not agree on what the session needs (encryption, an address).</summary>
    NegotiationFailed,
}
