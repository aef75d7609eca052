namespace Firmware.Protocol.Auth;

/// <summary>
/// The results of a successful MS-CHAP exchange that RFC 3079 derives MPPE keys from. The arrays are owned
/// by this object; holders must not change them.
/// </summary>
/// <param name="Method">MS-CHAPv1 or MS-CHAPv2.</param>
/// <param name="NtPasswordHash">MD4 of the UTF-16LE password (16 bytes), needed for MS-CHAPv1 LM/NT keys.</param>
/// <param name="NtPasswordHashHash">MD4 of <paramref name="NtPasswordHash"/> (16 bytes).</param>
/// <param name="Challenge">MS-CHAPv1: the authenticator's 8-byte challenge; MS-CHAPv2: empty.</param>
/// <param name="NtResponse">The 24-byte NT-Response the peer sent.</param>
public sealed record MppeKeyMaterial(
    AuthMethod Method,
    byte[] NtPasswordHash,
    byte[] NtPasswordHashHash,
    byte[] Challenge,
    byte[] NtResponse)
{
    /// <summary>
    /// MS-CHAPv1 only, and only when the plaintext password was known: the LAN Manager hash (16 bytes) for
    /// RFC 3079's LM-derived 40/56-bit keys (<see cref="Mppe.MsChapV1KeySource.LmPasswordHash"/>). Null otherwise.
    /// </summary>
    public byte[]? LmPasswordHash { get; init; }

    /// <summary>
    /// The authenticator's start keys as a RADIUS server sent them (MS-MPPE-Send-Key and -Recv-Key, RFC 2548),
    /// when we never saw the password hash: MPPE uses them as they are instead of deriving them.
    /// </summary>
    public Mppe.MppeStartKeys? SuppliedStartKeys { get; init; }

    /// <summary>What a local check of an MS-CHAP Response leaves: the hash, its hash, the challenge (v1) and the NT-Response.</summary>
    public static MppeKeyMaterial FromNtPasswordHash(AuthMethod method, ReadOnlySpan<byte> ntPasswordHash, ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> ntResponse)
    {
        var hashHash = new byte[16];
        MsChapCrypto.HashNtPasswordHash(ntPasswordHash, hashHash);
        return new MppeKeyMaterial(method, ntPasswordHash.ToArray(), hashHash, challenge.ToArray(), ntResponse.ToArray());
    }

    /// <summary>
    /// MS-CHAPv1 judged by RADIUS: MS-CHAP-MPPE-Keys carries the LM key (8 bytes) and the NT password hash's
    /// hash (16), enough with our challenge for RFC 3079's keys.
    /// </summary>
    public static MppeKeyMaterial FromMsChapV1Keys(ReadOnlySpan<byte> lmKey, ReadOnlySpan<byte> ntPasswordHashHash, ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> ntResponse)
    {
        var lm = new byte[16];
        lmKey[..8].CopyTo(lm);
        return new MppeKeyMaterial(AuthMethod.MsChapV1, [], ntPasswordHashHash[..16].ToArray(), challenge.ToArray(), ntResponse.ToArray()) { LmPasswordHash = lm };
    }

    /// <summary>MS-CHAPv2 judged by RADIUS: the start keys it sent, for the authenticator (us) to use as they are.</summary>
    public static MppeKeyMaterial FromStartKeys(ReadOnlySpan<byte> sendKey, ReadOnlySpan<byte> receiveKey, ReadOnlySpan<byte> ntResponse) =>
        new(AuthMethod.MsChapV2, [], [], [], ntResponse.ToArray()) { SuppliedStartKeys = new Mppe.MppeStartKeys(sendKey[..16].ToArray(), receiveKey[..16].ToArray()) };

    /// <summary>Secrets stay out of logs: the record's generated text would print the hashes.</summary>
    public override string ToString() => $"MppeKeyMaterial {{ Method = {Method} }}";
}
