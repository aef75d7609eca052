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
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _lineArrived = new(0);

    private GatewayProcess(string name, string netns, string directory, Process process)
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

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>How many log lines have arrived so far: pass it to <see cref="WaitForLog"/> to wait for a new one.</summary>
    public int LogMark
    {
        get
        {
            lock (_gate)
            {
                return _lines.Count;
            }
        }
    }

    public string Log
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>
    /// Starts `run` in <paramref name="netns"/>. <paramref name="launcher"/> is the command that is the gateway
    /// (default: the published linux-x64 binary; e.g. qemu-aarch64-static -L ROOT with the arm64 one).
    /// </summary>
    public static GatewayProcess Start(string name, string netns, string directory, JsonObject config, IReadOnlyList<string>? launcher = null)
    {
        System.IO.Directory.CreateDirectory(directory);
        var configPath = Path.Combine(directory, "pptp-gateway.json");
        File.WriteAllText(configPath, config.ToJsonString());
        var info = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // `ip netns exec` execs the program after entering the namespace, so the child's pid is the gateway's.
        string[] arguments =
        [
            "netns", "exec", netns, .. launcher ?? [RepoPaths.PublishedBinary("linux-x64")], "run",
            "--config", configPath,
            "--state-dir", Path.Combine(directory, "state"),
            "--run-dir", Path.Combine(directory, "run"),
            "--log-time",
        ];
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        var process = new Process { StartInfo = info };
        var gateway = new GatewayProcess(name, netns, directory, process);
        process.ErrorDataReceived += (_, e) => gateway.Append(e.Data);
        process.OutputDataReceived += (_, e) => gateway.Append(e.Data);
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return gateway;
    }

    /// <summary>Waits for a log line containing <paramref name="text"/> among the lines from <paramref name="fromMark"/> on.</summary>
    public string WaitForLog(string text, TimeSpan timeout, int fromMark = 0)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            lock (_gate)
            {
                for (var i = fromMark; i < _lines.Count; i++)
                {
                    if (_lines[i].Contains(text, StringComparison.Ordinal))
                    {
                        return _lines[i];
                    }
                }
            }
            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"{Name}: no log line with \"{text}\" within {timeout.TotalSeconds:0} s" +
                    (_process.HasExited ? $" (exited with {_process.ExitCode})" : "") + $"; log:\n{Log}");
            }
            _lineArrived.Wait(left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250));
        }
    }

    public int CountLog(string text)
    {
        lock (_gate)
        {
            return _lines.Count(l => l.Contains(text, StringComparison.Ordinal));
        }
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
            ProcessRunner.Run("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));
        }
    }

    /// <summary>SIGKILL: the crash.</summary>
    public void KillHard()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
    }

    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    public int ExitCode => _process.ExitCode;

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        _process.Dispose();
        _lineArrived.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            _lines.Add(line);
        }
        try
        {
            _lineArrived.Release();
        }
        catch (ObjectDisposedException)
        {
            // A last line raced Dispose: nobody waits any more.
        }
    }
}
