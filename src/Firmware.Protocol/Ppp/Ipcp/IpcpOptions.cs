using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Firmware.Protocol.Ppp.Ipcp;

/// <summary>IPv4 addresses as the big-endian 32-bit values IPCP carries.</summary>
internal static class Ipv4
{
    public static uint ToUInt32(IPAddress? address)
    {
        if (address is null)
        {
            return 0;
        }

        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"{address} is not an IPv4 address", nameof(address));
        }

        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    public static IPAddress? ToAddress(uint value)
    {
        if (value == 0)
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}

/// <summary>IPCP option 3, IP-Address (RFC 1332 3.3): the server assigns the client's address by Nak.</summary>
internal sealed class IpcpAddressOption(IpcpSettings settings) : PppOption(3, "IP-Address")
{
    private readonly uint _configuredLocal = Ipv4.ToUInt32(settings.LocalAddress);
    private uint _assignToPeer = Ipv4.ToUInt32(settings.PeerAddress);
    private uint _local;
    private bool _requesting;

    /// <summary>Our address as agreed (0 if none).</summary>
    public uint Local => _local;

    /// <summary>Changes the address the server assigns (e.g. a user's static address, known after authentication).</summary>
    public void AssignPeer(IPAddress address) => _assignToPeer = Ipv4.ToUInt32(address);

    /// <summary>The peer's address as agreed (0 if none).</summary>
    public uint Peer { get; private set; }

    public override void ResetLocal()
    {
        _local = _configuredLocal;
        _requesting = true;
    }

    public override int WriteRequest(Span<byte> value)
    {
        if (!_requesting)
        {
            return -1;
        }

        BinaryPrimitives.WriteUInt32BigEndian(value, _local);
        return 4;
    }

    public override void ApplyNak(ReadOnlySpan<byte> suggested)
    {
        // A client takes the address the server assigns; a configured address is kept (the server's
        // Max-Failure then rejects the option and the configured address stands).
        if (suggested.Length == 4 && _configuredLocal == 0)
        {
            _local = BinaryPrimitives.ReadUInt32BigEndian(suggested);
        }
    }

    public override void ApplyUnrequestedNak(ReadOnlySpan<byte> suggested) => ApplyNak(suggested);

    public override void ApplyReject()
    {
        _requesting = false;
        if (_local == 0)
        {
            Fail("peer will not assign an IPv4 address");
        }
    }

    public override void ResetPeer() => Peer = 0;

    public override OptionVerdict JudgePeer(ReadOnlySpan<byte> value, Span<byte> hint, out int hintLength)
    {
        hintLength = 0;
        if (value.Length != 4)
        {
            return OptionVerdict.Reject;
        }

        var asked = BinaryPrimitives.ReadUInt32BigEndian(value);
        if (_assignToPeer != 0 && asked != _assignToPeer)
        {
            BinaryPrimitives.WriteUInt32BigEndian(hint, _assignToPeer);
            hintLength = 4;
            return OptionVerdict.Nak;
        }

        if (asked == 0)
        {
            // The peer wants an address and we have none to give.
            return OptionVerdict.Reject;
        }

        Peer = asked;
        return OptionVerdict.Ack;
    }

    public override int NakWhenMissing(Span<byte> hint)
    {
        if (_assignToPeer == 0)
        {
            return -1;
        }

        BinaryPrimitives.WriteUInt32BigEndian(hint, _assignToPeer);
        return 4;
    }
}

/// <summary>
/// IPCP options 129–132 (RFC 1877): Primary/Secondary DNS and NBNS. A client requests 0.0.0.0 and takes the
/// server's Nak; a server Naks with what it offers, or Rejects when it has nothing to offer.
/// </summary>
internal sealed class IpcpServerAddressOption(byte type, string name, bool request, IPAddress? offer) : PppOption(type, name)
{
    private readonly uint _offer = Ipv4.ToUInt32(offer);
    private uint _value;
    private bool _requesting;

    /// <summary>The address the peer gave us (0 if none).</summary>
    public uint Received => _requesting ? _value : 0;

    /// <summary>The address we gave the peer (0 if none).</summary>
    public uint Given { get; private set; }

    public override void ResetLocal()
    {
        _requesting = request;
        _value = 0;
    }

    public override int WriteRequest(Span<byte> value)
    {
        if (!_requesting)
        {
            return -1;
        }

        BinaryPrimitives.WriteUInt32BigEndian(value, _value);
        return 4;
    }

    public override void ApplyNak(ReadOnlySpan<byte> suggested)
    {
        if (suggested.Length == 4)
        {
            _value = BinaryPrimitives.ReadUInt32BigEndian(suggested);
        }
    }

    public override void ApplyReject()
    {
        _requesting = false;
        _value = 0;
    }

    public override void ResetPeer() => Given = 0;

    public override OptionVerdict JudgePeer(ReadOnlySpan<byte> value, Span<byte> hint, out int hintLength)
    {
        hintLength = 0;
        if (value.Length != 4 || _offer == 0)
        {
            return OptionVerdict.Reject;
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(value) != _offer)
        {
            BinaryPrimitives.WriteUInt32BigEndian(hint, _offer);
            hintLength = 4;
            return OptionVerdict.Nak;
        }

        Given = _offer;
        return OptionVerdict.Ack;
    }
}

/// <summary>
/// IPCP option 2, IP-Compression-Protocol (RFC 1332 3.2): Van Jacobson compression is not implemented, so
/// the peer's request is rejected and a Nak suggesting it is ignored.
/// </summary>
internal sealed class IpcpCompressionOption() : PppOption(2, "IP-Compression-Protocol")
{
    public override OptionVerdict JudgePeer(ReadOnlySpan<byte> value, Span<byte> hint, out int hintLength)
    {
        hintLength = 0;
        return OptionVerdict.Reject;
    }
}
