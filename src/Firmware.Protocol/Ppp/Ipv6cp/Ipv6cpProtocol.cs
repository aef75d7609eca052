using System.Buffers.Binary;

namespace Firmware.Protocol.Ppp.Ipv6cp;

/// <summary>What our IPv6CP asks for (RFC 5072).</summary>
public sealed record Ipv6cpSettings
{
    /// <summary>Run IPv6CP at all; when false IPv6CP packets are Protocol-Rejected.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Our interface identifier; null picks a random one per negotiation.</summary>
    public ulong? InterfaceId { get; init; }
}

/// <summary>IPv6CP option 1, Interface-Identifier (RFC 5072 4.1), with collision handling.</summary>
internal sealed class Ipv6cpInterfaceIdOption(Ipv6cpSettings settings, PppRandomFill random) : PppOption(1, "Interface-Identifier")
{
    private ulong _local;
    private bool _requesting;

    /// <summary>Our identifier as agreed.</summary>
    public ulong Local => _local;

    /// <summary>The peer's identifier as agreed.</summary>
    public ulong Peer { get; private set; }

    public override void ResetLocal()
    {
        _local = settings.InterfaceId is { } id and not 0 ? id : NewIdentifier(0);
        _requesting = true;
    }

    public override int WriteRequest(Span<byte> value)
    {
        if (!_requesting)
        {
            return -1;
        }

        BinaryPrimitives.WriteUInt64BigEndian(value, _local);
        return 8;
    }

    public override void ApplyNak(ReadOnlySpan<byte> suggested)
    {
        // The peer saw a collision (or dislikes ours) and suggests one: take it unless it is zero.
        if (suggested.Length == 8 && BinaryPrimitives.ReadUInt64BigEndian(suggested) is var id && id != 0)
        {
            _local = id;
        }
    }

    public override void ApplyReject() => _requesting = false;

    public override void ResetPeer() => Peer = 0;

    public override OptionVerdict JudgePeer(ReadOnlySpan<byte> value, Span<byte> hint, out int hintLength)
    {
        hintLength = 0;
        if (value.Length != 8)
        {
            return OptionVerdict.Reject;
        }

        var id = BinaryPrimitives.ReadUInt64BigEndian(value);
        if (id == 0 || (_requesting && id == _local))
        {
            // Zero asks us to choose; equal to ours is a collision: suggest a fresh random one (RFC 5072 4.1).
            BinaryPrimitives.WriteUInt64BigEndian(hint, NewIdentifier(id));
            hintLength = 8;
            return OptionVerdict.Nak;
        }

        Peer = id;
        return OptionVerdict.Ack;
    }

    private ulong NewIdentifier(ulong avoid)
    {
        Span<byte> bytes = stackalloc byte[8];
        for (var attempt = 0; attempt < 8; attempt++)
        {
            random(bytes);
            var id = BinaryPrimitives.ReadUInt64BigEndian(bytes);
            if (id != 0 && id != avoid && id != _local)
            {
                return id;
            }
        }

        // A broken random source must not stall negotiation.
        return (_local ^ avoid) + 1 is var fallback && fallback != 0 && fallback != _local ? fallback : 2;
    }
}

/// <summary>IPv6CP option 2, IPv6-Compression-Protocol: not implemented, always rejected.</summary>
internal sealed class Ipv6cpCompressionOption() : PppOption(2, "IPv6-Compression-Protocol")
{
    public override OptionVerdict JudgePeer(ReadOnlySpan<byte> value, Span<byte> hint, out int hintLength)
    {
        hintLength = 0;
        return OptionVerdict.Reject;
    }
}

/// <summary>The IPv6 Control Protocol (RFC 5072): interface identifiers only.</summary>
public sealed class Ipv6cpProtocol : ControlProtocol
{
    private readonly Ipv6cpInterfaceIdOption _interfaceId;

    /// <param name="settings">Our identifier policy.</param>
    /// <param name="automaton">Restart timer and counters.</param>
    /// <param name="time">Time source.</param>
    /// <param name="output">Where packets go.</param>
    /// <param name="random">Source of random identifiers.</param>
    /// <param name="dispatch">Posts timer expiries into the session's loop.</param>
    public Ipv6cpProtocol(Ipv6cpSettings settings, PppAutomatonSettings automaton, TimeProvider time, IPppControlOutput output, PppRandomFill random, Action<Action>? dispatch = null)
        : base(PppProtocol.Ipv6cp, "IPv6CP", automaton, time, output, dispatch)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(random);
        _interfaceId = new Ipv6cpInterfaceIdOption(settings, random);
        AddOption(_interfaceId);
        AddOption(new Ipv6cpCompressionOption());
    }

    /// <summary>Our interface identifier (valid once Opened).</summary>
    public ulong LocalInterfaceId => _interfaceId.Local;

    /// <summary>The peer's interface identifier (valid once Opened).</summary>
    public ulong PeerInterfaceId => _interfaceId.Peer;
}
