using System.Buffers.Binary;
using Firmware.Protocol.Auth;

namespace Firmware.Protocol.Ppp.Lcp;

/// <summary>LCP option 1, Maximum-Receive-Unit (RFC 1661 6.1).</summary>
internal sealed class LcpMruOption(LcpSettings settings) : PppOption(1, "MRU")
{
    private int _value = LcpSettings.DefaultMru;
    private bool _requesting;

    /// <summary>The MRU the peer agreed we receive.</summary>
    public int LocalMru => _requesting ? _value : LcpSettings.DefaultMru;

    /// <summary>The MRU the peer asked for: the largest packet we may send.</summary>
    public int PeerMru { get; private set; } = LcpSettings.DefaultMru;

    public override void ResetLocal()
    {
        _value = settings.Mru;
        _requesting = settings.Mru != LcpSettings.DefaultMru;
    }

    public override int WriteRequest(Span<byte> value)
    {
        if (!_requesting)
        {
            return -1;
        }

        BinaryPrimitives.WriteUInt16BigEndian(value, (ushort)_value);
        return 2;
    }

    public override void ApplyNak(ReadOnlySpan<byte> suggested)
    {
        // Every implementation must receive 1500 octets (RFC 1661 6.1), so any suggestion up to that (or our
        // larger configured MRU) is fine; one outside is ignored and the peer's Max-Failure ends the loop.
        if (suggested.Length == 2 && BinaryPrimitives.ReadUInt16BigEndian(suggested) is var mru && Acceptable(mru))
        {
            _value = mru;
        }
    }

    public override void ApplyUnrequestedNak(ReadOnlySpan<byte> suggested)
    {
        if (suggested.Length == 2 && BinaryPrimitives.ReadUInt16BigEndian(suggested) is var mru && Acceptable(mru))
        {
            _value = mru;
            _requesting = true;
        }
    }

    private bool Acceptable(int mru) => mru >= settings.MinimumMru && mru <= Math.Max(settings.Mru, LcpSettings.DefaultMru);

    public override void ApplyReject()
    {
        _requesting = false;
        _value = LcpSettings.DefaultMru;
    }

    public override void ResetPeer() => PeerMru = LcpSettings.DefaultMru;

    public override OptionVerdict JudgePeer(ReadOnlySpan<byte> value, Span<byte> hint, out int hintLength)
    {
        hintLength = 0;
        if (value.Length != 2)
        {
            return OptionVerdict.Reject;
        }

        int mru = BinaryPrimitives.ReadUInt16BigEndian(value);
        if (mru < settings.MinimumMru)
        {
            BinaryPrimitives.WriteUInt16BigEndian(hint, (ushort)settings.MinimumMru);
            hintLength = 2;
            return OptionVerdict.Nak;
        }

        PeerMru = mru;
        return OptionVerdict.Ack;
    }
}

/// <summary>LCP option 2, Async-Control-Character-Map (RFC 1662 7.1): meaningless inside GRE; accepted and ignored.</summary>
internal sealed class LcpAccmOption() : PppOption(2, "ACCM")
{
    public override OptionVerdict JudgePeer(ReadOnlySpan<byte> value, Span<byte> hint, out int hintLength)
    {
        hintLength = 0;
        return value.Length == 4 ? OptionVerdict.Ack : OptionVerdict.Reject;
    }
}

/// <summary>LCP option 3, Authentication-Protocol (RFC 1661 6.2), driven by an <see cref="AuthPolicy"/>.</summary>
internal sealed class LcpAuthenticationOption(AuthPolicy policy) : PppOption(3, "Authentication-Protocol")
{
    private int _index;
    private bool _requesting;
    private ulong _tried;

    /// <summary>What the peer agreed to authenticate with (valid once LCP is Opened).</summary>
    public AuthMethod Demanded => _requesting ? policy.Demand[_index] : AuthMethod.None;

    /// <summary>What the peer asked us to authenticate with, and we agreed to.</summary>
    public AuthMethod Accepted { get; private set; }

    /// <summary>Why we refused the peer's latest demand, if we did.</summary>
    public string? Disagreement { get; private set; }

    public void ClearDisagreement() => Disagreement = null;

    public override void ResetLocal()
    {
        _index = 0;
        _tried = 1;
        _requesting = policy.Demand.Count > 0;
    }

    public override int WriteRequest(Span<byte> value) => _requesting ? AuthProtocolCodec.Write(policy.Demand[_index], value) : -1;

    public override void ApplyNak(ReadOnlySpan<byte> suggested)
    {
        if (!_requesting)
        {
            return;
        }

        // Take the peer's suggestion if our policy has it; otherwise our next preference not yet tried.
        var next = -1;
        if (AuthProtocolCodec.TryDecode(suggested, out var offered))
        {
            next = IndexOf(offered);
        }

        if (next < 0 || (_tried & (1UL << next)) != 0)
        {
            next = -1;
            for (var i = 0; i < policy.Demand.Count && i < 64; i++)
            {
                if ((_tried & (1UL << i)) == 0)
                {
                    next = i;
                    break;
                }
            }
        }

        if (next < 0)
        {
            Fail($"peer refused {AuthProtocolCodec.Describe(policy.Demand)} (it offered {AuthProtocolCodec.Describe(suggested)})");
            return;
        }

        _index = next;
        _tried |= 1UL << next;
    }

    public override void ApplyReject()
    {
        if (_requesting)
        {
            Fail($"peer refused to authenticate (it rejected {AuthProtocolCodec.Describe(policy.Demand)} and every other method)");
        }
    }

    public override void ResetPeer() => Accepted = AuthMethod.None;

    public override OptionVerdict JudgePeer(ReadOnlySpan<byte> value, Span<byte> hint, out int hintLength)
    {
        hintLength = 0;
        if (AuthProtocolCodec.TryDecode(value, out var method) && policy.Accept.Contains(method))
        {
            Accepted = method;
            return OptionVerdict.Ack;
        }

        if (policy.Accept.Count == 0)
        {
            Disagreement = $"peer demands {AuthProtocolCodec.Describe(value)} but local policy does not authenticate to peers";
            return OptionVerdict.Reject;
        }

        Disagreement = $"peer demands {AuthProtocolCodec.Describe(value)} but local policy accepts only {AuthProtocolCodec.Describe(policy.Accept)}";
        hintLength = AuthProtocolCodec.Write(policy.Accept[0], hint);
        return OptionVerdict.Nak;
    }

    private int IndexOf(AuthMethod method)
    {
        for (var i = 0; i < policy.Demand.Count; i++)
        {
            if (policy.Demand[i] == method)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>LCP option 5, Magic-Number (RFC 1661 6.4), with loop-back detection.</summary>
internal sealed class LcpMagicNumberOption(LcpSettings settings, PppRandomFill random) : PppOption(5, "Magic-Number")
{
    private uint _magic;
    private bool _requesting;
    private uint _lastNakSuggestion;
    private int _collisions;

    /// <summary>Our magic number (0 when not negotiated).</summary>
    public uint LocalMagic => _requesting ? _magic : 0;

    /// <summary>The peer's magic number (0 when not negotiated).</summary>
    public uint PeerMagic { get; private set; }

    public void ResetLoopDetection()
    {
        _collisions = 0;
        _lastNakSuggestion = 0;
    }

    public override void ResetLocal()
    {
        _requesting = settings.UseMagicNumber;
        _magic = _requesting ? NewMagic() : 0;
    }

    public override int WriteRequest(Span<byte> value)
    {
        if (!_requesting)
        {
            return -1;
        }

        BinaryPrimitives.WriteUInt32BigEndian(value, _magic);
        return 4;
    }

    public override void ApplyNak(ReadOnlySpan<byte> suggested)
    {
        if (suggested.Length != 4)
        {
            return;
        }

        // RFC 1661 6.4: a Nak carrying the very value we suggested in our own Nak means our packets come back.
        var value = BinaryPrimitives.ReadUInt32BigEndian(suggested);
        if (_lastNakSuggestion != 0 && value == _lastNakSuggestion && ++_collisions >= settings.LoopbackLimit)
        {
            Fail($"link appears to be looped back (magic number came back {_collisions} times)");
            return;
        }

        _magic = NewMagic();
    }

    public override void ApplyReject()
    {
        _requesting = false;
        _magic = 0;
    }

    public override void ResetPeer() => PeerMagic = 0;

    public override OptionVerdict JudgePeer(ReadOnlySpan<byte> value, Span<byte> hint, out int hintLength)
    {
        hintLength = 0;
        if (value.Length != 4)
        {
            return OptionVerdict.Reject;
        }

        var magic = BinaryPrimitives.ReadUInt32BigEndian(value);
        if (magic == 0 || (_requesting && magic == _magic))
        {
            // Zero is illegal; equal to ours may be a loop or a coincidence: suggest another (RFC 1661 6.4).
            _lastNakSuggestion = NewMagic();
            BinaryPrimitives.WriteUInt32BigEndian(hint, _lastNakSuggestion);
            hintLength = 4;
            return OptionVerdict.Nak;
        }

        PeerMagic = magic;
        return OptionVerdict.Ack;
    }

    private uint NewMagic()
    {
        Span<byte> bytes = stackalloc byte[4];
        for (var attempt = 0; attempt < 8; attempt++)
        {
            random(bytes);
            var magic = BinaryPrimitives.ReadUInt32BigEndian(bytes);
            if (magic != 0 && magic != _magic)
            {
                return magic;
            }
        }

        // A broken random source must not stall negotiation.
        return _magic + 1 == 0 ? 1 : _magic + 1;
    }
}

/// <summary>LCP options 7 (Protocol-Field-Compression) and 8 (Address-and-Control-Field-Compression).</summary>
internal sealed class LcpCompressionFlagOption(byte type, string name, bool request, bool allow) : PppOption(type, name)
{
    private bool _requesting;

    /// <summary>The peer agreed to send us compressed headers.</summary>
    public bool LocalAgreed => _requesting;

    /// <summary>We agreed the peer's request: we may send compressed headers.</summary>
    public bool PeerRequested { get; private set; }

    public override void ResetLocal() => _requesting = request;

    public override int WriteRequest(Span<byte> value) => _requesting ? 0 : -1;

    public override void ApplyNak(ReadOnlySpan<byte> suggested) => _requesting = false;

    public override void ApplyReject() => _requesting = false;

    public override void ResetPeer() => PeerRequested = false;

    public override OptionVerdict JudgePeer(ReadOnlySpan<byte> value, Span<byte> hint, out int hintLength)
    {
        hintLength = 0;
        if (value.Length != 0 || !allow)
        {
            return OptionVerdict.Reject;
        }

        PeerRequested = true;
        return OptionVerdict.Ack;
    }
}
