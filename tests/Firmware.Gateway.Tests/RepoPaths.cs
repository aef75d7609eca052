namespace Firmware.Gateway.Tests;

/// <summary>Locates files of the repository from a test's output directory.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string ExampleConfig => Path.Combine(Root, "board", "common", "pptp-gateway.json");

    /// <summary>Where scripts/build publishes the Native AOT binary for a runtime identifier.</summary>
    public static string PublishedBinary(string rid) => Path.Combine(Root, "artifacts", "bin", rid, "pptp-gateway");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Firmware.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"Firmware.sln not found above {AppContext.BaseDirectory}");
    }
}
