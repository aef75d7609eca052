using System.Net;
using System.Text;
using Firmware.Gateway.Configuration;
using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Tests.Configuration;

internal static class ConfigTestSupport
{
    public static readonly FixedLocalNetworks Lan = new(
        new LocalNetwork("eth0", new IPNetwork(IPAddress.Parse("10.0.0.0"), 16)),
        new LocalNetwork("wlan0", new IPNetwork(IPAddress.Parse("192.168.1.0"), 24)));

    /// <summary>A small valid configuration; tests splice changes into it.</summary>
    public const string MinimalServer = """
        {
          "server": {
            "localAddress": "192.168.100.1",
            "pool": ["192.168.100.10-192.168.100.50"],
            "users": [ { "name": "alice", "ntHash": "8846F7EAEE8FB117AD06BDD830B7586C" } ]
          }
        }
        """;

    public static ConfigLoadResult Load(string json, ILocalNetworkProvider? networks = null) =>
        ConfigLoader.Parse("test.json", Encoding.UTF8.GetBytes(json), networks ?? Lan);

    public static ConfigLoadResult Load(byte[] bytes) => ConfigLoader.Parse("test.json", bytes, Lan);

    public static ConfigDiagnostic Single(ConfigLoadResult result, string path, ConfigSeverity severity = ConfigSeverity.Error)
    {
        var matches = result.Diagnostics.Where(d => d.Path == path && d.Severity == severity).ToList();
        Assert.True(matches.Count == 1,
            $"expected one {severity} at {path}, got {matches.Count}:\n" + string.Join("\n", result.Diagnostics));
        return matches[0];
    }

    public static string RepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Firmware.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("Firmware.sln not found above " + AppContext.BaseDirectory);
    }

    public static string TestData(string relative) => Path.Combine(AppContext.BaseDirectory, "TestData", relative);

    /// <summary>Waits (bounded) for a condition that another thread makes true.</summary>
    public static void WaitUntil(Func<bool> condition, string what, int timeoutMs = 10_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail("timed out waiting for " + what);
            }
            Thread.Sleep(10);
        }
    }
}

/// <summary>A temporary folder removed after the test.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "pptpgw-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Keeps every formatted log line, so tests can check what reaches the log (and what never does).</summary>
internal sealed class CapturingLogger<T> : ILogger<T>
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines)
        {
            _lines.Add($"{logLevel}: {formatter(state, exception)}");
        }
    }
}
