using System.Globalization;
using Firmware.Platform.Linux;

namespace Firmware.Gateway.Configuration;

/// <summary>
/// The outcome of loading one file: the configuration when it was accepted (no errors), and every error and
/// warning. <see cref="Utf8"/> is the file as UTF-8 (what last-good keeps).
/// </summary>
internal sealed record ConfigLoadResult(string File, GatewayConfig? Config, IReadOnlyList<ConfigDiagnostic> Diagnostics, byte[]? Utf8)
{
    public bool Accepted => Config is not null;

    public IEnumerable<ConfigDiagnostic> Errors => Diagnostics.Where(d => d.IsError);

    public IEnumerable<ConfigDiagnostic> Warnings => Diagnostics.Where(d => !d.IsError);

    public int ErrorCount => Diagnostics.Count(d => d.IsError);

    public int WarningCount => Diagnostics.Count(d => !d.IsError);
}

/// <summary>Reads, parses, binds and validates a configuration file; never throws for anything in the file.</summary>
internal static class ConfigLoader
{
    /// <summary>Far larger than any real configuration; stops a wrong file (an image, a log) being read whole.</summary>
    public const int MaxFileBytes = 1 << 20;

    /// <summary>How long reading the file may take; an SD card that stops answering must not stop the gateway.</summary>
    public static readonly TimeSpan DefaultReadLimit = TimeSpan.FromSeconds(5);

    public static ConfigLoadResult LoadFile(string path, ILocalNetworkProvider networks) =>
        LoadFile(path, networks, DefaultReadLimit);

    /// <summary>
    /// Reads (regular files only, within <paramref name="readLimit"/>), parses, binds and validates.
    /// <paramref name="abandoned"/> is given the read when it is given up, so a caller can wait for it to return
    /// before trying again (a card that hangs then costs one stuck thread, not one per try).
    /// </summary>
    public static ConfigLoadResult LoadFile(string path, ILocalNetworkProvider networks, TimeSpan readLimit, Action<Task>? abandoned = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (bytes, problem) = ReadWithin(readLimit, () => ReadRegularFile(path), abandoned);
        return bytes is null ? Failed(path, problem!) : Parse(path, bytes, networks, []);
    }

    /// <summary>
    /// The file's bytes, or null with the reason. Only a regular file is opened (a FIFO, device or socket in
    /// its place is refused from its stat), and a read that takes longer than <paramref name="limit"/> is
    /// given up: the thread stuck in it is abandoned, not waited for, so no caller (and no lock) blocks on it.
    /// </summary>
    public static (byte[]? Bytes, string? Problem) ReadFile(string path, TimeSpan limit)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ReadWithin(limit, () => ReadRegularFile(path));
    }

    /// <summary>Runs a read on its own thread and gives it up (abandoned, not waited for) past the limit.</summary>
    internal static (byte[]? Bytes, string? Problem) ReadWithin(TimeSpan limit, Func<(byte[]? Bytes, string? Problem)> reader,
        Action<Task>? abandoned = null)
    {
        var read = Task.Factory.StartNew(reader, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!read.Wait(limit))
        {
            _ = read.ContinueWith(t => t.Exception, TaskScheduler.Default);
            abandoned?.Invoke(read);
            return (null, string.Create(CultureInfo.InvariantCulture, $"reading the file took longer than {limit.TotalSeconds:0.#} s; is the card failing?"));
        }
        return read.Result;
    }

    private static (byte[]? Bytes, string? Problem) ReadRegularFile(string path)
    {
        try
        {
            using var stream = RegularFile.OpenForRead(path, out var problem);
            if (stream is null)
            {
                return (null, problem);
            }
            if (stream.Length > MaxFileBytes)
            {
                return (null, $"the file is {stream.Length} bytes; a configuration may be at most {MaxFileBytes} bytes (1 MiB). Is this the right file?");
            }

            // Read at most one byte past the limit, in case the file grows while being read.
            var buffer = new byte[MaxFileBytes + 1];
            var total = 0;
            int count;
            while (total < buffer.Length && (count = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += count;
            }
            if (total > MaxFileBytes)
            {
                return (null, $"the file is larger than {MaxFileBytes} bytes (1 MiB). Is this the right file?");
            }
            return (buffer[..total], null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, "cannot read the file: " + e.Message);
        }
    }

    /// <summary>Parses bytes as if read from <paramref name="file"/>.</summary>
    public static ConfigLoadResult Parse(string file, ReadOnlySpan<byte> bytes, ILocalNetworkProvider networks) =>
        Parse(file, bytes, networks, []);

    private static ConfigLoadResult Parse(string file, ReadOnlySpan<byte> bytes, ILocalNetworkProvider networks, List<ConfigDiagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(networks);
        if (bytes.Length > MaxFileBytes)
        {
            return Failed(file, $"the file is {bytes.Length} bytes; a configuration may be at most {MaxFileBytes} bytes (1 MiB)");
        }

        var utf8 = ConfigJsonReader.DecodeText(bytes, diagnostics);
        if (utf8 is null)
        {
            return new(file, null, diagnostics, null);
        }

        var root = ConfigJsonReader.Parse(utf8, diagnostics);
        if (root is null)
        {
            return new(file, null, diagnostics, utf8);
        }
        if (root.Kind != ConfigNodeKind.Object)
        {
            diagnostics.Add(new(ConfigSeverity.Error, "", root.Line, root.Column,
                $"the configuration must be a JSON object {{ ... }}, not {root.KindDescription}"));
            return new(file, null, diagnostics, utf8);
        }

        GatewayConfig config;
        try
        {
            UnknownKeyCheck.Run(root, diagnostics);
            config = ConfigBinder.Bind(root, networks, diagnostics);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or OverflowException
            or KeyNotFoundException or IndexOutOfRangeException or NullReferenceException)
        {
            // Every check above is meant to turn a bad value into a diagnostic; a value that slips through still
            // rejects the file with a reason instead of crashing check-config or the running gateway.
            diagnostics.Add(new(ConfigSeverity.Error, "", root.Line, root.Column,
                $"the file could not be checked ({e.GetType().Name}); it is rejected. Please report this file's shape"));
            return new(file, null, diagnostics, utf8);
        }
        var ordered = diagnostics
            .Select((d, i) => (d, i))
            .OrderBy(x => x.d.IsError ? 0 : 1).ThenBy(x => x.d.Line).ThenBy(x => x.i)
            .Select(x => x.d)
            .ToList();
        return new(file, ordered.Any(d => d.IsError) ? null : config, ordered, utf8);
    }

    private static ConfigLoadResult Failed(string file, string message) =>
        new(file, null, [new ConfigDiagnostic(ConfigSeverity.Error, "", 0, 0, message)], null);
}
