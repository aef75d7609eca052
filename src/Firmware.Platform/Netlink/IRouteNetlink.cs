using System.Net;

namespace Firmware.Platform.Netlink;

/// <summary>
/// The interface, address and route changes the gateway makes: <see cref="RouteNetlink"/> on Linux,
/// <see cref="Testing.FakeRouteNetlink"/> in tests. Failures throw <see cref="Linux.PlatformException"/>.
/// </summary>
public interface IRouteNetlink : IDisposable
{
    /// <summary>The index of the named interface, or 0 if there is none.</summary>
    int GetInterfaceIndex(string name);

    void SetLinkUp(int index, bool up);

    void SetMtu(int index, int mtu);

    void AddAddress(int index, IPAddress local, IPAddress? peer, byte prefixLength);

    void AddRoute(RouteSpec route);

    /// <summary>Adds the route, or replaces one to the same destination.</summary>
    void ReplaceRoute(RouteSpec route);

    /// <summary>Removes a route; returns false if it was not there.</summary>
    bool DeleteRoute(RouteSpec route);

    /// <summary>Deletes every route that carries <paramref name="protocol"/>; returns how many went.</summary>
    int DeleteRoutesOfProtocol(byte protocol);

    /// <summary>How a packet to <paramref name="destination"/> would leave; null if unreachable.</summary>
    RouteLookup? Lookup(IPAddress destination);
}
