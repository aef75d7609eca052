using System.Runtime.InteropServices;

namespace Firmware.Platform.Linux;

/// <summary>
/// Unpredictable bytes from the kernel's getrandom(2), straight from libc. .NET's RandomNumberGenerator reads
/// OpenSSL on Linux, and the Native AOT binary would then need libssl at run time (and abort without it):
/// the gateway needs nothing beyond libc.
/// </summary>
public static partial class SystemRandom
{
    private const int Eintr = 4;

    /// <summary>Fills <paramref name="destination"/>; blocks only until the kernel's pool is first seeded at boot.</summary>
    public static unsafe void Fill(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            nint got;
            fixed (byte* buffer = destination)
            {
                got = GetRandom(buffer, (nuint)destination.Length, 0);
            }
            if (got < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Eintr)
                {
                    continue;
                }
                throw new PlatformException("getrandom", errno);
            }
            destination = destination[(int)got..];
        }
    }

    [LibraryImport("libc", EntryPoint = "getrandom", SetLastError = true)]
    private static unsafe partial nint GetRandom(byte* buffer, nuint length, uint flags);
}
