using Firmware.Gateway.Board;

namespace Firmware.Gateway.Tests.Board;

public sealed class LedPolicyTests
{
    private static GatewayHealth Health(ConfigState config = ConfigState.Ok, TunnelState tunnel = TunnelState.NotWanted, int sessions = 0) =>
        new(config, tunnel, sessions, 0, 0);

    public static TheoryData<ConfigState, TunnelState, int, LedPatternKind, LedPatternKind, LedPatternKind> Table => new()
    {
        { ConfigState.Ok, TunnelState.NotWanted, 0, LedPatternKind.Heartbeat, LedPatternKind.Off, LedPatternKind.Off },
        { ConfigState.Ok, TunnelState.NotWanted, 2, LedPatternKind.Heartbeat, LedPatternKind.On, LedPatternKind.Traffic },
        { ConfigState.Ok, TunnelState.Connecting, 0, LedPatternKind.Heartbeat, LedPatternKind.SlowBlink, LedPatternKind.Off },
        { ConfigState.Ok, TunnelState.Up, 0, LedPatternKind.Heartbeat, LedPatternKind.On, LedPatternKind.Traffic },
        { ConfigState.Ok, TunnelState.AuthFailed, 0, LedPatternKind.Heartbeat, LedPatternKind.FastBlink, LedPatternKind.Off },
        { ConfigState.Ok, TunnelState.Refused, 3, LedPatternKind.Heartbeat, LedPatternKind.FastBlink, LedPatternKind.Traffic },
        { ConfigState.Ok, TunnelState.GreBlocked, 0, LedPatternKind.Heartbeat, LedPatternKind.BlinkCode, LedPatternKind.Off },
        { ConfigState.RunningLastGood, TunnelState.Up, 0, LedPatternKind.Heartbeat, LedPatternKind.BlinkCode, LedPatternKind.Traffic },
        { ConfigState.Error, TunnelState.NotWanted, 0, LedPatternKind.On, LedPatternKind.BlinkCode, LedPatternKind.Off },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void State_maps_to_patterns(ConfigState config, TunnelState tunnel, int sessions, LedPatternKind power, LedPatternKind tunnelLed, LedPatternKind activity)
    {
        var patterns = LedPolicy.Patterns(Health(config, tunnel, sessions));
        Assert.Equal(power, patterns.Power.Kind);
        Assert.Equal(tunnelLed, patterns.Tunnel.Kind);
        Assert.Equal(activity, patterns.Activity.Kind);
    }

    [Fact]
    public void Config_problem_is_the_three_blink_code()
    {
        Assert.Equal(LedPattern.BlinkCode(3), LedPolicy.Patterns(Health(ConfigState.RunningLastGood)).Tunnel);
    }

    [Theory]
    [InlineData(ConfigState.Ok, TunnelState.Up, 0, 1)]
    [InlineData(ConfigState.Ok, TunnelState.NotWanted, 1, 1)]
    [InlineData(ConfigState.Ok, TunnelState.Connecting, 0, 2)]
    [InlineData(ConfigState.RunningLastGood, TunnelState.Up, 0, 3)]
    [InlineData(ConfigState.Error, TunnelState.NotWanted, 0, 3)]
    [InlineData(ConfigState.Ok, TunnelState.AuthFailed, 0, 4)]
    [InlineData(ConfigState.Ok, TunnelState.Refused, 0, 5)]
    [InlineData(ConfigState.Ok, TunnelState.NotWanted, 0, 6)]
    [InlineData(ConfigState.Ok, TunnelState.GreBlocked, 0, 7)]
    [InlineData(ConfigState.RunningLastGood, TunnelState.GreBlocked, 0, 3)]
    public void Status_codes(ConfigState config, TunnelState tunnel, int sessions, int code)
    {
        Assert.Equal(code, LedPolicy.StatusCode(Health(config, tunnel, sessions)));
    }

    [Fact]
    public void GRE_blocked_is_the_two_blink_code_below_a_config_problem()
    {
        Assert.Equal(LedPattern.BlinkCode(2), LedPolicy.Patterns(Health(tunnel: TunnelState.GreBlocked)).Tunnel);
        Assert.Equal(LedPattern.BlinkCode(3), LedPolicy.Patterns(Health(ConfigState.RunningLastGood, TunnelState.GreBlocked)).Tunnel);
    }

    [Fact]
    public void The_servers_GRE_blocked_call_shows_until_something_is_up()
    {
        var blocked = Health() with { ServerGreBlocked = true };
        Assert.Equal(LedPattern.BlinkCode(2), LedPolicy.Patterns(blocked).Tunnel);
        Assert.Equal(7, LedPolicy.StatusCode(blocked));
        // A session up (or our own tunnel up) says more than the last caller's trouble.
        Assert.Equal(LedPattern.On, LedPolicy.Patterns(blocked with { ServerSessions = 1 }).Tunnel);
        Assert.Equal(LedPattern.On, LedPolicy.Patterns(blocked with { Tunnel = TunnelState.Up }).Tunnel);
    }

    [Theory]
    [InlineData(CardState.Missing)]
    [InlineData(CardState.Unreadable)]
    [InlineData(CardState.Unwritable)]
    public void A_card_problem_is_the_power_leds_two_blink_code_and_status_code_8(CardState card)
    {
        // Running the last good config because the card is gone: the tunnel LED still says "config problem",
        // the power LED says why, and button 2 names the card first.
        var health = Health(ConfigState.RunningLastGood, TunnelState.Up) with { Card = card };
        var patterns = LedPolicy.Patterns(health);
        Assert.Equal(LedPattern.BlinkCode(2), patterns.Power);
        Assert.Equal(LedPattern.BlinkCode(3), patterns.Tunnel);
        Assert.Equal(8, LedPolicy.StatusCode(health));

        // A full card while the card's own file runs: only the power LED changes.
        var full = Health(tunnel: TunnelState.Up) with { Card = card };
        Assert.Equal(LedPattern.BlinkCode(2), LedPolicy.Patterns(full).Power);
        Assert.Equal(LedPattern.On, LedPolicy.Patterns(full).Tunnel);
        Assert.Equal(8, LedPolicy.StatusCode(full));

        // No usable config at all still shows steady power: that says more.
        Assert.Equal(LedPattern.On, LedPolicy.Patterns(Health(ConfigState.Error) with { Card = card }).Power);
    }

    [Fact]
    public void An_interface_that_cannot_be_created_is_trouble_with_status_code_9()
    {
        var client = Health(tunnel: TunnelState.InterfaceFailed);
        Assert.Equal(LedPattern.FastBlink, LedPolicy.Patterns(client).Tunnel);
        Assert.Equal(LedPattern.Heartbeat, LedPolicy.Patterns(client).Power);
        Assert.Equal(9, LedPolicy.StatusCode(client));

        var server = Health() with { ServerInterfaceFailed = true };
        Assert.Equal(LedPattern.FastBlink, LedPolicy.Patterns(server).Tunnel);
        Assert.Equal(9, LedPolicy.StatusCode(server));
        // Our own tunnel up is what the tunnel LED shows; the server's trouble stays in the status code and the log.
        Assert.Equal(LedPattern.On, LedPolicy.Patterns(server with { Tunnel = TunnelState.Up }).Tunnel);
        Assert.Equal(9, LedPolicy.StatusCode(server with { Tunnel = TunnelState.Up }));
    }

    [Fact]
    public void Patterns_are_equal_by_value_so_republishing_does_not_restart()
    {
        Assert.Equal(LedPolicy.Patterns(Health(tunnel: TunnelState.Up)), LedPolicy.Patterns(Health(tunnel: TunnelState.Up)));
    }

    [Fact]
    public void One_shot_durations()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(850), LedPattern.SelfTest(1).Duration);
        Assert.Equal(TimeSpan.FromMilliseconds(2 * 3000), LedPattern.BlinkCodeTwice(3).Duration);
        Assert.Equal(Timeout.InfiniteTimeSpan, LedPattern.Heartbeat.Duration);
    }
}
