using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Firmware.Platform.Linux;

/// <summary>
/// Opens a file for reading only when it is a regular file. A FIFO, a device or a socket in its place is
/// refused from its stat alone, without an open (opening a FIFO for reading blocks until a writer comes;
/// reading a device may never end). The open itself never blocks (O_NONBLOCK), and the descriptor is checked
/// again, since the name may have been replaced between the stat and the open.
/// </summary>
public static unsafe class RegularFile
{
    /// <summary>The stream, or null with the reason a person can act on (the file is missing, is a FIFO, ...).</summary>
    public static FileStream? OpenForRead(string path, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        statx buffer;
        fixed (byte* name = bytes)
        {
            if (statx(AT_FDCWD, name, 0, STATX_TYPE | STATX_SIZE, &buffer) != 0)
            {
                var error = errno;
                problem = error == ENOENT && !Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(path)))
                    ? "the folder holding the file does not exist"
                    : Describe(error);
                return null;
            }
            if (Kind(buffer.stx_mode) is { } kind)
            {
                problem = $"it is {kind}, not a regular file; refusing to read it";
                return null;
            }

            int fd;
            do
            {
                fd = open(name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, default(mode_t));
            }
            while (fd < 0 && errno == EINTR);
            if (fd < 0)
            {
                problem = Describe(errno);
                return null;
            }

            var handle = new SafeFileHandle(fd, ownsHandle: true);
            fixed (byte* empty = "\0"u8)
            {
                if (statx(fd, empty, AT_EMPTY_PATH, STATX_TYPE, &buffer) != 0 || Kind(buffer.stx_mode) is not null)
                {
                    handle.Dispose();
                    problem = "it changed into something other than a regular file while being opened; refusing to read it";
                    return null;
                }
            }
            problem = null;
            return new FileStream(handle, FileAccess.Read, bufferSize: 0);
        }
    }

    /// <summary>Null for a regular file, else what it is, in words (the S_IF* file types of stat(2)).</summary>
    private static string? Kind(ushort mode) => (mode & 0xF000) switch
    {
        0x8000 => null,
        0x4000 => "a folder",
        0x1000 => "a FIFO (named pipe)",
        0x2000 => "a character device",
        0x6000 => "a block device",
        0xC000 => "a socket",
        _ => "a special file",
    };

    private static string Describe(int error)
    {
        if (error == ENOENT)
        {
            return "the file does not exist";
        }
        if (error == ENOTDIR)
        {
            return "a part of the path is not a folder";
        }
        return error == EACCES || error == EPERM
            ? "cannot read the file: permission denied"
            : $"cannot read the file: {Marshal.GetPInvokeErrorMessage(error)} (errno {error})";
    }
}
