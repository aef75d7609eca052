using System.Net;
using Firmware.Gateway.Server;

namespace Firmware.Gateway.Tests.Server;

public sealed class AddressPoolTests
{
    [Fact]
    public void Hands_out_lowest_free_addresses_and_skips_reserved_ones()
    {
        var pool = new AddressPool(IPAddress.Parse("10.0.0.10"), IPAddress.Parse("10.0.0.13"), [IPAddress.Parse("10.0.0.11")]);
        Assert.Equal(3, pool.Capacity);
        Assert.Equal(IPAddress.Parse("10.0.0.10"), pool.Allocate());
        Assert.Equal(IPAddress.Parse("10.0.0.12"), pool.Allocate());
        Assert.Equal(IPAddress.Parse("10.0.0.13"), pool.Allocate());
        Assert.Null(pool.Allocate());
        Assert.Equal(3, pool.InUse);

        pool.Release(IPAddress.Parse("10.0.0.12"));
        Assert.Equal(IPAddress.Parse("10.0.0.12"), pool.Allocate());
    }

    [Fact]
    public void Prefix_pool_excludes_network_and_broadcast()
    {
        var pool = AddressPool.FromPrefix(IPNetwork.Parse("192.168.77.0/30"));
        Assert.Equal(2, pool.Capacity);
        Assert.Equal(IPAddress.Parse("192.168.77.1"), pool.Allocate());
        Assert.Equal(IPAddress.Parse("192.168.77.2"), pool.Allocate());
        Assert.Null(pool.Allocate());
    }

    [Fact]
    public void Static_addresses_are_claimed_once()
    {
        var pool = AddressPool.FromPrefix(IPNetwork.Parse("10.1.0.0/24"));
        Assert.True(pool.TryClaim(IPAddress.Parse("10.1.0.1")));
        Assert.False(pool.TryClaim(IPAddress.Parse("10.1.0.1")));
        Assert.Equal(IPAddress.Parse("10.1.0.2"), pool.Allocate());
    }

    [Fact]
    public void Empty_range_and_ipv6_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new AddressPool(IPAddress.Parse("10.0.0.9"), IPAddress.Parse("10.0.0.8")));
        Assert.Throws<ArgumentException>(() => new AddressPool(IPAddress.IPv6Loopback, IPAddress.IPv6Loopback));
    }
}
