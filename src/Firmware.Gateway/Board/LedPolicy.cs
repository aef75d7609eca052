namespace Firmware.Gateway.Board;

/// <summary>The patterns of the three LEDs at one moment.</summary>
public readonly record struct LedPatterns(LedPattern Power, LedPattern Tunnel, LedPattern Activity);

/// <summary>
/// What the LEDs mean: a pure mapping from gateway state to patterns (the README's LED table is this code).
/// Power: heartbeat while the gateway runs a config (its own or the last good one); steady on when it has none.
/// Tunnel: a config problem wins (3-blink code), then GRE blocked (2-blink code: the call is up over TCP but the
/// tunnel's packets never arrive), then trouble (fast blink), then connecting (slow blink), then up or serving
/// (on), else off. Activity: traffic flashes whenever something is connected, else off.
/// </summary>
public static class LedPolicy
{
    /// <summary>Flash count the tunnel LED shows for a config problem.</summary>
    public const int ConfigErrorCode = 3;

    /// <summary>Flash count the tunnel LED shows when GRE from the peer never arrives.</summary>
    public const int GreBlockedCode = 2;

    /// <summary>True when a client tunnel, or the server's last call with nothing up, is GRE-blocked.</summary>
    private static bool GreBlocked(GatewayHealth health)
        => health.Tunnel == TunnelState.GreBlocked || (health.ServerGreBlocked && health.ServerSessions == 0 && health.Tunnel != TunnelState.Up);

    public static LedPatterns Patterns(GatewayHealth health)
    {
        ArgumentNullException.ThrowIfNull(health);
        var power = health.Config == ConfigState.Error ? LedPattern.On : LedPattern.Heartbeat;
        var serving = health.ServerSessions > 0;
        var tunnel = health.Config != ConfigState.Ok
            ? LedPattern.BlinkCode(ConfigErrorCode)
            : GreBlocked(health) ? LedPattern.BlinkCode(GreBlockedCode)
            : health.Tunnel switch
            {
                TunnelState.AuthFailed or TunnelState.Refused => LedPattern.FastBlink,
                TunnelState.Connecting => LedPattern.SlowBlink,
                TunnelState.Up => LedPattern.On,
                _ => serving ? LedPattern.On : LedPattern.Off,
            };
        var activity = health.Tunnel == TunnelState.Up || serving ? LedPattern.Traffic : LedPattern.Off;
        return new(power, tunnel, activity);
    }

    /// <summary>
    /// The number button 2 (short press) blinks on the power LED, twice: 1 all good (tunnels up or serving),
    /// 2 connecting, 3 config problem, 4 authentication failed, 5 peer refused, 6 idle (nothing wanted, nobody connected),
    /// 7 GRE blocked.
    /// </summary>
    public static int StatusCode(GatewayHealth health)
    {
        ArgumentNullException.ThrowIfNull(health);
        if (health.Config != ConfigState.Ok)
        {
            return ConfigErrorCode;
        }
        if (GreBlocked(health))
        {
            return 7;
        }
        return health.Tunnel switch
        {
            TunnelState.AuthFailed => 4,
            TunnelState.Refused => 5,
            TunnelState.Connecting => 2,
            TunnelState.Up => 1,
            _ => health.ServerSessions > 0 ? 1 : 6,
        };
    }
}
