using Firmware.Platform.Gre;
using Firmware.Platform.Linux;
using Firmware.Platform.Netlink;
using Firmware.Platform.Tun;

namespace Firmware.Gateway.Runtime;

/// <summary>
/// What the gateway asks of the operating system: TUN devices, the GRE transport, interface/address/route
/// changes, and the kernel settings of router mode. <see cref="Linux"/> is the real one; tests put in-memory
/// fakes here to run whole gateways in one process.
/// </summary>
/// <param name="OpenTun">Creates the named TUN interface (throws <see cref="PlatformException"/> if it cannot).</param>
/// <param name="OpenGre">The one GRE transport all tunnels share.</param>
/// <param name="OpenRouteNetlink">Interface, address and route changes.</param>
/// <param name="Kernel">ip_forward and nftables.</param>
internal sealed record GatewayPlatform(
    Func<string, ITunDevice> OpenTun,
    Func<IGreTransport> OpenGre,
    Func<IRouteNetlink> OpenRouteNetlink,
    IKernelSettings Kernel)
{
    public static GatewayPlatform Linux { get; } = new(
        name => TunDevice.Open(name),
        () => new RawGreSocket(),
        () => new RouteNetlink(),
        new LinuxKernelSettings());
}
