using System.Globalization;
using Firmware.Gateway.Configuration;
using Firmware.Gateway.Hooks;
using Firmware.Platform.Linux;
using Firmware.Platform.Netlink;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Ppp;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Runtime;

/// <summary>State changes the board (LEDs) and the status file follow.</summary>
internal sealed class GatewayEvents
{
    private long _authFailures;
    private long _connectionsRefused;
    private long _spoofedSources;
    private long _greBlockedCalls;

    /// <summary>Raised after any tunnel came up, went down or failed; handlers must not block.</summary>
    public event Action? StateChanged;

    public long AuthenticationFailures => Interlocked.Read(ref _authFailures);

    /// <summary>Control connections refused or evicted before login (limits, lockout).</summary>
    public long ConnectionsRefused => Interlocked.Read(ref _connectionsRefused);

    /// <summary>Packets from a tunnel whose inner source was not that tunnel's address, dropped.</summary>
    public long SpoofedSources => Interlocked.Read(ref _spoofedSources);

    public void ConnectionRefused() => Interlocked.Increment(ref _connectionsRefused);

    /// <summary>Calls that were connected over TCP but got no GRE from their peer (a firewall or NAT drops it).</summary>
    public long GreBlockedCalls => Interlocked.Read(ref _greBlockedCalls);

    public void GreBlocked()
    {
        Interlocked.Increment(ref _greBlockedCalls);
        StateChanged?.Invoke();
    }

    public void SpoofedSource() => Interlocked.Increment(ref _spoofedSources);

    public void Changed() => StateChanged?.Invoke();

    public void AuthenticationFailed()
    {
        Interlocked.Increment(ref _authFailures);
        StateChanged?.Invoke();
    }
}

/// <summary>What every server and client tunnel shares: time, logs, the GRE socket, buffers, netlink, hooks.</summary>
internal sealed partial class GatewayContext
{
    public required GatewayPlatform Platform { get; init; }
    public required TimeProvider Time { get; init; }
    public required ILogger Logger { get; init; }
    public required GreMultiplexer Gre { get; init; }
    public required PacketBufferPool Pool { get; init; }
    public required IRouteNetlink Netlink { get; init; }
    public required HookOptions Hooks { get; set; }
    public GatewayEvents Events { get; } = new();

    /// <summary>What every TUN bridge (the server's, each client's) counted since the service started.</summary>
    public TunCounters TunCounters { get; } = new();

    /// <summary>Client control connections that tunnels with shareControlConnection reuse.</summary>
    public Client.SharedControlChannels SharedChannels { get; } = new();

    public AuthEnvironment AuthEnvironment(TunnelSession session, PppOptions ppp) => new()
    {
        Time = Time,
        Random = SystemRandom.Fill,
        Dispatch = session.Post,
        Options = PppOptionsBuilder.Auth(ppp),
    };

    /// <summary>Starts an ip-up/ip-down script in the background; its outcome is logged, nothing waits for it.</summary>
    public void RunHook(string? script, TunnelSession session, PppNegotiatedParameters link, string interfaceName)
    {
        if (string.IsNullOrEmpty(script))
        {
            return;
        }
        var context = new LinkHookContext(
            interfaceName,
            link.LocalAddress?.ToString() ?? "",
            link.PeerAddress?.ToString() ?? "",
            link.UserName ?? "",
            session.Name,
            link.PrimaryDns?.ToString(),
            link.SecondaryDns?.ToString(),
            session.BytesSent,
            session.BytesReceived,
            session.UpSinceTimestamp is { } up ? Time.GetElapsedTime(up) : TimeSpan.Zero);
        var runner = new HookRunner(Hooks.Timeout);
        _ = Task.Run(async () =>
        {
            var (outcome, output) = await runner.RunAsync(script, context).ConfigureAwait(false);
            if (outcome == HookOutcome.Succeeded)
            {
                LogHook(Logger, script, session.Name, "done", output);
            }
            else
            {
                LogHookFailed(Logger, script, session.Name, outcome.ToString().ToLower(CultureInfo.InvariantCulture), output);
            }
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "hook {Script} for {Session}: {Outcome} {Output}")]
    private static partial void LogHook(ILogger logger, string script, string session, string outcome, string output);

    [LoggerMessage(Level = LogLevel.Warning, Message = "hook {Script} for {Session}: {Outcome} {Output}")]
    private static partial void LogHookFailed(ILogger logger, string script, string session, string outcome, string output);
}

/// <summary>Adapts a lambda to the PPP session's auth factory seam.</summary>
internal sealed class DelegateAuthFactory(Func<AuthMethod, AuthRole, IAuthProtocol> create) : IPppAuthFactory
{
    public IAuthProtocol Create(AuthMethod method, AuthRole role) => create(method, role);
}

/// <summary>The configured users as the authenticator's user store (passwords or NT hashes, disabled flag).</summary>
internal static class ConfigUserStore
{
    public static IUserStore From(IEnumerable<UserOptions> users)
    {
        var store = new InMemoryUserStore();
        foreach (var user in users)
        {
            var secret = user.Secret.HasPassword
                ? UserSecret.FromPassword(user.Secret.Password!, isDisabled: !user.Enabled)
                : UserSecret.FromNtHash(user.Secret.NtHash, isDisabled: !user.Enabled);
            store.Set(user.Name, secret);
        }
        return store;
    }
}
