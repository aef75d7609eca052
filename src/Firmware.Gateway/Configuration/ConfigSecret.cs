using System.Security.Cryptography;

namespace Firmware.Gateway.Configuration;

/// <summary>
/// A user's secret: a plain password or its 16-byte NT hash (MD4 of the UTF-16LE password), never both.
/// ToString never shows it, so a secret cannot reach a log or the status file by accident.
/// </summary>
internal sealed class ConfigSecret : IEquatable<ConfigSecret>
{
    private readonly string? _password;
    private readonly byte[]? _ntHash;

    private ConfigSecret(string? password, byte[]? ntHash)
    {
        _password = password;
        _ntHash = ntHash;
    }

    public static ConfigSecret None { get; } = new(null, null);

    public static ConfigSecret FromPassword(string password) => new(password, null);

    public static ConfigSecret FromNtHash(ReadOnlySpan<byte> hash) =>
        hash.Length == 16 ? new(null, hash.ToArray()) : throw new ArgumentException("an NT hash is 16 bytes", nameof(hash));

    /// <summary>The plain password, when the file gave one (PAP and CHAP-MD5 need it).</summary>
    public string? Password => _password;

    /// <summary>The NT hash when the file gave one; MS-CHAP derives it from <see cref="Password"/> otherwise.</summary>
    public ReadOnlySpan<byte> NtHash => _ntHash;

    public bool HasPassword => _password is not null;

    public bool HasNtHash => _ntHash is not null;

    public bool Equals(ConfigSecret? other) =>
        other is not null
        && string.Equals(_password, other._password, StringComparison.Ordinal)
        && (_ntHash is null) == (other._ntHash is null)
        && (_ntHash is null || CryptographicOperations.FixedTimeEquals(_ntHash, other._ntHash));

    public override bool Equals(object? obj) => Equals(obj as ConfigSecret);

    public override int GetHashCode() => HashCode.Combine(_password is null, _ntHash is null);

    public override string ToString() => _password is not null ? "password(***)" : _ntHash is not null ? "ntHash(***)" : "none";
}
