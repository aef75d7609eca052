using Microsoft.Extensions.Logging;

namespace Firmware.Gateway.Logging;

/// <summary>
/// Writes one line per event to stderr with the syslog priority prefix ("&lt;3&gt;" error … "&lt;7&gt;" debug)
/// that journald reads from a service's output, so `journalctl -u pptp-gateway -p warning` works without a
/// logging framework in the binary. Thread-safe; the level can change on config reload.
/// </summary>
internal sealed class JournalLoggerSink(TextWriter output, LogLevel minimum)
{
    private readonly Lock _gate = new();

    public LogLevel Minimum { get; set; } = minimum;

    /// <summary>Prefix lines with the time (for the console demo; journald adds its own).</summary>
    public bool WithTimestamps { get; init; }

    public ILogger<T> For<T>() => new JournalLogger<T>(this, typeof(T).Name);

    public ILogger For(string category) => new JournalLogger<object>(this, category);

    internal void Write(LogLevel level, string category, string message, Exception? exception)
    {
        var priority = level switch
        {
            LogLevel.Critical => 2,
            LogLevel.Error => 3,
            LogLevel.Warning => 4,
            LogLevel.Information => 6,
            _ => 7,
        };
        var time = WithTimestamps ? DateTimeOffset.Now.ToString("HH:mm:ss.fff ", System.Globalization.CultureInfo.InvariantCulture) : "";
        var line = $"<{priority}>{time}{category}: {message}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}";
        lock (_gate)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }
}

internal sealed class JournalLogger<T>(JournalLoggerSink sink, string category) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= sink.Minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (IsEnabled(logLevel))
        {
            sink.Write(logLevel, category, formatter(state, exception), exception);
        }
    }
}
