using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Firmware.Platform.Netlink;

/// <summary>rtnetlink message types and flags used here (linux/rtnetlink.h, linux/netlink.h).</summary>
internal static class Rtnl
{
    public const ushort NewLink = 16;
    public const ushort GetLink = 18;
    public const ushort SetLink = 19;
    public const ushort NewAddress = 20;
    public const ushort DeleteAddress = 21;
    public const ushort NewRoute = 24;
    public const ushort DeleteRoute = 25;
    public const ushort GetRoute = 26;

    public const ushort MessageError = 2;
    public const ushort MessageDone = 3;

    public const ushort FlagRequest = 0x001;
    public const ushort FlagMulti = 0x002;
    public const ushort FlagAck = 0x004;
    /// <summary>NLM_F_DUMP (ROOT | MATCH): every object of the kind.</summary>
    public const ushort FlagDump = 0x300;
    public const ushort FlagReplace = 0x100;
    public const ushort FlagExclusive = 0x200;
    public const ushort FlagCreate = 0x400;

    public const ushort LinkAttrIfName = 3;
    public const ushort LinkAttrMtu = 4;
    public const ushort AddrAttrAddress = 1;
    public const ushort AddrAttrLocal = 2;
    public const ushort RouteAttrDestination = 1;
    public const ushort RouteAttrOutputInterface = 4;
    public const ushort RouteAttrGateway = 5;
    public const ushort RouteAttrPriority = 6;
    public const ushort RouteAttrPreferredSource = 7;
    public const ushort RouteAttrMetrics = 8;
    public const ushort RouteMetricMtu = 2;
    public const ushort RouteAttrTable = 15;

    public const int HeaderSize = 16;
    public const int LinkInfoSize = 16;
    public const int AddressInfoSize = 8;
    public const int RouteInfoSize = 12;

    public const uint InterfaceUp = 0x1;
    public const byte TableMain = 254;
    public const byte ScopeUniverse = 0;
    public const byte ScopeLink = 253;
    public const byte RouteTypeUnicast = 1;

    public static int Align(int length) => (length + 3) & ~3;
}

/// <summary>
/// Builds one rtnetlink request into a caller's buffer: header, the fixed family message, then attributes.
/// Pure (no socket), so the byte layout is tested directly.
/// </summary>
internal ref struct NetlinkRequestWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public NetlinkRequestWriter(Span<byte> buffer, ushort type, ushort flags, uint sequence)
    {
        _buffer = buffer;
        _buffer[..Rtnl.HeaderSize].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer[6..], (ushort)(flags | Rtnl.FlagRequest));
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer[8..], sequence);
        _length = Rtnl.HeaderSize;
    }

    /// <summary>struct ifinfomsg.</summary>
    public void LinkInfo(int index, uint flags, uint change)
    {
        var m = Reserve(Rtnl.LinkInfoSize);
        m.Clear();
        m[0] = (byte)AddressFamily.Unspecified;
        BinaryPrimitives.WriteInt32LittleEndian(m[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(m[8..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(m[12..], change);
    }

    /// <summary>struct ifaddrmsg.</summary>
    public void AddressInfo(AddressFamily family, byte prefixLength, byte scope, int index)
    {
        var m = Reserve(Rtnl.AddressInfoSize);
        m.Clear();
        m[0] = NativeFamily(family);
        m[1] = prefixLength;
        m[3] = scope;
        BinaryPrimitives.WriteInt32LittleEndian(m[4..], index);
    }

    /// <summary>struct rtmsg.</summary>
    public void RouteInfo(AddressFamily family, byte destinationLength, byte protocol, byte scope, byte type)
    {
        var m = Reserve(Rtnl.RouteInfoSize);
        m.Clear();
        m[0] = NativeFamily(family);
        m[1] = destinationLength;
        m[4] = Rtnl.TableMain;
        m[5] = protocol;
        m[6] = scope;
        m[7] = type;
    }

    public void Attribute(ushort type, uint value)
    {
        Span<byte> v = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(v, value);
        Attribute(type, v);
    }

    public void Attribute(ushort type, IPAddress address)
    {
        Span<byte> v = stackalloc byte[16];
        address.TryWriteBytes(v, out var written);
        Attribute(type, v[..written]);
    }

    public void Attribute(ushort type, scoped ReadOnlySpan<byte> value)
    {
        var a = Reserve(Rtnl.Align(4 + value.Length));
        a.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(a, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(a[2..], type);
        value.CopyTo(a[4..]);
    }

    /// <summary>Writes the total length into the header and returns the finished message.</summary>
    public readonly ReadOnlySpan<byte> Finish()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)_length);
        return _buffer[.._length];
    }

    private Span<byte> Reserve(int length)
    {
        var span = _buffer.Slice(_length, length);
        _length += length;
        return span;
    }

    private static byte NativeFamily(AddressFamily family) => family switch
    {
        AddressFamily.InterNetwork => 2,
        AddressFamily.InterNetworkV6 => 10,
        _ => 0,
    };
}

/// <summary>Walks the attributes (struct rtattr) of a received message, bounded by its length.</summary>
internal ref struct NetlinkAttributeReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes) => _rest = attributes;

    public bool TryRead(out ushort type, out ReadOnlySpan<byte> value)
    {
        type = 0;
        value = default;
        if (_rest.Length < 4)
        {
            return false;
        }
        var length = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
        if (length < 4 || length > _rest.Length)
        {
            _rest = default;
            return false;
        }
        type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & 0x3FFF);
        value = _rest[4..length];
        _rest = _rest[Math.Min(Rtnl.Align(length), _rest.Length)..];
        return true;
    }
}
