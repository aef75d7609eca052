namespace Firmware.Gateway.Configuration;

/// <summary>Finds the configuration file the way the README documents it.</summary>
internal static class ConfigLocator
{
    public const string EnvironmentVariable = "PPTP_GATEWAY_CONFIG";

    /// <summary>The boot partition as Raspberry Pi OS mounts it since Bookworm, then the older place.</summary>
    public static readonly IReadOnlyList<string> BootPartitionPaths =
    [
        "/boot/firmware/pptp-gateway.json",
        "/boot/pptp-gateway.json",
    ];

    /// <summary>
    /// The explicit path if given, else the environment variable, else the first boot-partition file that
    /// exists. Returns the candidates tried, for a helpful message when none exists.
    /// </summary>
    public static string? Locate(
        string? explicitPath, Func<string, string?> getEnvironment, Func<string, bool> fileExists,
        out IReadOnlyList<string> tried)
    {
        ArgumentNullException.ThrowIfNull(getEnvironment);
        ArgumentNullException.ThrowIfNull(fileExists);
        if (!string.IsNullOrEmpty(explicitPath))
        {
            tried = [explicitPath];
            return explicitPath;
        }

        var fromEnvironment = getEnvironment(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            tried = [fromEnvironment];
            return fromEnvironment;
        }

        tried = BootPartitionPaths;
        return BootPartitionPaths.FirstOrDefault(fileExists);
    }
}
