using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// One published `pptp-gateway run` inside a network namespace, with its stderr log captured line by line so a
/// test can wait for a log line, and its own config, state and run directories.
/// </summary>
internal sealed class GatewayProcess : IDisposable
{
    private readonly BackgroundProcess _process;

    private GatewayProcess(string name, string netns, string directory, BackgroundProcess process)
    {
        Name = name;
        Namespace = netns;
        Directory = directory;
        _process = process;
    }

    public string Name { get; }

    public string Namespace { get; }

    public string Directory { get; }

    public string RunDirectory => Path.Combine(Directory, "run");

    public int ProcessId => _process.ProcessId;

    public bool HasExited => _process.HasExited;

    /// <summary>How many log lines have arrived so far: pass it to <see cref="WaitForLog"/> to wait for a new one.</summary>
    public int LogMark => _process.Mark;

    public string Log => _process.Output;

    /// <summary>
    /// Starts `run` in <paramref name="netns"/>. <paramref name="launcher"/> is the command that is the gateway
    /// (default: the published linux-x64 binary; e.g. qemu-aarch64-static -L ROOT with the arm64 one).
    /// <paramref name="card"/> is the folder of the config file (default <paramref name="directory"/>); a null
    /// <paramref name="config"/> leaves what is there (or is not) as it is.
    /// </summary>
    public static GatewayProcess Start(string name, string netns, string directory, JsonObject? config, IReadOnlyList<string>? launcher = null,
        string? card = null)
    {
        System.IO.Directory.CreateDirectory(directory);
        var configPath = Path.Combine(card ?? directory, "pptp-gateway.json");
        if (config is not null)
        {
            File.WriteAllText(configPath, config.ToJsonString());
        }
        // `ip netns exec` execs the program after entering the namespace, so the child's pid is the gateway's.
        string[] command =
        [
            "ip", "netns", "exec", netns, .. launcher ?? [RepoPaths.PublishedBinary("linux-x64")], "run",
            "--config", configPath,
            "--state-dir", Path.Combine(directory, "state"),
            "--run-dir", Path.Combine(directory, "run"),
            "--log-time",
        ];
        return new GatewayProcess(name, netns, directory, BackgroundProcess.Start(name, command, ServiceEnvironment.Value));
    }

    /// <summary>
    /// The Environment= lines of the systemd unit we ship: the tests run the binary as the service runs it (the
    /// garbage collector's budget is set there, and the memory bounds the tests check depend on it).
    /// </summary>
    public static readonly Lazy<IReadOnlyDictionary<string, string>> ServiceEnvironment = new(() =>
    {
        var environment = new Dictionary<string, string>();
        foreach (var line in File.ReadLines(Path.Combine(RepoPaths.Root, "packaging", "deb", "pptp-gateway.service")))
        {
            if (line.StartsWith("Environment=", StringComparison.Ordinal) && line["Environment=".Length..].Split('=', 2) is [var key, var value])
            {
                environment[key] = value;
            }
        }
        Assert.NotEmpty(environment);
        return environment;
    });

    /// <summary>Waits for a log line containing <paramref name="text"/> among the lines from <paramref name="fromMark"/> on.</summary>
    public string WaitForLog(string text, TimeSpan timeout, int fromMark = 0)
        => _process.WaitFor(l => l.Contains(text, StringComparison.Ordinal), $"with \"{text}\"", timeout, fromMark);

    public int CountLog(string text) => _process.Count(l => l.Contains(text, StringComparison.Ordinal));

    /// <summary>`pptp-gateway status` (the text a person reads) against this gateway's control socket.</summary>
    public string StatusText()
    {
        var result = ProcessRunner.Run(RepoPaths.PublishedBinary("linux-x64"),
            ["status", "--run-dir", RunDirectory], TimeSpan.FromSeconds(10));
        Assert.True(result.ExitCode == 0, $"{Name}: status exited with {result.ExitCode}: {result.Stderr}{result.Stdout}");
        return result.Stdout;
    }

    /// <summary>`pptp-gateway status --json` against this gateway's control socket.</summary>
    public JsonElement Status()
    {
        var result = ProcessRunner.Run(RepoPaths.PublishedBinary("linux-x64"),
            ["status", "--json", "--run-dir", RunDirectory], TimeSpan.FromSeconds(10));
        Assert.True(result.ExitCode == 0, $"{Name}: status exited with {result.ExitCode}: {result.Stderr}{result.Stdout}");
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    /// <summary>One of the status's service-wide counters (0 when absent).</summary>
    public long Counter(string name)
    {
        var status = Status();
        if (status.TryGetProperty("status", out var inner))
        {
            status = inner;
        }
        return status.TryGetProperty("counters", out var counters) && counters.TryGetProperty(name, out var value) ? value.GetInt64() : 0;
    }

    /// <summary>Polls a service-wide counter until <paramref name="condition"/> holds; returns its value then.</summary>
    public long WaitForCounter(string name, Func<long, bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        long value;
        while (!condition(value = Counter(name)))
        {
            if (clock.Elapsed >= timeout)
            {
                throw new TimeoutException($"{Name}: {what} not seen within {timeout.TotalSeconds:0} s; counter {name} is {value}\nlog:\n{Log}");
            }
            Thread.Sleep(250);
        }
        return value;
    }

    /// <summary>The status's sessions array.</summary>
    public IReadOnlyList<JsonElement> Sessions()
    {
        var status = Status();
        // The reply may be the bare status or wrapped in a control reply.
        if (status.TryGetProperty("status", out var inner))
        {
            status = inner;
        }
        return status.TryGetProperty("sessions", out var sessions) ? [.. sessions.EnumerateArray()] : [];
    }

    /// <summary>Polls the status until <paramref name="condition"/> holds for its sessions.</summary>
    public IReadOnlyList<JsonElement> WaitForSessions(Func<IReadOnlyList<JsonElement>, bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyList<JsonElement> sessions = [];
        while (clock.Elapsed < timeout)
        {
            sessions = Sessions();
            if (condition(sessions))
            {
                return sessions;
            }
            Thread.Sleep(250);
        }
        throw new TimeoutException($"{Name}: {what} not seen within {timeout.TotalSeconds:0} s; last status sessions:\n" +
            string.Join('\n', sessions.Select(s => s.GetRawText())) + $"\nlog:\n{Log}");
    }

    /// <summary>SIGTERM: the orderly stop.</summary>
    public void Terminate()
    {
        if (!_process.HasExited)
        {
            ProcessRunner.Run("kill", ["-TERM", _process.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>SIGKILL: the crash.</summary>
    public void KillHard() => _process.Kill();

    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    public int ExitCode => _process.ExitCode;

    public void Dispose() => _process.Dispose();
}
