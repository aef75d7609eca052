using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Firmware.Platform.Linux;
using Firmware.Platform.Netlink;
using Firmware.Platform.Tun;

namespace Firmware.Platform.Tests;

public sealed class TunAndNetlinkTests
{
    private static readonly IPAddress Local = IPAddress.Parse("10.99.0.1");
    private static readonly IPAddress Peer = IPAddress.Parse("10.99.0.2");

    [RootFact]
    public void Tun_carries_packets_both_ways_with_address_mtu_and_link_set_by_netlink()
    {
        PrivateNetworkNamespace.Run(netlink =>
        {
            using var tun = TunDevice.Open("gwtest%d");
            Assert.StartsWith("gwtest", tun.Name, StringComparison.Ordinal);
            var index = netlink.GetInterfaceIndex(tun.Name);
            Assert.True(index > 0);
            netlink.SetMtu(index, 1400);
            netlink.AddAddress(index, Local, Peer, 32);
            netlink.SetLinkUp(index, up: true);

            // Kernel → TUN: a datagram to the peer address is routed into the device.
            using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            sender.Bind(new IPEndPoint(Local, 40000));
            sender.SendTo("hello"u8, new IPEndPoint(Peer, 50000));
            var buffer = new byte[2000];
            var length = ReadSkippingNoise(tun, buffer, IPAddress.Parse("10.99.0.2"));
            Assert.Equal(20 + 8 + 5, length);
            Assert.Equal("hello"u8.ToArray(), buffer[28..33]);

            // TUN → kernel: a datagram written to the device reaches a local socket.
            using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            receiver.Bind(new IPEndPoint(Local, 40001));
            receiver.ReceiveTimeout = 5000;
            Assert.True(tun.Write(UdpPacket(Peer, 50001, Local, 40001, "world"u8)));
            var received = new byte[100];
            var n = receiver.Receive(received);
            Assert.Equal("world"u8.ToArray(), received[..n]);

            var link = netlink.GetLink(tun.Name);
            Assert.NotNull(link);
            Assert.Equal(1400, link.Mtu);
            Assert.True(link.IsUp);
        });
    }

    [RootFact]
    public void Routes_are_added_looked_up_and_removed()
    {
        PrivateNetworkNamespace.Run(netlink =>
        {
            using var tun = TunDevice.Open("gwtest%d");
            var index = netlink.GetInterfaceIndex(tun.Name);
            netlink.AddAddress(index, Local, Peer, 32);
            netlink.SetLinkUp(index, up: true);

            var direct = new RouteSpec(IPNetwork.Parse("198.51.100.0/24"), null, index);
            var viaPeer = new RouteSpec(IPNetwork.Parse("203.0.113.0/24"), Peer, index, Metric: 50);
            Assert.Null(netlink.Lookup(IPAddress.Parse("198.51.100.7")));

            netlink.AddRoute(direct);
            netlink.AddRoute(viaPeer);
            var found = netlink.Lookup(IPAddress.Parse("198.51.100.7"));
            Assert.NotNull(found);
            Assert.Equal(index, found.InterfaceIndex);
            Assert.Null(found.Gateway);
            Assert.Equal(Peer, netlink.Lookup(IPAddress.Parse("203.0.113.9"))?.Gateway);

            var duplicate = Assert.Throws<PlatformException>(() => netlink.AddRoute(direct));
            Assert.Equal(17, duplicate.Errno); // EEXIST
            Assert.Contains("198.51.100.0/24", duplicate.Message, StringComparison.Ordinal);

            Assert.True(netlink.DeleteRoute(direct));
            Assert.False(netlink.DeleteRoute(direct));
            Assert.Null(netlink.Lookup(IPAddress.Parse("198.51.100.7")));
            Assert.True(netlink.DeleteRoute(viaPeer));
        });
    }

    [RootFact]
    public void Dispose_wakes_a_blocked_reader_and_removes_the_interface()
    {
        PrivateNetworkNamespace.Run(netlink =>
        {
            var tun = TunDevice.Open("gwtest%d");
            var name = tun.Name;
            var result = 0;
            var reader = new Thread(() => result = tun.Read(new byte[2000]));
            reader.Start();
            Thread.Sleep(100);
            var clock = Stopwatch.StartNew();
            tun.Dispose();
            Assert.True(reader.Join(TimeSpan.FromSeconds(5)), "reader still blocked after Dispose");
            Assert.Equal(-1, result);
            Assert.False(tun.Write(new byte[20]));
            Assert.Equal(0, netlink.GetInterfaceIndex(name));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        });
    }

    [Fact]
    public void Names_longer_than_the_kernel_allows_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => TunDevice.Open("a-very-long-interface-name"));
        Assert.Contains("longer than 15", error.Message, StringComparison.Ordinal);
    }

    private static int ReadSkippingNoise(TunDevice tun, byte[] buffer, IPAddress destination)
    {
        // The kernel may send its own packets (e.g. IPv6 router solicitations) into a fresh interface.
        for (var i = 0; i < 20; i++)
        {
            var n = tun.Read(buffer);
            if (n >= 20 && buffer[0] >> 4 == 4 && new IPAddress(buffer.AsSpan(16, 4)).Equals(destination))
            {
                return n;
            }
        }
        throw new InvalidOperationException("no IPv4 packet for the peer arrived");
    }

    /// <summary>An IPv4/UDP packet with a correct header checksum (UDP checksum 0: allowed over IPv4).</summary>
    internal static byte[] UdpPacket(IPAddress source, int sourcePort, IPAddress destination, int destinationPort, ReadOnlySpan<byte> payload)
    {
        var packet = new byte[28 + payload.Length];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        packet[8] = 64;
        packet[9] = 17;
        source.TryWriteBytes(packet.AsSpan(12), out _);
        destination.TryWriteBytes(packet.AsSpan(16), out _);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), Ipv4Checksum(packet.AsSpan(0, 20)));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(20), (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(22), (ushort)destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(24), (ushort)(8 + payload.Length));
        payload.CopyTo(packet.AsSpan(28));
        return packet;
    }

    private static ushort Ipv4Checksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (var i = 0; i < header.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
        }
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)~sum;
    }
}
