namespace Firmware.Gateway.Configuration;

/// <summary>How bad a configuration problem is: errors reject the file, warnings load it and name a risk.</summary>
internal enum ConfigSeverity
{
    Warning,
    Error,
}

/// <summary>
/// One problem found in a configuration file: the JSON path (server.users[2].password), its 1-based line and
/// column (0 when the problem concerns the whole file), and a message a person can act on. Messages never
/// contain secrets.
/// </summary>
internal sealed record ConfigDiagnostic(ConfigSeverity Severity, string Path, int Line, int Column, string Message)
{
    public bool IsError => Severity == ConfigSeverity.Error;

    /// <summary>"line 14, server.pool: ..." — the form used in the status file and by check-config.</summary>
    public string Location => (Line, Path) switch
    {
        ( > 0, "") => $"line {Line}, column {Column}",
        ( > 0, _) => $"line {Line}, {Path}",
        (_, "") => "",
        _ => Path,
    };

    public override string ToString()
    {
        var kind = IsError ? "error" : "warning";
        var location = Location;
        return location.Length == 0 ? $"{kind}: {Message}" : $"{kind}: {location}: {Message}";
    }
}
