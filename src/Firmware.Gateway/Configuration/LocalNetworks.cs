using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Firmware.Gateway.Configuration;

/// <summary>An IPv4 network configured on a local interface (the LAN, the uplink).</summary>
internal sealed record LocalNetwork(string Interface, IPNetwork Network);

/// <summary>Where validation learns the local networks a pool must not overlap; tests inject a fixed list.</summary>
internal interface ILocalNetworkProvider
{
    IReadOnlyList<LocalNetwork> GetLocalNetworks();
}

/// <summary>A fixed list, for tests and for checking a file on a machine other than the board.</summary>
internal sealed class FixedLocalNetworks(params LocalNetwork[] networks) : ILocalNetworkProvider
{
    public static FixedLocalNetworks None { get; } = new();

    public IReadOnlyList<LocalNetwork> GetLocalNetworks() => networks;
}

/// <summary>Reads this machine's IPv4 interface networks through System.Net.NetworkInformation.</summary>
internal sealed class SystemLocalNetworks : ILocalNetworkProvider
{
    public static SystemLocalNetworks Instance { get; } = new();

    public IReadOnlyList<LocalNetwork> GetLocalNetworks()
    {
        var result = new List<LocalNetwork>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.NetworkInterfaceType is NetworkInterfaceType.Loopback or NetworkInterfaceType.Ppp or NetworkInterfaceType.Tunnel)
                {
                    continue;
                }
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    if (unicast.Address.AddressFamily != AddressFamily.InterNetwork || unicast.PrefixLength is <= 0 or >= 32)
                    {
                        continue;
                    }
                    var mask = uint.MaxValue << (32 - unicast.PrefixLength);
                    var baseAddress = AddressRange.ToAddress(AddressRange.ToNumber(unicast.Address) & mask);
                    result.Add(new(nic.Name, new IPNetwork(baseAddress, unicast.PrefixLength)));
                }
            }
        }
        catch (NetworkInformationException)
        {
            // No interface list (a restricted container): validation then simply cannot check overlaps.
        }
        return result;
    }
}
