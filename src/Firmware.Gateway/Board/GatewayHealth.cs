namespace Firmware.Gateway.Board;

/// <summary>How the running config came about.</summary>
public enum ConfigState
{
    /// <summary>The file on the card was loaded and applied.</summary>
    Ok,

    /// <summary>The file on the card is invalid; the last good config is running.</summary>
    RunningLastGood,

    /// <summary>No usable config at all (nothing to run).</summary>
    Error,
}

/// <summary>What the gateway can do with the card's folder (the boot partition on a Pi).</summary>
public enum CardState
{
    /// <summary>The config file was read and the status file written.</summary>
    Ok,

    /// <summary>The config file (or its folder) is not there: the boot partition is not mounted, or the file was removed.</summary>
    Missing,

    /// <summary>The config file is there but cannot be read (an I/O error, no permission, a read that hangs).</summary>
    Unreadable,

    /// <summary>The status file cannot be written: the card is read-only or full.</summary>
    Unwritable,
}

/// <summary>The client side's tunnels, taken together.</summary>
public enum TunnelState
{
    /// <summary>No client tunnel configured, or switched off with the button.</summary>
    NotWanted,

    /// <summary>At least one wanted tunnel is dialling or negotiating.</summary>
    Connecting,

    /// <summary>Every wanted tunnel is up.</summary>
    Up,

    /// <summary>The server rejected our credentials.</summary>
    AuthFailed,

    /// <summary>The peer refused the call or could not be reached.</summary>
    Refused,

    /// <summary>The call is connected over TCP 1723 but no GRE comes from the peer (a firewall or NAT drops it).</summary>
    GreBlocked,

    /// <summary>The box cannot create a tunnel's network interface (TUN): nothing is dialled until it can.</summary>
    InterfaceFailed,
}

/// <summary>
/// The snapshot of gateway state the LEDs show. The gateway publishes a new one whenever something changes;
/// <see cref="BoardController.Publish"/> is cheap when nothing the LEDs show has changed.
/// </summary>
/// <param name="Config">Config state.</param>
/// <param name="Tunnel">Client tunnels.</param>
/// <param name="ServerSessions">Sessions the server side is carrying now.</param>
/// <param name="PacketsIn">Packets received over all tunnels since start (monotonic).</param>
/// <param name="PacketsOut">Packets sent over all tunnels since start (monotonic).</param>
public sealed record GatewayHealth(
    ConfigState Config, TunnelState Tunnel, int ServerSessions, ulong PacketsIn, ulong PacketsOut)
{
    /// <summary>What the box shows before the gateway has said anything.</summary>
    public static GatewayHealth Starting { get; } = new(ConfigState.Ok, TunnelState.NotWanted, 0, 0, 0);

    /// <summary>The server's last connected call got no GRE from its peer, and no session has come up since.</summary>
    public bool ServerGreBlocked { get; init; }

    /// <summary>What the gateway can do with the card; anything but <see cref="CardState.Ok"/> shows on the power LED.</summary>
    public CardState Card { get; init; }

    /// <summary>The server cannot create its network interface (TUN), so it takes no calls until it can.</summary>
    public bool ServerInterfaceFailed { get; init; }

    /// <summary>All packets both ways: the activity LED flashes when this moves.</summary>
    public ulong TrafficCount => unchecked(PacketsIn + PacketsOut);
}
