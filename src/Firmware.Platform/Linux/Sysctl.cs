namespace Firmware.Platform.Linux;

/// <summary>Reads and writes /proc/sys settings (e.g. net.ipv4.ip_forward), remembering what was there.</summary>
public static class Sysctl
{
    public static string PathOf(string key) => "/proc/sys/" + key.Replace('.', '/');

    public static string Read(string key) => File.ReadAllText(PathOf(key)).Trim();

    /// <summary>Writes <paramref name="value"/> and returns the previous value, so the caller can restore it on stop.</summary>
    public static string Write(string key, string value)
    {
        var previous = Read(key);
        if (previous != value)
        {
            File.WriteAllText(PathOf(key), value + "\n");
        }
        return previous;
    }
}
