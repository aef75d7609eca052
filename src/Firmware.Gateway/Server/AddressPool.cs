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
    private readonly (uint First, uint Last)[] _ranges;
    private readonly HashSet<uint> _reserved = [];
    private readonly HashSet<uint> _inUse = [];

    public AddressPool(IPAddress first, IPAddress last, IEnumerable<IPAddress>? reserved = null)
        : this([(first, last)], reserved)
    {
    }

    /// <summary>A pool over several ranges (a config's pool may list a few), lowest addresses first.</summary>
    public AddressPool(IEnumerable<(IPAddress First, IPAddress Last)> ranges, IEnumerable<IPAddress>? reserved = null)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        _ranges = [.. ranges.Select(r => (ToUInt32(r.First), ToUInt32(r.Last))).OrderBy(r => r.Item1)];
        foreach (var (first, last) in _ranges)
        {
            if (last < first)
            {
                throw new ArgumentException($"pool range {FromUInt32(first)}-{FromUInt32(last)} is empty", nameof(ranges));
            }
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
    public int Capacity => (int)Math.Min(int.MaxValue,
        _ranges.Sum(r => (long)r.Last - r.First + 1 - _reserved.Count(a => a >= r.First && a <= r.Last)));

    public int InUse => _inUse.Count;

    /// <summary>Takes the lowest free address; null when the pool has run dry.</summary>
    public IPAddress? Allocate()
    {
        foreach (var (first, last) in _ranges)
        {
            for (var a = (long)first; a <= last; a++)
            {
                var candidate = (uint)a;
                if (!_reserved.Contains(candidate) && _inUse.Add(candidate))
                {
                    return FromUInt32(candidate);
                }
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
