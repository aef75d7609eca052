using System.Net;
using Firmware.Gateway.Board;
using Firmware.Protocol.Auth;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Configuration;

/// <summary>
/// The whole validated configuration. <see cref="Default"/> is what runs with no usable file: no server,
/// no clients, so nothing is exposed.
/// </summary>
internal sealed record GatewayConfig(
    ServerOptions? Server,
    ValueList<ClientOptions> Clients,
    PppOptions Ppp,
    TunOptions Tun,
    ForwardingOptions Forwarding,
    HookOptions Hooks,
    BoardOptions Board,
    LoggingOptions Logging)
{
    public static GatewayConfig Default { get; } = new(
        null, ValueList<ClientOptions>.Empty, PppOptions.Default, TunOptions.Default, ForwardingOptions.Default,
        HookOptions.Default, new BoardOptions(), LoggingOptions.Default);

    /// <summary>True when the server section is present and enabled.</summary>
    public bool RunsServer => Server is { Enabled: true };
}

/// <summary>The server role: listener, tunnel addressing, limits, users and security policy.</summary>
internal sealed record ServerOptions(
    bool Enabled,
    IPAddress Listen,
    IPAddress LocalAddress,
    ValueList<AddressRange> Pool,
    ValueList<IPAddress> Dns,
    ValueList<IPAddress> Wins,
    ValueList<IPNetwork> PushRoutes,
    int MaxSessions,
    int MaxConnectionsPerSource,
    ValueList<AuthMethod> AuthMethods,
    MppePolicy Mppe,
    LockoutPolicy Lockout,
    ValueList<UserOptions> Users,
    RadiusOptions? Radius = null)
{
    /// <summary>The same settings without the users, to tell "server settings changed" from "users changed".</summary>
    public ServerOptions WithoutUsers() => this with { Users = ValueList<UserOptions>.Empty };
}

/// <summary>
/// RADIUS for the server's logins. <see cref="Methods"/> are the login methods RADIUS checks (the others use the
/// configured users); <see cref="FallbackToLocal"/> lets the configured users judge when no server answers.
/// </summary>
internal sealed record RadiusOptions(
    ValueList<RadiusServerOptions> Servers,
    TimeSpan Timeout,
    int Attempts,
    string? NasIdentifier,
    IPAddress? NasIpAddress,
    ValueList<AuthMethod> Methods,
    bool FallbackToLocal,
    RadiusAccountingOptions? Accounting = null,
    DynamicAuthorizationOptions? DynamicAuthorization = null)
{
    /// <summary>Each retry waits twice as long as the one before, at most this long.</summary>
    public TimeSpan MaxTimeout => Timeout + Timeout;

    /// <summary>How long a login waits when no server answers: every attempt at every server times out.</summary>
    public TimeSpan WorstCaseWait
    {
        get
        {
            var perServer = TimeSpan.Zero;
            var wait = Timeout;
            for (var i = 0; i < Attempts; i++)
            {
                perServer += wait;
                wait = wait + wait > MaxTimeout ? MaxTimeout : wait + wait;
            }
            return perServer * Servers.Count;
        }
    }
}

/// <summary>One RADIUS server: where it listens and the secret it shares with us (held as a <see cref="ConfigSecret"/>
/// password, so it prints as *** only).</summary>
/// <param name="AccountingEndPoint">Where its accounting goes (the same address, its accounting port).</param>
internal sealed record RadiusServerOptions(IPEndPoint EndPoint, ConfigSecret Secret, IPEndPoint? AccountingEndPoint = null);

/// <summary>
/// RADIUS accounting: records go to the servers' accounting ports in the servers' order, with the same failover.
/// <see cref="InterimInterval"/> null sends Interim-Updates only for sessions whose Access-Accept asked.
/// </summary>
internal sealed record RadiusAccountingOptions(TimeSpan? InterimInterval);

/// <summary>
/// Disconnect-Request and CoA-Request (RFC 5176) from <see cref="Clients"/> only, on UDP <see cref="Listen"/>:<see cref="Port"/>;
/// nothing listens unless <see cref="Enabled"/>.
/// </summary>
internal sealed record DynamicAuthorizationOptions(bool Enabled, IPAddress Listen, int Port, ValueList<DynamicAuthorizationClientOptions> Clients);

/// <summary>One address allowed to send Disconnect and CoA requests, and the secret it signs them with (prints as *** only).</summary>
internal sealed record DynamicAuthorizationClientOptions(IPAddress Address, ConfigSecret Secret);

/// <summary>One account on the server. <see cref="Secret"/> prints as *** only.</summary>
internal sealed record UserOptions(string Name, ConfigSecret Secret, IPAddress? Address, bool Enabled, int MaxSessions);

/// <summary>
/// MPPE policy. Defaults: 128-bit keys required; stateless and stateful both allowed (some peers only do
/// stateful), stateless asked for first.
/// </summary>
internal sealed record MppePolicy(bool Required, ValueList<int> KeyLengths, bool AllowStateless, bool AllowStateful, bool PreferStateless)
{
    public static MppePolicy Default { get; } = new(true, ValueList.Of(128), true, true, true);
}

/// <summary>Lock a user name out after <see cref="Failures"/> failed logins within <see cref="Window"/>.</summary>
internal sealed record LockoutPolicy(int Failures, TimeSpan Window, TimeSpan Duration)
{
    public static LockoutPolicy Default { get; } = new(5, TimeSpan.FromSeconds(300), TimeSpan.FromSeconds(900));
}

/// <summary>One VPN server this gateway dials.</summary>
internal sealed record ClientOptions(
    string Name,
    bool Enabled,
    string Server,
    string User,
    ConfigSecret Secret,
    ValueList<AuthMethod> AuthMethods,
    MppePolicy Mppe,
    RedialPolicy Redial,
    bool DefaultRoute,
    ValueList<IPNetwork> Routes,
    bool UsePeerDns,
    bool WriteSystemResolvConf,
    string Interface,
    bool ShareControlConnection = false);

/// <summary>Exponential back-off between dial attempts, with random spread.</summary>
internal sealed record RedialPolicy(TimeSpan InitialDelay, TimeSpan MaxDelay, double Jitter)
{
    public static RedialPolicy Default { get; } = new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(300), 0.2);
}

/// <summary>PPP tuning shared by every link.</summary>
internal sealed record PppOptions(int Mru, int Mtu, TimeSpan LcpEchoInterval, int LcpEchoFailures, TimeSpan RestartTimer, int MaxConfigure,
    bool ClampMss = true)
{
    public static PppOptions Default { get; } = new(1400, 1400, TimeSpan.FromSeconds(10), 3, TimeSpan.FromSeconds(3), 10);
}

/// <summary>TUN interface names: prefix plus a number.</summary>
internal sealed record TunOptions(string ServerPrefix, string ClientPrefix)
{
    public static TunOptions Default { get; } = new("pptps", "pptpc");
}

/// <summary>Router use: IPv4 forwarding and NAT out of one interface.</summary>
internal sealed record ForwardingOptions(bool Enabled, string? MasqueradeOut)
{
    public static ForwardingOptions Default { get; } = new(false, null);
}

/// <summary>Scripts run on tunnel up/down.</summary>
internal sealed record HookOptions(string? IpUp, string? IpDown, TimeSpan Timeout)
{
    public static HookOptions Default { get; } = new(null, null, TimeSpan.FromSeconds(10));
}

/// <summary>Logging.</summary>
internal sealed record LoggingOptions(LogLevel Level)
{
    public static LoggingOptions Default { get; } = new(LogLevel.Information);
}
