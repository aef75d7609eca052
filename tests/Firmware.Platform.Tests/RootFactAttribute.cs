using Tmds.Linux;

namespace Firmware.Platform.Tests;

/// <summary>
/// A test that needs root (network namespaces, TUN, raw sockets): without it, `dotnet test` reports it
/// skipped rather than failed. CI runs as root, and scripts/test counts a skip as a hole in the suite.
/// </summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (LibC.geteuid() != 0)
        {
            Skip = "needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_RAW): run as root, as CI does";
        }
    }
}
