namespace Firmware.Protocol.Auth;

/// <summary>
/// Makes the exchange for a negotiated method and role. Which methods are allowed is the session's
/// policy; this only builds them.
/// </summary>
public static class AuthProtocolFactory
{
    /// <summary>An authenticator for <paramref name="method"/> that checks peers against <paramref name="users"/>.</summary>
    public static IAuthProtocol CreateAuthenticator(AuthMethod method, IUserStore users, AuthEnvironment environment) =>
        CreateAuthenticator(method, new UserStoreVerifier(users), environment);

    /// <summary>An authenticator for <paramref name="method"/> that asks <paramref name="verifier"/> to judge peers.</summary>
    public static IAuthProtocol CreateAuthenticator(AuthMethod method, ICredentialVerifier verifier, AuthEnvironment environment) => method switch
    {
        AuthMethod.Pap => new PapAuthenticator(verifier, environment),
        AuthMethod.ChapMd5 or AuthMethod.MsChapV1 or AuthMethod.MsChapV2 => new ChapAuthenticator(method, verifier, environment),
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "No authentication exchange for this method."),
    };

    /// <summary>A peer for <paramref name="method"/> that authenticates with <paramref name="credentials"/>.</summary>
    public static IAuthProtocol CreatePeer(AuthMethod method, PeerCredentials credentials, AuthEnvironment environment) => method switch
    {
        AuthMethod.Pap => new PapPeer(credentials, environment),
        AuthMethod.ChapMd5 or AuthMethod.MsChapV1 or AuthMethod.MsChapV2 => new ChapPeer(method, credentials, environment),
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "No authentication exchange for this method."),
    };

    /// <summary>
    /// Either side in one call: <paramref name="users"/> or <paramref name="verifier"/> is required for the
    /// authenticator, <paramref name="credentials"/> for the peer.
    /// </summary>
    public static IAuthProtocol Create(AuthMethod method, AuthRole role, AuthEnvironment environment, IUserStore? users = null, PeerCredentials? credentials = null, ICredentialVerifier? verifier = null) => role switch
    {
        AuthRole.Authenticator => CreateAuthenticator(method, verifier ?? new UserStoreVerifier(users ?? throw new ArgumentNullException(nameof(users))), environment),
        AuthRole.Peer => CreatePeer(method, credentials ?? throw new ArgumentNullException(nameof(credentials)), environment),
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown role."),
    };
}
