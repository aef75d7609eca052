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

    public static ConfigLoadResult LoadFile(string path, ILocalNetworkProvider networks)
    {
        ArgumentNullException.ThrowIfNull(path);
        var diagnostics = new List<ConfigDiagnostic>();
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length > MaxFileBytes)
            {
                return Failed(path, $"the file is {stream.Length} bytes; a configuration may be at most {MaxFileBytes} bytes (1 MiB). Is this the right file?");
            }

            // Read at most one byte past the limit, in case the file grows while being read.
            var buffer = new byte[MaxFileBytes + 1];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = stream.Read(buffer, total, buffer.Length - total)) > 0)
            {
                total += read;
            }
            if (total > MaxFileBytes)
            {
                return Failed(path, $"the file is larger than {MaxFileBytes} bytes (1 MiB). Is this the right file?");
            }
            bytes = buffer[..total];
        }
        catch (FileNotFoundException)
        {
            return Failed(path, "the file does not exist");
        }
        catch (DirectoryNotFoundException)
        {
            return Failed(path, "the folder holding the file does not exist");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Failed(path, "cannot read the file: " + e.Message);
        }
        return Parse(path, bytes, networks, diagnostics);
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

        UnknownKeyCheck.Run(root, diagnostics);
        var config = ConfigBinder.Bind(root, networks, diagnostics);
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
