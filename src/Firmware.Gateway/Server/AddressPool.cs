using System.Buffers.Binary;
using System.Net;

namespace Firmware.Gateway.Server;

/// <summary>
/// The IPv4 addresses handed to clients: a contiguous range, minus addresses reserved elsewhere (the server's
/// own tunnel address, users' static addresses). Allocation takes the lowest free address so a reconnecting
/// client tends to get its old one back; not thread-safe (the server's loop owns it).
/// </summary>
public sealed class AddressPool
{
    private readonly uint _first;
    private readonly uint _last;
    private readonly HashSet<uint> _reserved = [];
    private readonly HashSet<uint> _inUse = [];

    public AddressPool(IPAddress first, IPAddress last, IEnumerable<IPAddress>? reserved = null)
    {
        _first = ToUInt32(first);
        _last = ToUInt32(last);
        if (_last < _first)
        {
            throw new ArgumentException($"pool range {first}-{last} is empty", nameof(last));
        }
        foreach (var address in reserved ?? [])
        {
            _reserved.Add(ToUInt32(address));
        }
    }

    /// <summary>A pool over a prefix's usable hosts (network and broadcast excluded for prefixes shorter than /31).</summary>
    public static AddressPool FromPrefix(IPNetwork prefix, IEnumerable<IPAddress>? reserved = null)
    {
        var network = ToUInt32(prefix.BaseAddress);
        var size = prefix.PrefixLength == 0 ? uint.MaxValue : (1u << (32 - prefix.PrefixLength)) - 1;
        var (first, last) = prefix.PrefixLength >= 31 ? (network, network + size) : (network + 1, network + size - 1);
        return new AddressPool(FromUInt32(first), FromUInt32(last), reserved);
    }

    /// <summary>Addresses the pool could hand out when empty.</summary>
    public int Capacity => (int)Math.Min(int.MaxValue, (long)_last - _first + 1 - _reserved.Count(a => a >= _first && a <= _last));

    public int InUse => _inUse.Count;

    /// <summary>Takes the lowest free address; null when the pool has run dry.</summary>
    public IPAddress? Allocate()
    {
        for (var a = (long)_first; a <= _last; a++)
        {
            var candidate = (uint)a;
            if (!_reserved.Contains(candidate) && _inUse.Add(candidate))
            {
                return FromUInt32(candidate);
            }
        }
        return null;
    }

    /// <summary>Claims a specific address (a user's static one); false if it is taken.</summary>
    public bool TryClaim(IPAddress address) => _inUse.Add(ToUInt32(address));

    /// <summary>Returns an address; returning one that is not in use is harmless.</summary>
    public void Release(IPAddress address) => _inUse.Remove(ToUInt32(address));

    private static uint ToUInt32(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written) || written != 4)
        {
            throw new ArgumentException($"{address} is not an IPv4 address", nameof(address));
        }
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    private static IPAddress FromUInt32(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
