using System.Net;
using Firmware.Gateway.Runtime;
using Firmware.Platform.Gre.Testing;
using Firmware.Platform.Linux.Testing;
using Firmware.Platform.Netlink.Testing;
using Firmware.Platform.Tun.Testing;

namespace Firmware.Gateway.Tests.InProcess;

/// <summary>
/// One machine in memory for a gateway: its interfaces and routes, its kernel settings, the TUNs it opened
/// and its GRE address on a shared <see cref="MemoryGreNetwork"/>.
/// </summary>
internal sealed class FakeHost
{
    private readonly MemoryGreNetwork _network;
    private readonly List<MemoryTun> _tuns = [];

    public FakeHost(MemoryGreNetwork network, IPAddress address)
    {
        _network = network;
        Address = address;
        Platform = new GatewayPlatform(OpenTun, OpenGre, () => Routes, Kernel);
    }

    public IPAddress Address { get; }

    public FakeRouteNetlink Routes { get; } = new();

    public FakeKernelSettings Kernel { get; } = new() { HasNft = false };

    public GatewayPlatform Platform { get; }

    /// <summary>Every TUN the gateway opened, closed ones included.</summary>
    public IReadOnlyList<MemoryTun> Tuns
    {
        get
        {
            lock (_tuns)
            {
                return [.. _tuns];
            }
        }
    }

    /// <summary>The open TUN named <paramref name="name"/>, waiting for the gateway to create it.</summary>
    public MemoryTun Tun(string name)
    {
        MemoryTun? found = null;
        ConfigurationWait(() => (found = Tuns.LastOrDefault(t => t.Name == name && !t.IsDisposed)) is not null, $"TUN {name}");
        return found!;
    }

    private static void ConfigurationWait(Func<bool> condition, string what)
        => Configuration.ConfigTestSupport.WaitUntil(condition, what, GatewayPair.Timeout);

    private MemoryTun OpenTun(string name)
    {
        Routes.AddLink(name); // throws "exists", as the kernel would for a name in use
        var tun = new MemoryTun(name);
        tun.Closed += t => Routes.RemoveLink(t.Name);
        lock (_tuns)
        {
            _tuns.Add(tun);
        }
        return tun;
    }

    private MemoryGreTransport OpenGre() => _network.Attach(Address);
}
