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

    /// <summary>
    /// Writes the file durably. <paramref name="keepCopy"/>: null decides by the folder's file system (FAT keeps
    /// one). <paramref name="createDirectory"/>: false for the card, whose folder missing means the partition is
    /// not mounted; creating it would write under the mount point.
    /// </summary>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode = Readable, bool? keepCopy = null, bool createDirectory = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? "/";
        if (createDirectory)
        {
            Directory.CreateDirectory(directory);
        }
        else if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"the folder {directory} is not there");
        }
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
        var temp = Path.Combine(directory, $"{TemporaryPrefix(path)}{Environment.ProcessId}.{Convert.ToHexString(unique)}{TemporarySuffix}");
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

    private const string TemporarySuffix = ".tmp";

    /// <summary>A temporary file's name begins with this, then the writer's process ID.</summary>
    private static string TemporaryPrefix(string path) => $".{Path.GetFileName(path)}.";

    /// <summary>
    /// Deletes the temporary files that writers of <paramref name="path"/> (and of its copy) left when they were
    /// killed or lost power between write and rename, unless the writer is this process or still running as
    /// this program. Returns the paths removed; a folder that is not there or not writable removes nothing.
    /// </summary>
    public static IReadOnlyList<string> RemoveLeftoverTemporaries(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? "/";
        var removed = new List<string>();
        foreach (var target in new[] { full, CopyPath(full) })
        {
            var prefix = TemporaryPrefix(target);
            IEnumerable<string> candidates;
            try
            {
                candidates = Directory.EnumerateFiles(directory, prefix + "*" + TemporarySuffix).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return removed;
            }
            foreach (var candidate in candidates)
            {
                var name = Path.GetFileName(candidate);
                var pidText = name.AsSpan(prefix.Length);
                var dot = pidText.IndexOf('.');
                if (dot <= 0 || !int.TryParse(pidText[..dot], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
                    || WriterIsAlive(pid))
                {
                    continue;
                }
                try
                {
                    File.Delete(candidate);
                    removed.Add(candidate);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A read-only card: left for the next start.
                }
            }
        }
        return removed;
    }

    /// <summary>This process, or a live process running this same program (PIDs are reused after a reboot).</summary>
    private static bool WriterIsAlive(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return true;
        }
        try
        {
            var exe = new FileInfo($"/proc/{pid}/exe").LinkTarget;
            return exe is not null && string.Equals(exe, Environment.ProcessPath, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
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
