using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Firmware.Platform.Linux;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Firmware.Platform.Netlink;

/// <summary>
/// A route as the gateway installs it: a destination prefix, through a gateway or straight out of an interface;
/// <paramref name="Mtu"/> (0: the interface's) is the largest packet the kernel sends that way: it answers larger
/// DF packets it forwards with ICMP "fragmentation needed" and sizes its own TCP segments and fragments to it.
/// </summary>
public sealed record RouteSpec(IPNetwork Destination, IPAddress? Gateway, int InterfaceIndex, uint Metric = 0, int Mtu = 0);

/// <summary>An interface as the kernel reports it.</summary>
public sealed record LinkState(int Index, int Mtu, bool IsUp);

/// <summary>What the kernel would do with a packet to one address (RTM_GETROUTE).</summary>
public sealed record RouteLookup(IPAddress? Gateway, int InterfaceIndex, IPAddress? PreferredSource);

/// <summary>
/// Interface, address and route changes through rtnetlink (no shelling out to `ip`). One request at a time,
/// each acknowledged; failures throw <see cref="PlatformException"/> with the errno and what was asked.
/// The socket belongs to the network namespace of the thread that created it.
/// </summary>
public sealed unsafe class RouteNetlink : IRouteNetlink
{
    /// <summary>
    /// The rtnetlink protocol number our routes carry, so `ip route show proto 157` lists exactly the routes
    /// the gateway installed, and a restart after a crash can find and remove leftovers.
    /// </summary>
    public const byte GatewayRouteProtocol = 157;

    private const int NetlinkRoute = 0;
    private const int BufferSize = 32 * 1024;
    private readonly int _fd;
    private readonly byte[] _receive = new byte[BufferSize];
    private readonly Lock _gate = new();
    private uint _sequence;

    public RouteNetlink()
    {
        _fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NetlinkRoute);
        if (_fd < 0)
        {
            throw PlatformException.FromErrno("netlink socket");
        }
        var address = stackalloc byte[12]; // struct sockaddr_nl: family, pad, pid, groups
        new Span<byte>(address, 12).Clear();
        *(ushort*)address = (ushort)AF_NETLINK;
        if (bind(_fd, (sockaddr*)address, 12) < 0)
        {
            var error = PlatformException.FromErrno("netlink bind");
            _ = close(_fd);
            throw error;
        }
    }

    /// <summary>The index of the named interface, or 0 if there is none.</summary>
    public int GetInterfaceIndex(string name) => GetLink(name)?.Index ?? 0;

    /// <summary>The named interface's index, MTU and administrative state, or null if there is none.</summary>
    public LinkState? GetLink(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Span<byte> request = stackalloc byte[128];
        var writer = new NetlinkRequestWriter(request, Rtnl.GetLink, 0, NextSequence());
        writer.LinkInfo(0, 0, 0);
        Span<byte> nameBytes = stackalloc byte[Encoding.ASCII.GetByteCount(name) + 1];
        nameBytes.Clear();
        Encoding.ASCII.GetBytes(name, nameBytes);
        writer.Attribute(Rtnl.LinkAttrIfName, nameBytes);

        LinkState? link = null;
        var errno = Exchange(writer.Finish(), (type, body) =>
        {
            if (type != Rtnl.NewLink || body.Length < Rtnl.LinkInfoSize)
            {
                return;
            }
            var index = BinaryPrimitives.ReadInt32LittleEndian(body[4..]);
            var flags = BinaryPrimitives.ReadUInt32LittleEndian(body[8..]);
            var mtu = 0;
            var attributes = new NetlinkAttributeReader(body[Rtnl.LinkInfoSize..]);
            while (attributes.TryRead(out var attribute, out var value))
            {
                if (attribute == Rtnl.LinkAttrMtu && value.Length == 4)
                {
                    mtu = BinaryPrimitives.ReadInt32LittleEndian(value);
                }
            }
            link = new LinkState(index, mtu, (flags & Rtnl.InterfaceUp) != 0);
        });
        if (errno == ENODEV)
        {
            return null;
        }
        Check(errno, $"look up interface {name}");
        return link;
    }

    /// <summary>Brings an interface up or down.</summary>
    public void SetLinkUp(int index, bool up)
    {
        Span<byte> request = stackalloc byte[64];
        var writer = new NetlinkRequestWriter(request, Rtnl.SetLink, Rtnl.FlagAck, NextSequence());
        writer.LinkInfo(index, up ? Rtnl.InterfaceUp : 0, Rtnl.InterfaceUp);
        Check(Exchange(writer.Finish(), null), $"set link {index} {(up ? "up" : "down")}");
    }

    /// <summary>Sets an interface's MTU.</summary>
    public void SetMtu(int index, int mtu)
    {
        Span<byte> request = stackalloc byte[64];
        var writer = new NetlinkRequestWriter(request, Rtnl.SetLink, Rtnl.FlagAck, NextSequence());
        writer.LinkInfo(index, 0, 0);
        writer.Attribute(Rtnl.LinkAttrMtu, (uint)mtu);
        Check(Exchange(writer.Finish(), null), $"set link {index} mtu {mtu}");
    }

    /// <summary>
    /// Adds <paramref name="local"/> to an interface; with <paramref name="peer"/> it is a point-to-point
    /// address (`ip addr add LOCAL peer PEER`), the shape a PPP link has.
    /// </summary>
    public void AddAddress(int index, IPAddress local, IPAddress? peer, byte prefixLength)
        => ChangeAddress(Rtnl.NewAddress, (ushort)(Rtnl.FlagAck | Rtnl.FlagCreate | Rtnl.FlagReplace), index, local, peer, prefixLength);

    /// <summary>Removes an address added by <see cref="AddAddress"/>.</summary>
    public void DeleteAddress(int index, IPAddress local, IPAddress? peer, byte prefixLength)
        => ChangeAddress(Rtnl.DeleteAddress, Rtnl.FlagAck, index, local, peer, prefixLength);

    /// <summary>Adds a route (fails with EEXIST if the same route exists).</summary>
    public void AddRoute(RouteSpec route) => ChangeRoute(Rtnl.NewRoute, (ushort)(Rtnl.FlagAck | Rtnl.FlagCreate | Rtnl.FlagExclusive), route);

    /// <summary>Adds a route or replaces the one with the same destination (a stale one left by a crash).</summary>
    public void ReplaceRoute(RouteSpec route) => ChangeRoute(Rtnl.NewRoute, (ushort)(Rtnl.FlagAck | Rtnl.FlagCreate | Rtnl.FlagReplace), route);

    /// <summary>
    /// Deletes every IPv4 and IPv6 route (any table) that carries <paramref name="protocol"/>: what a previous
    /// run that was killed left behind. Returns how many went. Start-up only; it allocates.
    /// </summary>
    public int DeleteRoutesOfProtocol(byte protocol)
    {
        var found = new List<byte[]>();
        Span<byte> request = stackalloc byte[64];
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            var writer = new NetlinkRequestWriter(request, Rtnl.GetRoute, Rtnl.FlagDump, NextSequence());
            writer.RouteInfo(family, 0, 0, 0, 0);
            Check(Exchange(writer.Finish(), (type, body) =>
            {
                // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
                if (type == Rtnl.NewRoute && body.Length >= Rtnl.RouteInfoSize && body[5] == protocol)
                {
                    found.Add(body.ToArray());
                }
            }), "list routes");
        }
        var deleted = 0;
        foreach (var body in found)
        {
            // The dumped message names the route exactly (table, destination, gateway, device): send it back as a delete.
            var delete = new byte[Rtnl.HeaderSize + body.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(delete, (uint)delete.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(delete.AsSpan(4), Rtnl.DeleteRoute);
            BinaryPrimitives.WriteUInt16LittleEndian(delete.AsSpan(6), (ushort)(Rtnl.FlagRequest | Rtnl.FlagAck));
            BinaryPrimitives.WriteUInt32LittleEndian(delete.AsSpan(8), NextSequence());
            body.CopyTo(delete.AsSpan(Rtnl.HeaderSize));
            var errno = Exchange(delete, null);
            if (errno == 0)
            {
                deleted++;
            }
            else if (errno != ESRCH)
            {
                Check(errno, "delete a leftover route");
            }
        }
        return deleted;
    }

    /// <summary>Removes a route; returns false if it was not there.</summary>
    public bool DeleteRoute(RouteSpec route)
    {
        ArgumentNullException.ThrowIfNull(route);
        var errno = ChangeRouteErrno(Rtnl.DeleteRoute, Rtnl.FlagAck, route);
        if (errno == ESRCH)
        {
            return false;
        }
        Check(errno, $"delete route {route.Destination}");
        return true;
    }

    /// <summary>Asks the kernel how it would reach <paramref name="destination"/>; null if unreachable.</summary>
    public RouteLookup? Lookup(IPAddress destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Span<byte> request = stackalloc byte[64];
        var writer = new NetlinkRequestWriter(request, Rtnl.GetRoute, 0, NextSequence());
        var bits = (byte)(destination.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        writer.RouteInfo(destination.AddressFamily, bits, 0, 0, 0);
        writer.Attribute(Rtnl.RouteAttrDestination, destination);

        RouteLookup? result = null;
        var errno = Exchange(writer.Finish(), (type, body) =>
        {
            if (type != Rtnl.NewRoute || body.Length < Rtnl.RouteInfoSize)
            {
                return;
            }
            IPAddress? gateway = null, source = null;
            var oif = 0;
            var attributes = new NetlinkAttributeReader(body[Rtnl.RouteInfoSize..]);
            while (attributes.TryRead(out var attribute, out var value))
            {
                switch (attribute)
                {
                    case Rtnl.RouteAttrGateway when value.Length is 4 or 16:
                        gateway = new IPAddress(value);
                        break;
                    case Rtnl.RouteAttrPreferredSource when value.Length is 4 or 16:
                        source = new IPAddress(value);
                        break;
                    case Rtnl.RouteAttrOutputInterface when value.Length == 4:
                        oif = BinaryPrimitives.ReadInt32LittleEndian(value);
                        break;
                }
            }
            result = new RouteLookup(gateway, oif, source);
        });
        if (errno == ENETUNREACH || errno == EHOSTUNREACH)
        {
            return null;
        }
        Check(errno, $"look up route to {destination}");
        return result;
    }

    public void Dispose() => _ = close(_fd);

    private void ChangeAddress(ushort type, ushort flags, int index, IPAddress local, IPAddress? peer, byte prefixLength)
    {
        ArgumentNullException.ThrowIfNull(local);
        Span<byte> request = stackalloc byte[128];
        var writer = new NetlinkRequestWriter(request, type, flags, NextSequence());
        writer.AddressInfo(local.AddressFamily, prefixLength, Rtnl.ScopeUniverse, index);
        writer.Attribute(Rtnl.AddrAttrLocal, local);
        writer.Attribute(Rtnl.AddrAttrAddress, peer ?? local);
        Check(Exchange(writer.Finish(), null), $"{(type == Rtnl.NewAddress ? "add" : "delete")} address {local}{(peer is null ? "" : $" peer {peer}")} on interface {index}");
    }

    private void ChangeRoute(ushort type, ushort flags, RouteSpec route)
    {
        ArgumentNullException.ThrowIfNull(route);
        Check(ChangeRouteErrno(type, flags, route), $"add route {route.Destination}{(route.Gateway is null ? "" : $" via {route.Gateway}")} dev {route.InterfaceIndex}");
    }

    private int ChangeRouteErrno(ushort type, ushort flags, RouteSpec route)
    {
        Span<byte> request = stackalloc byte[128];
        var writer = new NetlinkRequestWriter(request, type, flags, NextSequence());
        var destination = route.Destination;
        writer.RouteInfo(destination.BaseAddress.AddressFamily, (byte)destination.PrefixLength, GatewayRouteProtocol,
            route.Gateway is null ? Rtnl.ScopeLink : Rtnl.ScopeUniverse, Rtnl.RouteTypeUnicast);
        if (destination.PrefixLength > 0)
        {
            writer.Attribute(Rtnl.RouteAttrDestination, destination.BaseAddress);
        }
        if (route.Gateway is not null)
        {
            writer.Attribute(Rtnl.RouteAttrGateway, route.Gateway);
        }
        if (route.InterfaceIndex != 0)
        {
            writer.Attribute(Rtnl.RouteAttrOutputInterface, (uint)route.InterfaceIndex);
        }
        if (route.Metric != 0)
        {
            writer.Attribute(Rtnl.RouteAttrPriority, route.Metric);
        }
        if (route.Mtu != 0)
        {
            // RTA_METRICS nests rtattrs of RTAX_* values: here just RTAX_MTU.
            Span<byte> metrics = stackalloc byte[8];
            BinaryPrimitives.WriteUInt16LittleEndian(metrics, 8);
            BinaryPrimitives.WriteUInt16LittleEndian(metrics[2..], Rtnl.RouteMetricMtu);
            BinaryPrimitives.WriteUInt32LittleEndian(metrics[4..], (uint)route.Mtu);
            writer.Attribute(Rtnl.RouteAttrMetrics, metrics);
        }
        return Exchange(writer.Finish(), null);
    }

    private uint NextSequence() => Interlocked.Increment(ref _sequence);

    private static void Check(int errno, string what)
    {
        if (errno != 0)
        {
            throw new PlatformException(what, errno);
        }
    }

    private delegate void MessageHandler(ushort type, ReadOnlySpan<byte> body);

    /// <summary>Sends one request and reads replies with its sequence number until the ack/error or done.</summary>
    private int Exchange(ReadOnlySpan<byte> request, MessageHandler? onMessage)
    {
        lock (_gate)
        {
            var sequence = BinaryPrimitives.ReadUInt32LittleEndian(request[8..]);
            fixed (byte* p = request)
            {
                if ((long)send(_fd, p, (size_t)request.Length, 0) < 0)
                {
                    throw PlatformException.FromErrno("netlink send");
                }
            }

            var acknowledgedOnly = onMessage is null;
            while (true)
            {
                long received;
                fixed (byte* p = _receive)
                {
                    received = recv(_fd, p, (size_t)_receive.Length, 0);
                }
                if (received < 0)
                {
                    if (errno == EINTR)
                    {
                        continue;
                    }
                    throw PlatformException.FromErrno("netlink receive");
                }

                var rest = _receive.AsSpan(0, (int)received);
                while (rest.Length >= Rtnl.HeaderSize)
                {
                    var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(rest);
                    if (length < Rtnl.HeaderSize || length > rest.Length)
                    {
                        break;
                    }
                    var type = BinaryPrimitives.ReadUInt16LittleEndian(rest[4..]);
                    var flags = BinaryPrimitives.ReadUInt16LittleEndian(rest[6..]);
                    var messageSequence = BinaryPrimitives.ReadUInt32LittleEndian(rest[8..]);
                    var body = rest[Rtnl.HeaderSize..length];
                    rest = rest[Math.Min(Rtnl.Align(length), rest.Length)..];
                    if (messageSequence != sequence)
                    {
                        continue;
                    }
                    if (type == Rtnl.MessageError)
                    {
                        // struct nlmsgerr: a negative errno, 0 for an acknowledgment.
                        return body.Length >= 4 ? -BinaryPrimitives.ReadInt32LittleEndian(body) : EIO;
                    }
                    if (type == Rtnl.MessageDone)
                    {
                        return 0;
                    }
                    onMessage?.Invoke(type, body);
                    // A single (non-multipart) answer to a GET ends the exchange; a dump ends with NLMSG_DONE.
                    if (!acknowledgedOnly && (flags & Rtnl.FlagMulti) == 0)
                    {
                        return 0;
                    }
                }
            }
        }
    }
}
