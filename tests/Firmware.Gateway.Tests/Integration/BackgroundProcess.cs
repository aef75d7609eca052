using System.Diagnostics;

namespace Firmware.Gateway.Tests.Integration;

/// <summary>A helper process whose output lines a test waits for (with a deadline); killed on dispose.</summary>
internal sealed class BackgroundProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _lineArrived = new(0);

    private BackgroundProcess(Process process) => _process = process;

    public static BackgroundProcess Start(string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in command[1..])
        {
            info.ArgumentList.Add(argument);
        }
        var background = new BackgroundProcess(new Process { StartInfo = info });
        background._process.OutputDataReceived += (_, e) => background.Append(e.Data);
        background._process.ErrorDataReceived += (_, e) => background.Append(e.Data is null ? null : "stderr: " + e.Data);
        background._process.Start();
        background._process.BeginOutputReadLine();
        background._process.BeginErrorReadLine();
        return background;
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

    /// <summary>Waits for a line starting with <paramref name="prefix"/>; fails with the output so far.</summary>
    public string WaitForLine(string prefix, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            lock (_gate)
            {
                var line = _lines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
                if (line is not null)
                {
                    return line;
                }
            }
            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"no line starting \"{prefix}\" within {timeout.TotalSeconds:0} s" +
                    (_process.HasExited ? $" (exited with {_process.ExitCode})" : "") + $"; output:\n{Output}");
            }
            _lineArrived.Wait(left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250));
        }
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
        _lineArrived.Release();
    }

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
        }
        _process.Dispose();
        _lineArrived.Dispose();
    }
}
