using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Firmware.Platform.Linux;

/// <summary>A Linux call failed; carries the errno and names what was being done, for the log and status.</summary>
public sealed class PlatformException : Exception
{
    public PlatformException()
    {
    }

    public PlatformException(string message)
        : base(message)
    {
    }

    public PlatformException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public PlatformException(string operation, int errno)
        : base($"{operation}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
    {
        Errno = errno;
    }

    /// <summary>The Linux error number, or 0 when the failure was not a system call.</summary>
    public int Errno { get; }

    /// <summary>Throws for the current errno after a failed call.</summary>
    internal static PlatformException FromErrno(string operation) => new(operation, LibC.errno);
}
