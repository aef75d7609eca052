using System.Diagnostics.CodeAnalysis;

namespace Firmware.Protocol.Auth;

/// <summary>Which side of an authentication exchange we are.</summary>
public enum AuthRole
{
    /// <summary>We authenticate the peer (the PPTP server/PAC side normally).</summary>
    Authenticator,
    /// <summary>We prove who we are to the authenticator (the client side).</summary>
    Peer,
}

/// <summary>Fills a span with unpredictable bytes (production: the kernel's getrandom, <c>SystemRandom.Fill</c>).</summary>
public delegate void RandomFill(Span<byte> destination);

/// <summary>
/// What the user store holds for one user: a plaintext password, or only its NT hash (MD4 of the UTF-16LE
/// password). MS-CHAP, MS-CHAPv2 and MPPE work with the hash alone; PAP and CHAP-MD5 need the plaintext.
/// Never printed: <see cref="ToString"/> hides the secret.
/// </summary>
public sealed class UserSecret
{
    private readonly byte[] _ntPasswordHash;

    private UserSecret(string? password, byte[] ntPasswordHash, bool isDisabled)
    {
        Password = password;
        _ntPasswordHash = ntPasswordHash;
        IsDisabled = isDisabled;
    }

    /// <summary>The plaintext password, or null when only the NT hash is stored.</summary>
    public string? Password { get; }

    /// <summary>The 16-byte NT password hash (computed from the password when that was given).</summary>
    public ReadOnlySpan<byte> NtPasswordHash => _ntPasswordHash;

    /// <summary>True when the account exists but must not log in.</summary>
    public bool IsDisabled { get; }

    /// <summary>A user known by plaintext password (at most 256 characters, RFC 2759's limit).</summary>
    public static UserSecret FromPassword(string password, bool isDisabled = false)
    {
        ArgumentNullException.ThrowIfNull(password);
        return new UserSecret(password, MsChapCrypto.NtPasswordHash(password), isDisabled);
    }

    /// <summary>A user known only by NT password hash (16 bytes).</summary>
    public static UserSecret FromNtHash(ReadOnlySpan<byte> ntPasswordHash, bool isDisabled = false)
    {
        if (ntPasswordHash.Length != MsChapCrypto.PasswordHashLength)
        {
            throw new ArgumentException("An NT password hash is 16 bytes.", nameof(ntPasswordHash));
        }
        return new UserSecret(null, ntPasswordHash.ToArray(), isDisabled);
    }

    /// <summary>Hides the secret.</summary>
    public override string ToString() => Password is null ? "UserSecret(NT hash)" : "UserSecret(password)";
}

/// <summary>
/// Where <see cref="UserStoreVerifier"/> looks users up: the gateway's configured users. (RADIUS judges
/// responses itself and is another <see cref="ICredentialVerifier"/>.)
/// </summary>
public interface IUserStore
{
    /// <summary>The secret for <paramref name="userName"/> (exact, case-sensitive match); false if unknown.</summary>
    bool TryGetSecret(string userName, [NotNullWhen(true)] out UserSecret? secret);
}

/// <summary>A user store held in memory (config-file users, tests).</summary>
public sealed class InMemoryUserStore : IUserStore
{
    private readonly Dictionary<string, UserSecret> _users = new(StringComparer.Ordinal);

    /// <summary>Adds or replaces a user.</summary>
    public void Set(string userName, UserSecret secret)
    {
        ArgumentNullException.ThrowIfNull(userName);
        ArgumentNullException.ThrowIfNull(secret);
        _users[userName] = secret;
    }

    /// <summary>Removes a user; false if unknown.</summary>
    public bool Remove(string userName) => _users.Remove(userName);

    /// <inheritdoc />
    public bool TryGetSecret(string userName, [NotNullWhen(true)] out UserSecret? secret) =>
        _users.TryGetValue(userName, out secret);
}

/// <summary>What the peer (client) side authenticates with: its user name and a password or an NT hash.</summary>
public sealed class PeerCredentials
{
    private readonly byte[] _ntPasswordHash;

    private PeerCredentials(string userName, string? password, byte[] ntPasswordHash)
    {
        UserName = userName;
        Password = password;
        _ntPasswordHash = ntPasswordHash;
    }

    /// <summary>Our name as sent in PAP and CHAP (may carry a "DOMAIN\" prefix for MS-CHAP).</summary>
    public string UserName { get; }

    /// <summary>The plaintext password, or null when only the NT hash was configured.</summary>
    public string? Password { get; }

    /// <summary>The 16-byte NT password hash.</summary>
    public ReadOnlySpan<byte> NtPasswordHash => _ntPasswordHash;

    /// <summary>Credentials with a plaintext password.</summary>
    public static PeerCredentials FromPassword(string userName, string password)
    {
        ArgumentNullException.ThrowIfNull(userName);
        ArgumentNullException.ThrowIfNull(password);
        return new PeerCredentials(userName, password, MsChapCrypto.NtPasswordHash(password));
    }

    /// <summary>Credentials with only an NT password hash (MS-CHAP methods only).</summary>
    public static PeerCredentials FromNtHash(string userName, ReadOnlySpan<byte> ntPasswordHash)
    {
        ArgumentNullException.ThrowIfNull(userName);
        if (ntPasswordHash.Length != MsChapCrypto.PasswordHashLength)
        {
            throw new ArgumentException("An NT password hash is 16 bytes.", nameof(ntPasswordHash));
        }
        return new PeerCredentials(userName, null, ntPasswordHash.ToArray());
    }

    /// <summary>Hides the secret.</summary>
    public override string ToString() => $"PeerCredentials({UserName})";
}
