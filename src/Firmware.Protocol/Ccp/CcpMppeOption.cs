using System.Buffers.Binary;
using Firmware.Protocol.Ppp;

namespace Firmware.Protocol.Ccp;

/// <summary>
/// CCP option 18, MPPE (RFC 3078 section 2), negotiated as Linux pppd and Windows do: each end requests
/// every key length it allows; the receiver Naks with the single strongest length both allow, and the
/// requester adopts it. Key lengths therefore converge on the same value both ways. For the mode (bit H) the
/// server is authoritative: it Naks the client towards its own current mode, while the client accepts
/// whatever allowed mode the server asks for and Naks only a mode it does not allow. A Nak suggesting a mode
/// we do not allow is tolerated once (it may have crossed our own Nak) and ends negotiation the second time.
/// MPPC (bit C) is never requested and is Nak'd off.
/// </summary>
internal sealed class CcpMppeOption : PppOption
{
    private const int MaxModeRefusals = 2;

    private readonly bool _authoritative;
    private bool _requesting;
    private bool _givenUp;
    private uint _localKeys;
    private bool _localStateless;
    private int _modeRefusals;

    public CcpMppeOption(MppeNegotiationPolicy policy, bool authoritative)
        : base(MppeOptionBits.OptionType, "MPPE")
    {
        Policy = policy;
        _authoritative = authoritative;
    }

    /// <summary>The policy in force; <see cref="CcpProtocol.Restrict"/> narrows it for the negotiations from then on.</summary>
    internal MppeNegotiationPolicy Policy { get; set; }

    private uint AllowedKeys => Policy.AllowedKeyBits;

    /// <summary>When set, MPPE is impossible (no key material): we neither request nor accept it.</summary>
    public string? BlockedReason { get; set; }

    /// <summary>Why MPPE could not be agreed (set when we gave up).</summary>
    public string? FailureReason { get; private set; }

    /// <summary>Our current request includes the option.</summary>
    public bool LocalRequested => _requesting;

    /// <summary>The key bits of our current request.</summary>
    public uint LocalKeys => _localKeys;

    /// <summary>The mode of our current request.</summary>
    public bool LocalStateless => _localStateless;

    /// <summary>The peer's last judged request carried an acceptable MPPE option.</summary>
    public bool PeerAgreed { get; private set; }

    /// <summary>The single key bit of the peer's acceptable request.</summary>
    public uint PeerKey { get; private set; }

    /// <summary>The mode of the peer's acceptable request.</summary>
    public bool PeerStateless { get; private set; }

    private bool CurrentStateless => _requesting ? _localStateless : Policy.PreferredStateless;

    public override void ResetLocal()
    {
        _modeRefusals = 0;
        _givenUp = false;
        FailureReason = null;
        _localKeys = AllowedKeys;
        _localStateless = Policy.PreferredStateless;
        _requesting = BlockedReason is null;
        if (BlockedReason is not null && Policy.Required)
        {
            FailureReason = BlockedReason;
            Fail(BlockedReason);
        }
    }

    public override int WriteRequest(Span<byte> value)
    {
        if (!_requesting)
        {
            return -1;
        }

        BinaryPrimitives.WriteUInt32BigEndian(value, _localKeys | (_localStateless ? MppeOptionBits.Stateless : 0));
        return MppeOptionBits.ValueLength;
    }

    public override void ApplyNak(ReadOnlySpan<byte> suggested)
    {
        if (!_requesting || suggested.Length != MppeOptionBits.ValueLength)
        {
            // A malformed suggestion: ask again unchanged.
            return;
        }

        var bits = BinaryPrimitives.ReadUInt32BigEndian(suggested);
        var keys = bits & MppeOptionBits.KeyBits;
        var common = keys & AllowedKeys;
        if (common == 0)
        {
            GiveUp(keys == 0
                ? $"peer offers no MPPE key length, {MppeOptionBits.DescribeKeys(AllowedKeys)} required"
                : $"peer offers only {MppeOptionBits.DescribeKeys(keys)} MPPE, {MppeOptionBits.DescribeKeys(AllowedKeys)} required");
            return;
        }

        _localKeys = MppeOptionBits.Strongest(common);
        var stateless = (bits & MppeOptionBits.Stateless) != 0;
        if (stateless ? Policy.AllowStateless : Policy.AllowStateful)
        {
            _localStateless = stateless;
            _modeRefusals = 0;
        }
        else if (++_modeRefusals >= MaxModeRefusals)
        {
            GiveUp(ModeReason(stateless));
        }
    }

    public override void ApplyReject()
    {
        _requesting = false;
        GiveUp(Policy.Required
            ? "peer refused MPPE (CCP Configure-Reject), encryption required"
            : "peer refused MPPE (CCP Configure-Reject)");
    }

    public override void ResetPeer()
    {
        PeerAgreed = false;
        PeerKey = 0;
        PeerStateless = false;
    }

    public override OptionVerdict JudgePeer(ReadOnlySpan<byte> value, Span<byte> hint, out int hintLength)
    {
        hintLength = 0;
        if (value.Length != MppeOptionBits.ValueLength || BlockedReason is not null || _givenUp)
        {
            return OptionVerdict.Reject;
        }

        var bits = BinaryPrimitives.ReadUInt32BigEndian(value);
        var keys = bits & MppeOptionBits.KeyBits;
        var common = keys & AllowedKeys;
        if (keys != 0 && common == 0)
        {
            GiveUp($"peer offers only {MppeOptionBits.DescribeKeys(keys)} MPPE, {MppeOptionBits.DescribeKeys(AllowedKeys)} required");
            return OptionVerdict.Reject;
        }

        var key = MppeOptionBits.Strongest(common != 0 ? common : AllowedKeys);
        var peerStateless = (bits & MppeOptionBits.Stateless) != 0;
        var peerModeAllowed = peerStateless ? Policy.AllowStateless : Policy.AllowStateful;
        var stateless = peerModeAllowed ? (_authoritative ? CurrentStateless : peerStateless) : !peerStateless;
        var wanted = key | (stateless ? MppeOptionBits.Stateless : 0);
        if (bits != wanted)
        {
            BinaryPrimitives.WriteUInt32BigEndian(hint, wanted);
            hintLength = MppeOptionBits.ValueLength;
            return OptionVerdict.Nak;
        }

        PeerAgreed = true;
        PeerKey = key;
        PeerStateless = stateless;
        return OptionVerdict.Ack;
    }

    public override int NakWhenMissing(Span<byte> hint)
    {
        if (BlockedReason is not null || _givenUp)
        {
            return -1;
        }

        BinaryPrimitives.WriteUInt32BigEndian(hint, MppeOptionBits.Strongest(AllowedKeys) | (CurrentStateless ? MppeOptionBits.Stateless : 0));
        return MppeOptionBits.ValueLength;
    }

    private static string ModeReason(bool peerWantsStateless) => peerWantsStateless
        ? "peer requires stateless MPPE, only stateful allowed"
        : "peer requires stateful MPPE, only stateless allowed";

    private void GiveUp(string reason)
    {
        // Without a common setting MPPE is off in both directions; required, the whole CCP gives up.
        _givenUp = true;
        _requesting = false;
        FailureReason ??= reason;
        if (Policy.Required)
        {
            Fail(reason);
        }
    }
}
