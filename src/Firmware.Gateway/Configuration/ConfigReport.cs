using System.Globalization;

namespace Firmware.Gateway.Configuration;

/// <summary>Renders a load result for people: check-config prints it, the status file holds it.</summary>
internal static class ConfigReport
{
    /// <summary>One line per error, then per warning, each "error: line 14, server.pool: ...".</summary>
    public static IEnumerable<string> DiagnosticLines(ConfigLoadResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Errors.Concat(result.Warnings).Select(d => d.ToString());
    }

    /// <summary>"accepted, 2 warnings" / "rejected, 3 errors, 1 warning".</summary>
    public static string Summary(ConfigLoadResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var verdict = result.Accepted ? "accepted" : "rejected";
        var parts = new List<string> { verdict };
        if (!result.Accepted)
        {
            parts.Add(Count(result.ErrorCount, "error"));
        }
        parts.Add(Count(result.WarningCount, "warning"));
        return string.Join(", ", parts);
    }

    /// <summary>A few lines saying what an accepted configuration will run. Never mentions secrets.</summary>
    public static IEnumerable<string> Describe(GatewayConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Server is { } server)
        {
            var state = server.Enabled ? "server" : "server (disabled)";
            var enabled = server.Users.Count(u => u.Enabled);
            yield return $"{state}: listen {server.Listen}, tunnel address {server.LocalAddress}, pool {string.Join(",", server.Pool)}, "
                + $"{Count(enabled, "enabled user")}, auth {string.Join("/", server.AuthMethods.Select(ConfigBinder.AuthName))}, "
                + $"MPPE {(server.Mppe.Required ? "required" : "optional")} {string.Join("/", server.Mppe.KeyLengths)}-bit";
        }
        foreach (var client in config.Clients)
        {
            yield return $"client {client.Name}{(client.Enabled ? "" : " (disabled)")}: {client.User}@{client.Server} on {client.Interface}"
                + (client.DefaultRoute ? ", default route" : "")
                + (client.Routes.Count > 0 ? $", routes {string.Join(",", client.Routes)}" : "");
        }
        if (config.Server is null && config.Clients.Count == 0)
        {
            yield return "no server and no clients";
        }
    }

    private static string Count(int n, string noun) =>
        n.ToString(CultureInfo.InvariantCulture) + " " + noun + (n == 1 ? "" : "s");
}
