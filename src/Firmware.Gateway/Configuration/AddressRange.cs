using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Firmware.Gateway.Configuration;

/// <summary>An inclusive range of IPv4 addresses, held as host-order numbers.</summary>
internal readonly record struct AddressRange(uint First, uint Last)
{
    public IPAddress FirstAddress => ToAddress(First);

    public IPAddress LastAddress => ToAddress(Last);

    public long Count => (long)Last - First + 1;

    public bool Contains(uint address) => address >= First && address <= Last;

    public bool Overlaps(AddressRange other) => First <= other.Last && other.First <= Last;

    public static AddressRange Single(IPAddress address) => new(ToNumber(address), ToNumber(address));

    public static AddressRange FromNetwork(IPNetwork network)
    {
        var first = ToNumber(network.BaseAddress);
        var hostBits = 32 - network.PrefixLength;
        var last = hostBits == 32 ? uint.MaxValue : first | ((1u << hostBits) - 1);
        return new(first, last);
    }

    /// <summary>
    /// Parses "10.0.0.0/24", "10.0.0.5-10.0.0.20", pptpd's "10.0.0.5-20" (last octet only) or one address.
    /// Returns an error message a person can act on, or null.
    /// </summary>
    public static string? TryParse(string text, out AddressRange range)
    {
        ArgumentNullException.ThrowIfNull(text);
        range = default;
        text = text.Trim();
        if (text.Contains('/', StringComparison.Ordinal))
        {
            var problem = TryParseNetwork(text, out var network);
            if (problem is null)
            {
                range = FromNetwork(network);
            }
            return problem;
        }

        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            if (!TryParseIPv4(text, out var single))
            {
                return $"'{text}' is not an IPv4 address, CIDR prefix or range";
            }
            range = Single(single);
            return null;
        }

        var left = text[..dash].Trim();
        var right = text[(dash + 1)..].Trim();
        if (!TryParseIPv4(left, out var firstAddress))
        {
            return $"'{left}' in range '{text}' is not an IPv4 address";
        }

        uint last;
        if (byte.TryParse(right, NumberStyles.None, CultureInfo.InvariantCulture, out var lastOctet))
        {
            last = (ToNumber(firstAddress) & 0xFFFFFF00u) | lastOctet;
        }
        else if (TryParseIPv4(right, out var lastAddress))
        {
            last = ToNumber(lastAddress);
        }
        else
        {
            return $"'{right}' in range '{text}' is not an IPv4 address or last octet";
        }

        var first = ToNumber(firstAddress);
        if (last < first)
        {
            return $"range '{text}' ends before it starts";
        }
        range = new(first, last);
        return null;
    }

    /// <summary>Parses "a.b.c.d/n" and insists the host bits are zero, since a typo there is the usual mistake.</summary>
    public static string? TryParseNetwork(string text, out IPNetwork network)
    {
        ArgumentNullException.ThrowIfNull(text);
        network = default;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || !TryParseIPv4(text[..slash], out var address)
            || !int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix > 32)
        {
            return $"'{text}' is not an IPv4 CIDR prefix like 192.168.100.0/24";
        }

        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        var number = ToNumber(address);
        if ((number & ~mask) != 0)
        {
            return $"'{text}' has host bits set; did you mean {ToAddress(number & mask)}/{prefix}?";
        }
        network = new IPNetwork(address, prefix);
        return null;
    }

    /// <summary>Dotted-quad IPv4 only: IPAddress.TryParse would also take "10" or "1.2.3" and IPv6.</summary>
    public static bool TryParseIPv4(string text, out IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(text);
        address = IPAddress.None;
        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            return false;
        }
        foreach (var part in parts)
        {
            if (part.Length is 0 or > 3 || !byte.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                return false;
            }
        }
        if (!IPAddress.TryParse(text, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetwork)
        {
            return false;
        }
        address = parsed;
        return true;
    }

    public static uint ToNumber(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[4];
        return address.TryWriteBytes(bytes, out var written) && written == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : 0;
    }

    public static IPAddress ToAddress(uint number)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, number);
        return new IPAddress(bytes);
    }

    public override string ToString() =>
        First == Last ? FirstAddress.ToString() : $"{FirstAddress}-{LastAddress}";
}
