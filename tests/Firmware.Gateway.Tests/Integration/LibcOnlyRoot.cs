namespace Firmware.Gateway.Tests.Integration;

/// <summary>
/// A root file system for qemu-user that holds glibc and nothing else (the loader, libc, libm), as the
/// smallest board install would: a binary that needs any other library (libssl, ICU, ...) fails in it.
/// The libraries come from Debian's aarch64 cross libc (libc6-arm64-cross). Deleted on Dispose.
/// </summary>
internal sealed class LibcOnlyRoot : IDisposable
{
    public const string Qemu = "/usr/bin/qemu-aarch64-static";
    private const string CrossLibc = "/usr/aarch64-linux-gnu/lib";

    /// <summary>The only files in the root: what the binary's NEEDED entries name, and the loader.</summary>
    public static readonly string[] Libraries = ["ld-linux-aarch64.so.1", "libc.so.6", "libm.so.6"];

    private readonly DirectoryInfo _root;

    public LibcOnlyRoot()
    {
        Assert.True(File.Exists(Qemu), $"{Qemu} is missing: install qemu-user-static (scripts/setup does)");
        _root = Directory.CreateTempSubdirectory("pgw-libc-root-");
        // The loader looks in /lib/aarch64-linux-gnu (Debian's multiarch path) and /lib; one copy in /lib.
        var lib = Directory.CreateDirectory(Path.Combine(_root.FullName, "lib"));
        foreach (var name in Libraries)
        {
            var source = Path.Combine(CrossLibc, name);
            Assert.True(File.Exists(source), $"{source} is missing: install libc6-arm64-cross (scripts/setup does)");
            File.Copy(source, Path.Combine(lib.FullName, name));
        }
    }

    public string RootPath => _root.FullName;

    /// <summary>Every regular file in the root, relative to it: the test shows it holds only libc.</summary>
    public IReadOnlyList<string> Files => [.. Directory.EnumerateFiles(_root.FullName, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(_root.FullName, f)).Order(StringComparer.Ordinal)];

    /// <summary>The command that runs the published arm64 binary inside this root.</summary>
    public IReadOnlyList<string> Launcher(string binary) => [Qemu, "-L", _root.FullName, binary];

    public void Dispose()
    {
        try
        {
            _root.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }
}
