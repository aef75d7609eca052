using Firmware.Platform.Linux;

namespace Firmware.Gateway.Configuration;

/// <summary>
/// Replaces a file so a reader (or a power cut) sees the old content or the new, never half: write a temporary
/// file with a unique name beside it, fsync it, rename it over the old one, fsync the folder. On FAT (the
/// boot partition), where a rename is not atomic across a power cut, the same content first goes to a second
/// copy (<see cref="CopyPath"/>) the same way: while the copy is written the old file is whole, and while the
/// file is written the copy is, so one good file is left at any moment and <see cref="ReadWithCopy"/> finds it.
/// </summary>
internal static class AtomicFile
{
    /// <summary>rw------- : for files holding secrets (last-good holds the passwords).</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>rw-r--r--.</summary>
    public const UnixFileMode Readable = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>The second copy kept beside a file on FAT.</summary>
    public static string CopyPath(string path) => path + ".copy";

    /// <summary>Writes the file durably. <paramref name="keepCopy"/>: null decides by the folder's file system (FAT keeps one).</summary>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode = Readable, bool? keepCopy = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? "/";
        Directory.CreateDirectory(directory);
        if (keepCopy ?? DurableFiles.IsFat(directory))
        {
            Replace(CopyPath(full), directory, content, mode);
        }
        Replace(full, directory, content, mode);
    }

    private static void Replace(string path, string directory, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        // Unique, so two writers (or a leftover of a crash) never share a temporary file.
        Span<byte> unique = stackalloc byte[6];
        SystemRandom.Fill(unique);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Convert.ToHexString(unique)}.tmp");
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = mode,
            }))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            // FAT keeps no modes; elsewhere the umask may have narrowed them, and an existing file may be wider.
            if (!DurableFiles.IsFat(directory))
            {
                File.SetUnixFileMode(temp, mode);
            }
            File.Move(temp, path, overwrite: true);
            DurableFiles.SyncDirectory(directory);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// The file's bytes when <paramref name="isWhole"/> accepts them, else its second copy's (after a power cut
    /// mid-write on FAT), else null. Only regular files are read.
    /// </summary>
    public static byte[]? ReadWithCopy(string path, Func<byte[], bool> isWhole)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(isWhole);
        foreach (var candidate in new[] { path, CopyPath(path) })
        {
            var (bytes, _) = ConfigLoader.ReadFile(candidate, ConfigLoader.DefaultReadLimit);
            if (bytes is not null && isWhole(bytes))
            {
                return bytes;
            }
        }
        return null;
    }

    /// <summary>True when the file exists, holds exactly <paramref name="content"/> and has <paramref name="mode"/>.</summary>
    public static bool HasContent(string path, ReadOnlySpan<byte> content, UnixFileMode? mode = null)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists && info.Length == content.Length
                && (mode is null || DurableFiles.IsFat(info.DirectoryName ?? "/") || info.UnixFileMode == mode)
                && File.ReadAllBytes(path).AsSpan().SequenceEqual(content);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
