using System.Diagnostics;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// A process whose stdout and stderr lines are collected as they come, so a test can wait (with a deadline)
/// for a line; killed with its children on dispose. The gateways under test and the traffic generators and
/// attackers beside them all run as one.
/// </summary>
internal sealed class BackgroundProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _name;
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _lineArrived = new(0);

    private BackgroundProcess(string name, Process process)
    {
        _name = name;
        _process = process;
    }

    /// <summary>Starts <paramref name="command"/> (program, then arguments) with <paramref name="environment"/> added to
    /// ours; <paramref name="name"/> labels its failures.</summary>
    public static BackgroundProcess Start(string name, IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in command.Skip(1))
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        var background = new BackgroundProcess(name, new Process { StartInfo = info });
        background._process.OutputDataReceived += (_, e) => background.Append(e.Data);
        background._process.ErrorDataReceived += (_, e) => background.Append(e.Data);
        background._process.Start();
        background._process.BeginOutputReadLine();
        background._process.BeginErrorReadLine();
        return background;
    }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>How many lines have arrived so far: pass it to <see cref="WaitFor"/> to wait for a new one.</summary>
    public int Mark
    {
        get
        {
            lock (_gate)
            {
                return _lines.Count;
            }
        }
    }

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>Waits for a line that <paramref name="matches"/>, among those from <paramref name="fromMark"/> on.</summary>
    public string WaitFor(Func<string, bool> matches, string what, TimeSpan timeout, int fromMark = 0)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            lock (_gate)
            {
                for (var i = fromMark; i < _lines.Count; i++)
                {
                    if (matches(_lines[i]))
                    {
                        return _lines[i];
                    }
                }
            }
            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"{_name}: no line {what} within {timeout.TotalSeconds:0} s" +
                    (_process.HasExited ? $" (exited with {_process.ExitCode})" : "") + $"; output:\n{Output}");
            }
            _lineArrived.Wait(left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250));
        }
    }

    /// <summary>Waits for a line starting with <paramref name="prefix"/>.</summary>
    public string WaitForLine(string prefix, TimeSpan timeout)
        => WaitFor(l => l.StartsWith(prefix, StringComparison.Ordinal), $"starting \"{prefix}\"", timeout);

    public int Count(Func<string, bool> matches)
    {
        lock (_gate)
        {
            return _lines.Count(matches);
        }
    }

    /// <summary>SIGKILL, and wait for the exit.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
    }

    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

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
