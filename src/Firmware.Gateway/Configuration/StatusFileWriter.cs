using System.Globalization;
using System.Text;

namespace Firmware.Gateway.Configuration;

/// <summary>
/// Writes pptp-gateway.status.txt beside the configuration file so a person who takes the SD card out can
/// read what the gateway made of their file. The file is replaced atomically, and only when its body (all
/// but the "Since:" line) differs from what is there: an unchanged outcome costs the card no write.
/// CRLF line ends, so every Windows editor shows it properly.
/// </summary>
internal sealed class StatusFileWriter
{
    public const string FileName = "pptp-gateway.status.txt";
    public const string Header = "pptp-gateway status. Written by the gateway: edit pptp-gateway.json, not this file.";
    private const string SincePrefix = "Since: ";
    private const string NewLine = "\r\n";

    private readonly TimeProvider _time;
    private string? _lastBody;

    public StatusFileWriter(string path, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(time);
        StatusPath = path;
        _time = time;
    }

    public string StatusPath { get; }

    /// <summary>Number of times the file was actually written (tests check that unchanged outcomes do not write).</summary>
    public int WriteCount { get; private set; }

    public static string PathBeside(string configPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath)) ?? "/", FileName);

    /// <summary>Writes the body if it differs from the file's; returns whether it wrote. IO errors propagate.</summary>
    public bool Write(IEnumerable<string> bodyLines)
    {
        ArgumentNullException.ThrowIfNull(bodyLines);
        var body = string.Join(NewLine, bodyLines) + NewLine;
        _lastBody ??= ReadBody();
        if (string.Equals(body, _lastBody, StringComparison.Ordinal))
        {
            return false;
        }

        var since = _time.GetUtcNow().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var text = Header + NewLine + SincePrefix + since + NewLine + body;
        AtomicFile.Write(StatusPath, Encoding.UTF8.GetBytes(text), createDirectory: false);
        _lastBody = body;
        WriteCount++;
        return true;
    }

    /// <summary>The body of the file already on the card (after a reboot), to compare against; its second copy when the file is torn.</summary>
    private string? ReadBody()
    {
        string? body = null;
        AtomicFile.ReadWithCopy(StatusPath, bytes => (body = BodyOf(Encoding.UTF8.GetString(bytes))) is not null);
        return body;
    }

    /// <summary>All but the header and Since: lines; null unless the text is a whole status file.</summary>
    private static string? BodyOf(string text)
    {
        var header = Header + NewLine;
        if (!text.StartsWith(header, StringComparison.Ordinal) || !text.EndsWith(NewLine, StringComparison.Ordinal))
        {
            return null;
        }
        var sinceEnd = text.IndexOf(NewLine, header.Length, StringComparison.Ordinal);
        return sinceEnd < 0 || !text.AsSpan(header.Length).StartsWith(SincePrefix, StringComparison.Ordinal)
            ? null
            : text[(sinceEnd + NewLine.Length)..];
    }
}
