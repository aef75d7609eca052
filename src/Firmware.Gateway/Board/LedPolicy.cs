namespace Firmware.Gateway.Board;

/// <summary>The patterns of the three LEDs at one moment.</summary>
public readonly record struct LedPatterns(LedPattern Power, LedPattern Tunnel, LedPattern Activity);

/// <summary>
/// What the LEDs mean: a pure mapping from gateway state to patterns (the README's LED table is this code).
/// Power: steady on when the gateway has no usable config; a 2-blink code when the card is missing, cannot be
/// read or cannot be written (the gateway runs on what it has); else heartbeat.
/// Tunnel: a config problem wins (3-blink code), then GRE blocked (2-blink code: the call is up over TCP but the
/// tunnel's packets never arrive), then trouble (fast blink: login or call refused, or the box cannot create a
/// tunnel's interface), then connecting (slow blink), then up or serving (on), else off. Activity: traffic
/// flashes whenever something is connected, else off.
/// </summary>
public static class LedPolicy
{
    /// <summary>Flash count the tunnel LED shows for a config problem.</summary>
    public const int ConfigErrorCode = 3;

    /// <summary>Flash count the tunnel LED shows when GRE from the peer never arrives.</summary>
    public const int GreBlockedCode = 2;

    /// <summary>Flash count the power LED shows when the card is missing, unreadable or unwritable.</summary>
    public const int CardFaultCode = 2;

    /// <summary>Button 2's status code for a card problem.</summary>
    public const int CardFaultStatusCode = 8;

    /// <summary>Button 2's status code when a tunnel's network interface cannot be created.</summary>
    public const int InterfaceFailedStatusCode = 9;

    private static bool InterfaceFailed(GatewayHealth health)
        => health.Tunnel == TunnelState.InterfaceFailed || (health.ServerInterfaceFailed && health.Tunnel != TunnelState.Up);

    /// <summary>True when a client tunnel, or the server's last call with nothing up, is GRE-blocked.</summary>
    private static bool GreBlocked(GatewayHealth health)
        => health.Tunnel == TunnelState.GreBlocked || (health.ServerGreBlocked && health.ServerSessions == 0 && health.Tunnel != TunnelState.Up);

    public static LedPatterns Patterns(GatewayHealth health)
    {
        ArgumentNullException.ThrowIfNull(health);
        var power = health.Config == ConfigState.Error ? LedPattern.On
            : health.Card != CardState.Ok ? LedPattern.BlinkCode(CardFaultCode)
            : LedPattern.Heartbeat;
        var serving = health.ServerSessions > 0;
        var tunnel = health.Config != ConfigState.Ok
            ? LedPattern.BlinkCode(ConfigErrorCode)
            : GreBlocked(health) ? LedPattern.BlinkCode(GreBlockedCode)
            : InterfaceFailed(health) ? LedPattern.FastBlink
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
    /// 7 GRE blocked, 8 card problem (missing, unreadable, read-only or full), 9 a tunnel's network interface cannot
    /// be created. A card problem comes first: it is usually why the config is not the card's.
    /// </summary>
    public static int StatusCode(GatewayHealth health)
    {
        ArgumentNullException.ThrowIfNull(health);
        if (health.Card != CardState.Ok)
        {
            return CardFaultStatusCode;
        }
        if (health.Config != ConfigState.Ok)
        {
            return ConfigErrorCode;
        }
        if (GreBlocked(health))
        {
            return 7;
        }
        // The server's trouble counts here even with our own tunnel up: the LED shows the tunnel, the code the box.
        if (health.Tunnel == TunnelState.InterfaceFailed || health.ServerInterfaceFailed)
        {
            return InterfaceFailedStatusCode;
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
