using System.Net;
using Firmware.Platform.Linux;
using Tmds.Linux;

namespace Firmware.Platform.Netlink.Testing;

/// <summary>An address as <see cref="IRouteNetlink.AddAddress"/> set it.</summary>
public sealed record FakeAddress(int InterfaceIndex, IPAddress Local, IPAddress? Peer, byte PrefixLength);

/// <summary>
/// One host's interfaces, addresses and routes in memory, for tests: records what the gateway changes so a
/// test can assert what is there and that it is gone at teardown. Like the kernel, removing a link (its TUN
/// closed) takes the link's addresses and routes with it; a route on another link (e.g. a client's host
/// route to its server via the old gateway) stays until it is deleted.
/// </summary>
public sealed class FakeRouteNetlink : IRouteNetlink
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkState> _links = new(StringComparer.Ordinal);
    private readonly List<FakeAddress> _addresses = [];
    /// <summary>Routes the gateway installed (rtnetlink protocol 157).</summary>
    private readonly List<RouteSpec> _routes = [];
    /// <summary>Routes the system had before the gateway ran (not the gateway's to remove).</summary>
    private readonly List<RouteSpec> _systemRoutes = [];
    private int _nextIndex = 1;

    /// <summary>Creates an interface (as opening a TUN or an existing NIC does); returns its index.</summary>
    public int AddLink(string name)
    {
        lock (_gate)
        {
            if (_links.ContainsKey(name))
            {
                throw new PlatformException($"create {name}", LibC.EEXIST);
            }
            var index = ++_nextIndex;
            _links[name] = new LinkState(index, 1500, IsUp: false);
            return index;
        }
    }

    /// <summary>Deletes an interface, and with it its addresses and the routes through it.</summary>
    public void RemoveLink(string name)
    {
        lock (_gate)
        {
            if (_links.Remove(name, out var link))
            {
                _addresses.RemoveAll(a => a.InterfaceIndex == link.Index);
                _routes.RemoveAll(r => r.InterfaceIndex == link.Index);
                _systemRoutes.RemoveAll(r => r.InterfaceIndex == link.Index);
            }
        }
    }

    /// <summary>A route the system had before the gateway started (e.g. the default route via the LAN).</summary>
    public void AddSystemRoute(RouteSpec route)
    {
        lock (_gate)
        {
            _systemRoutes.Add(route);
        }
    }

    public IReadOnlyDictionary<string, LinkState> Links
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, LinkState>(_links, StringComparer.Ordinal);
            }
        }
    }

    public IReadOnlyList<FakeAddress> Addresses
    {
        get
        {
            lock (_gate)
            {
                return [.. _addresses];
            }
        }
    }

    /// <summary>The routes the gateway installed and has not removed.</summary>
    public IReadOnlyList<RouteSpec> Routes
    {
        get
        {
            lock (_gate)
            {
                return [.. _routes];
            }
        }
    }

    public LinkState? Link(string name)
    {
        lock (_gate)
        {
            return _links.GetValueOrDefault(name);
        }
    }

    public int GetInterfaceIndex(string name)
    {
        lock (_gate)
        {
            return _links.TryGetValue(name, out var link) ? link.Index : 0;
        }
    }

    public void SetLinkUp(int index, bool up) => ChangeLink(index, "set link up", link => link with { IsUp = up });

    public void SetMtu(int index, int mtu) => ChangeLink(index, "set mtu", link => link with { Mtu = mtu });

    public void AddAddress(int index, IPAddress local, IPAddress? peer, byte prefixLength)
    {
        lock (_gate)
        {
            RequireLink(index, $"add address {local}");
            if (_addresses.Exists(a => a.InterfaceIndex == index && a.Local.Equals(local)))
            {
                throw new PlatformException($"add address {local}", LibC.EEXIST);
            }
            _addresses.Add(new FakeAddress(index, local, peer, prefixLength));
        }
    }

    public void AddRoute(RouteSpec route)
    {
        ArgumentNullException.ThrowIfNull(route);
        lock (_gate)
        {
            RequireLink(route.InterfaceIndex, $"add route {route.Destination}");
            if (_routes.Exists(r => r.Destination.Equals(route.Destination)) || _systemRoutes.Exists(r => r.Destination.Equals(route.Destination)))
            {
                throw new PlatformException($"add route {route.Destination}", LibC.EEXIST);
            }
            _routes.Add(route);
        }
    }

    public void ReplaceRoute(RouteSpec route)
    {
        ArgumentNullException.ThrowIfNull(route);
        lock (_gate)
        {
            RequireLink(route.InterfaceIndex, $"replace route {route.Destination}");
            _routes.RemoveAll(r => r.Destination.Equals(route.Destination));
            _routes.Add(route);
        }
    }

    public bool DeleteRoute(RouteSpec route)
    {
        ArgumentNullException.ThrowIfNull(route);
        lock (_gate)
        {
            return _routes.RemoveAll(r => r.Destination.Equals(route.Destination) && r.InterfaceIndex == route.InterfaceIndex) > 0;
        }
    }

    public int DeleteRoutesOfProtocol(byte protocol)
    {
        lock (_gate)
        {
            if (protocol != RouteNetlink.GatewayRouteProtocol)
            {
                return 0;
            }
            var count = _routes.Count;
            _routes.Clear();
            return count;
        }
    }

    public RouteLookup? Lookup(IPAddress destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        lock (_gate)
        {
            // The longest matching prefix wins, as in the kernel's main table.
            var best = _routes.Concat(_systemRoutes)
                .Where(r => r.Destination.Contains(destination))
                .MaxBy(r => r.Destination.PrefixLength);
            return best is null ? null : new RouteLookup(best.Gateway, best.InterfaceIndex, null);
        }
    }

    public void Dispose()
    {
    }

    private void ChangeLink(int index, string operation, Func<LinkState, LinkState> change)
    {
        lock (_gate)
        {
            var name = RequireLink(index, operation);
            _links[name] = change(_links[name]);
        }
    }

    private string RequireLink(int index, string operation)
    {
        foreach (var (name, link) in _links)
        {
            if (link.Index == index)
            {
                return name;
            }
        }
        throw new PlatformException(operation, LibC.ENODEV);
    }
}
