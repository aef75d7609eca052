using System.Runtime.ExceptionServices;
using Firmware.Platform.Netlink;
using Tmds.Linux;

namespace Firmware.Platform.Tests;

/// <summary>
/// Runs test code on a thread that has its own, empty network namespace (unshare(CLONE_NEWNET) affects only
/// the calling thread), so TUN devices, addresses and routes never touch the machine's real network and
/// vanish with the thread. Sockets opened on that thread belong to the namespace for their lifetime.
/// Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN), as CI has.
/// </summary>
internal static class PrivateNetworkNamespace
{
    public static void Run(Action<RouteNetlink> body)
    {
        Assert.True(Environment.UserName == "root" || LibC.geteuid() == 0,
            "network-namespace tests need root (CI runs as root; run scripts/test as root)");

        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                if (LibC.unshare(LibC.CLONE_NEWNET) != 0)
                {
                    throw new InvalidOperationException($"unshare(CLONE_NEWNET) failed: errno {LibC.errno}");
                }
                using var netlink = new RouteNetlink();
                netlink.SetLinkUp(netlink.GetInterfaceIndex("lo"), up: true);
                body(netlink);
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "namespace test did not finish in 60 s");
        failure?.Throw();
    }
}
