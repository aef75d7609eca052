using System.Diagnostics;
using System.Globalization;

namespace Firmware.Gateway.Hooks;

/// <summary>What an ip-up/ip-down script is told about a link, the way pppd tells it.</summary>
public sealed record LinkHookContext(
    string Interface,
    string LocalAddress,
    string RemoteAddress,
    string PeerName,
    string IpParam,
    string? Dns1,
    string? Dns2,
    long BytesSent,
    long BytesReceived,
    TimeSpan ConnectTime,
    int Speed = 0);

/// <summary>How a hook run ended.</summary>
public enum HookOutcome
{
    Succeeded,
    Failed,
    TimedOut,
    NotStarted,
}

/// <summary>
/// Runs the configured ip-up / ip-down scripts with pppd-compatible arguments
/// (interface, tty, speed, local IP, remote IP, ipparam) and environment (PEERNAME, IPLOCAL, IPREMOTE,
/// DNS1, DNS2, BYTES_SENT, BYTES_RCVD, CONNECT_TIME), each on its own task with a time limit, so a slow or
/// hanging script never holds up a session or the data path.
/// </summary>
public sealed class HookRunner
{
    private readonly TimeSpan _timeout;

    public HookRunner(TimeSpan timeout) => _timeout = timeout;

    /// <summary>The argument vector after the script path, as pppd passes it.</summary>
    public static IReadOnlyList<string> Arguments(LinkHookContext link)
    {
        ArgumentNullException.ThrowIfNull(link);
        return
        [
            link.Interface,
            "", // tty: PPTP has none
            link.Speed.ToString(CultureInfo.InvariantCulture),
            link.LocalAddress,
            link.RemoteAddress,
            link.IpParam,
        ];
    }

    /// <summary>The environment pppd gives its scripts.</summary>
    public static IReadOnlyDictionary<string, string> Environment(LinkHookContext link)
    {
        ArgumentNullException.ThrowIfNull(link);
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PEERNAME"] = link.PeerName,
            ["IFNAME"] = link.Interface,
            ["IPLOCAL"] = link.LocalAddress,
            ["IPREMOTE"] = link.RemoteAddress,
            ["BYTES_SENT"] = link.BytesSent.ToString(CultureInfo.InvariantCulture),
            ["BYTES_RCVD"] = link.BytesReceived.ToString(CultureInfo.InvariantCulture),
            ["CONNECT_TIME"] = ((long)link.ConnectTime.TotalSeconds).ToString(CultureInfo.InvariantCulture),
        };
        if (link.Dns1 is not null)
        {
            env["DNS1"] = link.Dns1;
        }
        if (link.Dns2 is not null)
        {
            env["DNS2"] = link.Dns2;
        }
        return env;
    }

    /// <summary>Runs <paramref name="script"/>; never throws, the outcome and output say what happened.</summary>
    public async Task<(HookOutcome Outcome, string Output)> RunAsync(string script, LinkHookContext link, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        var info = new ProcessStartInfo(script)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in Arguments(link))
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in Environment(link))
        {
            info.Environment[key] = value;
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return (HookOutcome.NotStarted, e.Message);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(_timeout);
            try
            {
                await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return (HookOutcome.TimedOut, $"killed after {_timeout.TotalSeconds:0.#} s");
            }
            var output = (await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false)).Trim();
            return (process.ExitCode == 0 ? HookOutcome.Succeeded : HookOutcome.Failed,
                process.ExitCode == 0 ? output : $"exit code {process.ExitCode}: {output}");
        }
    }
}
