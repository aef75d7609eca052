using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Firmware.Gateway.Status;

namespace Firmware.Gateway.Cli;

/// <summary>
/// `pptp-gateway status [--json]`, `connect NAME`, `disconnect NAME`, `reload`: talk to the running service over
/// its control socket (root only) and print the answer.
/// </summary>
internal static class StatusCommand
{
    public const string RunDirectoryVariable = "PPTP_GATEWAY_RUN_DIR";

    public static int Run(string verb, IReadOnlyList<string> args, GatewayEnvironment environment, TextWriter stdout, TextWriter stderr)
    {
        var needsName = verb is "connect" or "disconnect" or "button";
        var problem = GatewayCommandLine.ParseOptions(args, new HashSet<string> { "--json" },
            new HashSet<string> { "--run-dir" }, needsName ? 1 : 0, out var flags, out var values, out var positionals);
        if (problem is null && needsName && positionals.Count == 0)
        {
            problem = "which client? (pptp-gateway " + verb + " NAME)";
        }
        if (problem is not null)
        {
            stderr.WriteLine($"pptp-gateway {verb}: {problem}");
            return GatewayCommandLine.ExitCodes.Usage;
        }

        var runDirectory = values.GetValueOrDefault("--run-dir") ?? environment.GetEnvironment(RunDirectoryVariable) ?? RunCommand.DefaultRunDirectory;
        var socket = Path.Combine(runDirectory, "control.sock");
        if (!File.Exists(socket))
        {
            stderr.WriteLine($"pptp-gateway {verb}: the service is not running (no control socket at {socket}).");
            return GatewayCommandLine.ExitCodes.Unavailable;
        }

        ControlReply reply;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var command = needsName ? $"{verb} {positionals[0]}" : verb;
            reply = ControlSocketClient.SendAsync(socket, command, timeout.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or JsonException or InvalidDataException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"pptp-gateway {verb}: cannot talk to the service at {socket}: {e.Message}");
            return GatewayCommandLine.ExitCodes.Unavailable;
        }

        if (flags.Contains("--json"))
        {
            stdout.WriteLine(JsonSerializer.Serialize(reply, StatusJsonContext.Default.ControlReply));
        }
        else if (reply.Status is { } status)
        {
            stdout.Write(Format(status));
        }
        else
        {
            (reply.Ok ? stdout : stderr).WriteLine(reply.Message);
        }
        return reply.Ok ? GatewayCommandLine.ExitCodes.Ok : GatewayCommandLine.ExitCodes.Failure;
    }

    private static string CardText(string card) => card switch
    {
        "missing" => "the configuration file is missing (is the boot partition mounted?)",
        "unreadable" => "the configuration file cannot be read",
        "unwritable" => "the status file cannot be written (is the card read-only or full?)",
        _ => card,
    };

    /// <summary>The human-readable status: one block per tunnel.</summary>
    internal static string Format(GatewayStatus status)
    {
        var text = new StringBuilder();
        var uptime = TimeSpan.FromSeconds(status.UptimeSeconds);
        text.AppendLine(CultureInfo.InvariantCulture, $"pptp-gateway {status.Version}, up {uptime:d\\.hh\\:mm\\:ss}");
        text.AppendLine(CultureInfo.InvariantCulture, $"config: {status.ConfigFile} ({status.ConfigState})");
        if (status.Card is { } card && card != "ok")
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"card: {CardText(card)}");
        }
        if (status.Leds is { } leds)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"leds: power {leds.GetValueOrDefault("power")}, tunnel {leds.GetValueOrDefault("tunnel")}, activity {leds.GetValueOrDefault("activity")} (status code {status.StatusCode})");
        }
        if (status.ServerError is { } serverError)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"server: not taking calls: {serverError}");
        }
        var counters = status.Counters;
        if (counters.ContainsKey("greReceived"))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"data path: {counters.GetValueOrDefault("greReceived")} GRE packets received in {counters.GetValueOrDefault("greReceiveBatches")} reads, TUN {counters.GetValueOrDefault("tunRead")} read ({counters.GetValueOrDefault("tunSuperPacketsRead")} super-packets) / {counters.GetValueOrDefault("tunWritten")} written ({counters.GetValueOrDefault("tunSuperPacketsWritten")} super-packets), {counters.GetValueOrDefault("bufferPoolInUse")} of {counters.GetValueOrDefault("bufferPoolCreated")} buffers in use");
        }
        if (counters.ContainsKey("radiusRequests"))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"radius: {counters.GetValueOrDefault("radiusRequests")} logins asked, {counters.GetValueOrDefault("radiusAccepts")} accepted, {counters.GetValueOrDefault("radiusRejects")} rejected, {counters.GetValueOrDefault("radiusNoAnswer")} unanswered, {counters.GetValueOrDefault("radiusFailovers")} failovers, {counters.GetValueOrDefault("radiusRefusedAnswers")} answers refused, {counters.GetValueOrDefault("radiusOutstanding")} waiting");
        }
        if (counters.ContainsKey("radiusAccountingSent"))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"radius accounting: {counters.GetValueOrDefault("radiusAccountingSent")} records, {counters.GetValueOrDefault("radiusAccountingAnswered")} taken, {counters.GetValueOrDefault("radiusAccountingPending")} waiting, {counters.GetValueOrDefault("radiusAccountingRetried")} retries, {counters.GetValueOrDefault("radiusAccountingDropped")} dropped");
        }
        if (counters.ContainsKey("radiusDynAuthRequests"))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"radius disconnect/coa: {counters.GetValueOrDefault("radiusDynAuthRequests")} requests, {counters.GetValueOrDefault("radiusDynAuthAcks")} ACKed, {counters.GetValueOrDefault("radiusDynAuthNaks")} NAKed, {counters.GetValueOrDefault("radiusDisconnects")} sessions closed, {counters.GetValueOrDefault("radiusCoaChanges")} changed, {counters.GetValueOrDefault("radiusDynAuthDuplicates")} retransmissions, dropped: {counters.GetValueOrDefault("radiusDynAuthUnknownClients")} unknown client, {counters.GetValueOrDefault("radiusDynAuthBadAuthenticators")} bad authenticator, {counters.GetValueOrDefault("radiusDynAuthMalformed")} malformed, {counters.GetValueOrDefault("radiusDynAuthRateLimited")} over the rate");
        }
        var serviceDrops = counters.Where(c => c.Value > 0 && Runtime.GatewayService.IsDropCounter(c.Key)).Select(c => $"{c.Key} {c.Value}").ToList();
        if (serviceDrops.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"dropped outside any tunnel: {string.Join(", ", serviceDrops)}");
        }
        if (status.Sessions.Count == 0)
        {
            text.AppendLine("no tunnels");
        }
        foreach (var s in status.Sessions)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{s.Role} {s.Name}: {s.State}");
            if (s.User is not null || s.Peer is not null)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  user {s.User ?? "-"}, peer {s.Peer ?? "-"}, auth {s.AuthMethod ?? "-"}, encryption {s.Mppe ?? "-"}");
            }
            if (s.LocalAddress is not null)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {s.Interface}: {s.LocalAddress} <-> {s.RemoteAddress}, up {s.UptimeSeconds:0} s");
                if (s.LocalIpv6 is not null)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"  {s.Interface}: {s.LocalIpv6} <-> {s.RemoteIpv6} (IPv6 link-local)");
                }
                text.AppendLine(CultureInfo.InvariantCulture, $"  sent {s.BytesSent} bytes / {s.PacketsSent} packets, received {s.BytesReceived} bytes / {s.PacketsReceived} packets");
            }
            var drops = s.Drops.Where(d => d.Value > 0).Select(d => $"{d.Key} {d.Value}").ToList();
            if (drops.Count > 0)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  drops: {string.Join(", ", drops)}");
            }
            if (s.Reorder is { } reorder && (reorder.GetValueOrDefault("held") > 0 || reorder.GetValueOrDefault("lost") > 0))
            {
                text.AppendLine(CultureInfo.InvariantCulture,
                    $"  reorder: recovered {reorder.GetValueOrDefault("recovered")}, lost {reorder.GetValueOrDefault("lost")}, late after give-up {reorder.GetValueOrDefault("lateAfterGiveUp")}, gap timeout {reorder.GetValueOrDefault("gapTimeoutMs")} ms, depth {reorder.GetValueOrDefault("depth")}");
            }
            if (s.LastError is not null)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  last error: {s.LastError}");
            }
        }
        return text.ToString();
    }
}
