using System.Security.Cryptography;
using System.Text;

namespace Firmware.Protocol.Auth;

/// <summary>
/// Judges logins against a user store we hold (the configured users): it knows the secrets, so it computes
/// what the peer should have sent and compares in fixed time. Answers before <see cref="Verify"/> returns.
/// Users stored only as an NT hash can use MS-CHAP and MS-CHAPv2, not PAP or CHAP-MD5 (they need the
/// plaintext). MS-CHAP peers often send "DOMAIN\user"; the domain means nothing to us.
/// </summary>
public sealed class UserStoreVerifier(IUserStore users) : ICredentialVerifier
{
    private readonly IUserStore _users = users ?? throw new ArgumentNullException(nameof(users));

    /// <inheritdoc />
    public IDisposable Verify(CredentialCheck check, Action<CredentialVerdict> done)
    {
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(done);
        done(Judge(check));
        return NothingPending.Instance;
    }

    private CredentialVerdict Judge(CredentialCheck check)
    {
        var method = AuthMethods.Describe(check.Method);
        var name = check.UserName;
        // An unknown name, a disabled account and a wrong password are refused alike (the same E=691 and retry
        // offer): only our log tells them apart.
        if (!TryLookUp(check, out var account, out var secret))
        {
            return CredentialVerdict.Refuse($"{method}: unknown user '{name}'.", retryAllowed: true);
        }
        if (secret.IsDisabled)
        {
            return CredentialVerdict.Refuse($"{method}: account '{account}' is disabled.", account, retryAllowed: true);
        }

        return check.Method switch
        {
            AuthMethod.Pap => JudgePap(check, account, secret),
            AuthMethod.ChapMd5 => JudgeChapMd5(check, account, secret),
            AuthMethod.MsChapV1 => JudgeMsChapV1(check, account, secret),
            AuthMethod.MsChapV2 => JudgeMsChapV2(check, account, secret),
            _ => CredentialVerdict.Refuse($"{method}: not a login method.", account),
        };
    }

    private static CredentialVerdict JudgePap(CredentialCheck check, string account, UserSecret secret)
    {
        if (secret.Password is null)
        {
            return CredentialVerdict.Refuse($"PAP: user '{account}' is stored only as an NT hash; PAP needs the plaintext password (use MS-CHAPv2).", account);
        }
        var expected = Encoding.UTF8.GetBytes(secret.Password);
        var matches = CryptographicOperations.FixedTimeEquals(expected, check.Response);
        CryptographicOperations.ZeroMemory(expected);
        return matches
            ? CredentialVerdict.Accept(account, $"PAP: user '{account}'.")
            : CredentialVerdict.Refuse($"PAP: wrong password for user '{account}'.", account);
    }

    private static CredentialVerdict JudgeChapMd5(CredentialCheck check, string account, UserSecret secret)
    {
        if (secret.Password is null)
        {
            return CredentialVerdict.Refuse($"CHAP-MD5: user '{account}' is stored only as an NT hash; CHAP-MD5 needs the plaintext password (use MS-CHAPv2).", account);
        }
        var password = Encoding.UTF8.GetBytes(secret.Password);
        Span<byte> expected = stackalloc byte[16];
        MsChapCrypto.ChapMd5Response(check.ChapIdentifier, password, check.Challenge, expected);
        CryptographicOperations.ZeroMemory(password);
        return MsChapCrypto.FixedTimeEquals(expected, check.Response)
            ? CredentialVerdict.Accept(account, $"CHAP-MD5: user '{account}'.")
            : CredentialVerdict.Refuse($"CHAP-MD5: wrong password for user '{account}'.", account);
    }

    private static CredentialVerdict JudgeMsChapV1(CredentialCheck check, string account, UserSecret secret)
    {
        // Value: 24-byte LM response, 24-byte NT response, use-NT flag.
        var value = check.Response;
        if (value[48] != 1)
        {
            return CredentialVerdict.Refuse($"MS-CHAP: '{account}' sent only a LAN Manager response, which is not accepted (weak); the peer must use the NT response.", account);
        }
        var ntResponse = value.AsSpan(24, 24);
        Span<byte> expected = stackalloc byte[24];
        MsChapCrypto.ChallengeResponse(check.Challenge, secret.NtPasswordHash, expected);
        if (!MsChapCrypto.FixedTimeEquals(expected, ntResponse))
        {
            return CredentialVerdict.Refuse($"MS-CHAP: wrong password for user '{account}'.", account, retryAllowed: true);
        }

        byte[]? lmHash = null;
        if (secret.Password is not null)
        {
            lmHash = new byte[16];
            MsChapCrypto.LmPasswordHash(secret.Password, lmHash);
        }
        var material = MppeKeyMaterial.FromNtPasswordHash(AuthMethod.MsChapV1, secret.NtPasswordHash, check.Challenge, ntResponse) with { LmPasswordHash = lmHash };
        return CredentialVerdict.Accept(account, $"MS-CHAP: user '{account}'.", material);
    }

    private static CredentialVerdict JudgeMsChapV2(CredentialCheck check, string account, UserSecret secret)
    {
        // Value: 16-byte peer challenge, 8 reserved, 24-byte NT-Response, flags.
        var peerChallenge = check.Response.AsSpan(0, 16);
        var ntResponse = check.Response.AsSpan(24, 24);
        Span<byte> expected = stackalloc byte[24];
        MsChapCrypto.GenerateNtResponse(check.Challenge, peerChallenge, check.UserNameBytes, secret.NtPasswordHash, expected);
        if (!MsChapCrypto.FixedTimeEquals(expected, ntResponse))
        {
            return CredentialVerdict.Refuse($"MS-CHAPv2: wrong password for user '{account}'.", account, retryAllowed: true);
        }

        var authenticatorResponse = new byte[20];
        MsChapCrypto.GenerateAuthenticatorResponse(secret.NtPasswordHash, ntResponse, peerChallenge, check.Challenge, check.UserNameBytes, authenticatorResponse);
        var material = MppeKeyMaterial.FromNtPasswordHash(AuthMethod.MsChapV2, secret.NtPasswordHash, [], ntResponse);
        return CredentialVerdict.Accept(account, $"MS-CHAPv2: user '{account}'.", material, authenticatorResponse);
    }

    private bool TryLookUp(CredentialCheck check, out string account, out UserSecret secret)
    {
        var name = check.UserName;
        if (_users.TryGetSecret(name, out var found))
        {
            (account, secret) = (name, found);
            return true;
        }

        var slash = name.LastIndexOf('\\');
        var isMsChap = check.Method is AuthMethod.MsChapV1 or AuthMethod.MsChapV2;
        if (isMsChap && slash >= 0 && _users.TryGetSecret(name[(slash + 1)..], out found))
        {
            (account, secret) = (name[(slash + 1)..], found);
            return true;
        }

        (account, secret) = (name, null!);
        return false;
    }

    private sealed class NothingPending : IDisposable
    {
        public static NothingPending Instance { get; } = new();

        public void Dispose()
        {
        }
    }
}
