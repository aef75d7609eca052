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

    /// <summary>Secrets stay out of logs: the record's generated text would print the hashes.</summary>
    public override string ToString() => $"MppeKeyMaterial {{ Method = {Method} }}";
}
