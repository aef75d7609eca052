namespace Firmware.Protocol.Ccp;

/// <summary>
/// What one end accepts for MPPE (RFC 3078) when CCP negotiates it. The defaults are the gateway's security
/// defaults: MPPE required, 128-bit keys only, stateless preferred but stateful allowed.
/// </summary>
public sealed record MppeNegotiationPolicy
{
    /// <summary>IP may not flow unencrypted: the link is closed when MPPE cannot be agreed.</summary>
    public bool Required { get; init; } = true;

    /// <summary>Accept 40-bit keys (bit L).</summary>
    public bool Allow40 { get; init; }

    /// <summary>Accept 56-bit keys (bit M).</summary>
    public bool Allow56 { get; init; }

    /// <summary>Accept 128-bit keys (bit S).</summary>
    public bool Allow128 { get; init; } = true;

    /// <summary>Accept stateless ("history-less", bit H) mode: a key change on every packet.</summary>
    public bool AllowStateless { get; init; } = true;

    /// <summary>Accept stateful mode: one RC4 stream, resynchronised by CCP Reset-Request after loss.</summary>
    public bool AllowStateful { get; init; } = true;

    /// <summary>When both modes are allowed, ask for stateless (and, on the server, insist on it if the peer allows it).</summary>
    public bool PreferStateless { get; init; } = true;

    /// <summary>The defaults.</summary>
    public static MppeNegotiationPolicy Default { get; } = new();

    /// <summary>The key-length bits (S, M, L) this policy accepts.</summary>
    internal uint AllowedKeyBits =>
        (Allow40 ? MppeOptionBits.Bits40 : 0) | (Allow56 ? MppeOptionBits.Bits56 : 0) | (Allow128 ? MppeOptionBits.Bits128 : 0);

    /// <summary>This policy allowing exactly the key lengths of <paramref name="keyBits"/> (S, M, L).</summary>
    internal MppeNegotiationPolicy WithKeyBits(uint keyBits) => this with
    {
        Allow40 = (keyBits & MppeOptionBits.Bits40) != 0,
        Allow56 = (keyBits & MppeOptionBits.Bits56) != 0,
        Allow128 = (keyBits & MppeOptionBits.Bits128) != 0,
    };

    /// <summary>The mode we ask for first.</summary>
    internal bool PreferredStateless => AllowStateless && (PreferStateless || !AllowStateful);

    /// <summary>Throws when no key length or no mode is allowed.</summary>
    internal void Validate()
    {
        if (AllowedKeyBits == 0)
        {
            throw new ArgumentException("An MPPE policy must allow at least one key length (40, 56 or 128 bits).");
        }

        if (!AllowStateless && !AllowStateful)
        {
            throw new ArgumentException("An MPPE policy must allow stateless or stateful mode.");
        }
    }
}
