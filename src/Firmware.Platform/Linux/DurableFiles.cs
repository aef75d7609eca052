using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Firmware.Platform.Linux;

/// <summary>What atomic file replacement needs from the kernel beyond what .NET offers: a directory fsync, and the file system type.</summary>
public static unsafe partial class DurableFiles
{
    /// <summary>statfs(2) f_type of FAT (vfat and msdos).</summary>
    private const long MsdosSuperMagic = 0x4d44;

    /// <summary>Flushes a directory's entries (a rename, a new file) to the medium. IO errors propagate.</summary>
    public static void SyncDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var bytes = Encoding.UTF8.GetBytes(directory + "\0");
        int fd;
        fixed (byte* name = bytes)
        {
            fd = open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC, default(mode_t));
        }
        if (fd < 0)
        {
            throw new IOException($"cannot open {directory} to flush it: errno {errno}");
        }
        try
        {
            // EINVAL: the file system keeps no directory to flush (tmpfs and friends); nothing is lost.
            if (fsync(fd) != 0 && errno != EINVAL)
            {
                throw new IOException($"cannot flush {directory}: errno {errno}");
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    /// <summary>True when <paramref name="directory"/> is on FAT, where rename(2) is not atomic across a power cut.</summary>
    public static bool IsFat(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var bytes = Encoding.UTF8.GetBytes(directory + "\0");
        // struct statfs begins with f_type, a native word on every Linux ABI (little-endian on ours); 256
        // bytes hold the whole struct on each of them.
        var buffer = stackalloc nint[256 / sizeof(nint)];
        fixed (byte* name = bytes)
        {
            return StatFs(name, buffer) == 0 && (buffer[0] & 0xFFFFFFFF) == MsdosSuperMagic;
        }
    }

    [LibraryImport("libc", EntryPoint = "statfs", SetLastError = true)]
    private static partial int StatFs(byte* path, nint* buffer);
}
