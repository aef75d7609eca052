using System.Security.Cryptography;
using System.Text;

namespace Firmware.Protocol.Auth;

/// <summary>
/// The authenticator side of CHAP-MD5 (RFC 1994), MS-CHAP (RFC 2433) and MS-CHAPv2 (RFC 2759). Sends a
/// random challenge and retransmits it (same Identifier and value, as pppd) every restart interval; checks
/// the Response against the user store; answers Success or Failure, and answers a repeated Response
/// (its answer was lost) with the same packet. MS-CHAP failures may grant retries ("E=691 R=1 C=..."),
/// Change-Password packets are refused, and an optional periodic re-challenge must be passed again.
/// </summary>
internal sealed class ChapAuthenticator : AuthProtocolBase
{
    private const string GrantedText = "Access granted";
    private const string RefusedText = "Authentication failed";

    private readonly IUserStore _users;
    private readonly ProtocolTimer _rechallengeTimer;
    private Phase _phase = Phase.Idle;
    private byte _identifier;
    private byte[] _challenge = [];
    private byte[] _challengePacket = [];
    private int _transmissions;
    private int _retriesLeft;
    private bool _rechallenging;
    private string? _authenticatedName;
    private byte[]? _resultPacket;

    public ChapAuthenticator(AuthMethod method, IUserStore users, AuthEnvironment environment)
        : base(method, environment)
    {
        ArgumentNullException.ThrowIfNull(users);
        if (method is not (AuthMethod.ChapMd5 or AuthMethod.MsChapV1 or AuthMethod.MsChapV2))
        {
            throw new ArgumentOutOfRangeException(nameof(method), method, "Not a CHAP method.");
        }

        _users = users;
        _retriesLeft = environment.Options.MsChapAuthenticatorRetries;
        _rechallengeTimer = new ProtocolTimer(environment.Time, OnRechallengeDue, environment.Dispatch);
    }

    private enum Phase
    {
        Idle,
        Challenging,
        AwaitingRetry,
        Answered,
    }

    private bool IsMsChap => Method is AuthMethod.MsChapV1 or AuthMethod.MsChapV2;

    private int ChallengeLength => Method switch
    {
        AuthMethod.MsChapV1 => 8,
        AuthMethod.MsChapV2 => 16,
        _ => Options.ChapMd5ChallengeLength,
    };

    protected override void OnStart()
    {
        _identifier = RandomByte();
        SendNewChallenge();
    }

    protected override void OnDispose() => _rechallengeTimer.Dispose();

    protected override void OnFailed() => _rechallengeTimer.Stop();

    protected override void OnTimerExpired()
    {
        switch (_phase)
        {
            case Phase.Challenging when _transmissions >= Options.MaxTransmissions:
                Fail($"{Method}: no Response to {_transmissions} Challenges{(_rechallenging ? " (re-challenge)" : "")}.");
                break;
            case Phase.Challenging:
                Transmit();
                break;
            case Phase.AwaitingRetry:
                Fail($"{Method}: the peer did not retry within {Options.WaitTimeout.TotalSeconds:0.#} s after a failed attempt.");
                break;
            default:
                break;
        }
    }

    protected override void OnPacket(AuthPacket packet)
    {
        switch (packet.Code)
        {
            case ChapCode.Response when (_phase is Phase.Challenging or Phase.AwaitingRetry) && packet.Identifier == _identifier:
                OnResponse(packet);
                break;
            case ChapCode.Response when _phase == Phase.Answered && _resultPacket is not null && packet.Identifier == _resultPacket[1]:
                // Our Success was lost and the peer asked again.
                Send(_resultPacket);
                break;
            case ChapCode.ChangePasswordV1 or ChapCode.ChangePasswordV2OfMsChapV1 when Method == AuthMethod.MsChapV1:
            case ChapCode.ChangePasswordMsChapV2 when Method == AuthMethod.MsChapV2:
                RefusePasswordChange(packet);
                break;
            default:
                Drop();
                break;
        }
    }

    private void SendNewChallenge()
    {
        _challenge = RandomBytes(ChallengeLength);
        _challengePacket = AuthPacket.BuildValueAndName(ChapCode.Challenge, _identifier, _challenge, NameBytes(Options.AuthenticatorName));
        _transmissions = 0;
        _phase = Phase.Challenging;
        Transmit();
    }

    private void Transmit()
    {
        Send(_challengePacket);
        _transmissions++;
        StartTimer(Options.RestartInterval);
    }

    private void OnRechallengeDue()
    {
        if (Status != AuthStatus.Succeeded || _phase != Phase.Answered)
        {
            return;
        }

        _rechallenging = true;
        _identifier++;
        SendNewChallenge();
    }

    private void OnResponse(AuthPacket packet)
    {
        if (!packet.TryReadValueAndName(out var value, out var nameBytes))
        {
            Drop();
            return;
        }

        StopTimer();
        var name = AuthPacket.Printable(nameBytes);
        var identifier = packet.Identifier;
        if (_rechallenging && name != _authenticatedName)
        {
            Refuse(identifier, name, MsChapFailure.AuthenticationFailure, $"{Method}: the peer answered a re-challenge as '{name}', not '{_authenticatedName}'.", allowRetry: false);
            return;
        }

        var expectedLength = Method == AuthMethod.ChapMd5 ? 16 : 49;
        if (value.Length != expectedLength)
        {
            Refuse(identifier, name, MsChapFailure.AuthenticationFailure, $"{Method}: malformed Response from '{name}' ({value.Length}-byte value, expected {expectedLength}).", allowRetry: false);
            return;
        }

        if (!TryLookUp(name, out var secret))
        {
            // Answered exactly as a wrong password is (E=691, the same retry offer): an unknown name, a disabled
            // or locked account and a wrong password must look alike to a guesser.
            Refuse(identifier, name, MsChapFailure.AuthenticationFailure, $"{Method}: unknown user '{name}'.", allowRetry: true);
            return;
        }
        if (secret.IsDisabled)
        {
            // E=691 like a wrong password: E=647 would tell a guesser that the account exists.
            Refuse(identifier, name, MsChapFailure.AuthenticationFailure, $"{Method}: account '{name}' is disabled.", allowRetry: true);
            return;
        }

        switch (Method)
        {
            case AuthMethod.ChapMd5:
                VerifyMd5(identifier, name, value, secret);
                break;
            case AuthMethod.MsChapV1:
                VerifyMsChapV1(identifier, name, value, secret);
                break;
            default:
                VerifyMsChapV2(identifier, name, nameBytes, value, secret);
                break;
        }
    }

    private void VerifyMd5(byte identifier, string name, ReadOnlySpan<byte> value, UserSecret secret)
    {
        if (secret.Password is null)
        {
            Refuse(identifier, name, MsChapFailure.AuthenticationFailure,
                $"CHAP-MD5: user '{name}' is stored only as an NT hash; CHAP-MD5 needs the plaintext password (use MS-CHAPv2).", allowRetry: false);
            return;
        }

        var password = Encoding.UTF8.GetBytes(secret.Password);
        Span<byte> expected = stackalloc byte[16];
        MsChapCrypto.ChapMd5Response(identifier, password, _challenge, expected);
        CryptographicOperations.ZeroMemory(password);
        if (MsChapCrypto.FixedTimeEquals(expected, value))
        {
            Accept(identifier, name, Encoding.ASCII.GetBytes(GrantedText), keyMaterial: null);
        }
        else
        {
            Refuse(identifier, name, MsChapFailure.AuthenticationFailure, $"CHAP-MD5: wrong password for user '{name}'.", allowRetry: false);
        }
    }

    private void VerifyMsChapV1(byte identifier, string name, ReadOnlySpan<byte> value, UserSecret secret)
    {
        // Value: 24-byte LM response, 24-byte NT response, use-NT flag.
        if (value[48] != 1)
        {
            Refuse(identifier, name, MsChapFailure.AuthenticationFailure,
                $"MS-CHAP: '{name}' sent only a LAN Manager response, which is not accepted (weak); the peer must use the NT response.", allowRetry: false);
            return;
        }

        var ntResponse = value.Slice(24, 24);
        Span<byte> expected = stackalloc byte[24];
        MsChapCrypto.ChallengeResponse(_challenge, secret.NtPasswordHash, expected);
        if (!MsChapCrypto.FixedTimeEquals(expected, ntResponse))
        {
            Refuse(identifier, name, MsChapFailure.AuthenticationFailure, $"MS-CHAP: wrong password for user '{name}'.", allowRetry: true);
            return;
        }

        byte[]? lmHash = null;
        if (secret.Password is not null)
        {
            lmHash = new byte[16];
            MsChapCrypto.LmPasswordHash(secret.Password, lmHash);
        }
        Accept(identifier, name, Encoding.ASCII.GetBytes(GrantedText), MakeKeyMaterial(AuthMethod.MsChapV1, secret.NtPasswordHash, _challenge, ntResponse, lmHash));
    }

    private void VerifyMsChapV2(byte identifier, string name, ReadOnlySpan<byte> nameBytes, ReadOnlySpan<byte> value, UserSecret secret)
    {
        // Value: 16-byte peer challenge, 8 reserved, 24-byte NT-Response, flags.
        var peerChallenge = value[..16];
        var ntResponse = value.Slice(24, 24);
        Span<byte> expected = stackalloc byte[24];
        MsChapCrypto.GenerateNtResponse(_challenge, peerChallenge, nameBytes, secret.NtPasswordHash, expected);
        if (!MsChapCrypto.FixedTimeEquals(expected, ntResponse))
        {
            Refuse(identifier, name, MsChapFailure.AuthenticationFailure, $"MS-CHAPv2: wrong password for user '{name}'.", allowRetry: true);
            return;
        }

        Span<byte> authenticatorResponse = stackalloc byte[20];
        MsChapCrypto.GenerateAuthenticatorResponse(secret.NtPasswordHash, ntResponse, peerChallenge, _challenge, nameBytes, authenticatorResponse);
        var message = Encoding.ASCII.GetBytes($"{MsChapCrypto.FormatAuthenticatorResponse(authenticatorResponse)} M={GrantedText}");
        Accept(identifier, name, message, MakeKeyMaterial(AuthMethod.MsChapV2, secret.NtPasswordHash, [], ntResponse, lmPasswordHash: null));
    }

    private void Accept(byte identifier, string name, byte[] message, MppeKeyMaterial? keyMaterial)
    {
        _resultPacket = AuthPacket.BuildMessage(ChapCode.Success, identifier, message);
        Send(_resultPacket);
        _phase = Phase.Answered;
        UserName = name;
        _authenticatedName = name;
        KeyMaterial ??= keyMaterial;
        Succeed();
        if (Options.RechallengeInterval is { } interval)
        {
            _rechallengeTimer.Start(interval);
        }
    }

    private void Refuse(byte identifier, string name, int error, string reason, bool allowRetry)
    {
        UserName ??= name;
        var retry = allowRetry && IsMsChap && !_rechallenging && _retriesLeft > 0;
        if (!IsMsChap)
        {
            Send(AuthPacket.BuildMessage(ChapCode.Failure, identifier, Encoding.ASCII.GetBytes(RefusedText)));
            _phase = Phase.Answered;
            Fail(reason);
            return;
        }

        if (retry)
        {
            _retriesLeft--;
            var next = RandomBytes(ChallengeLength);
            Send(AuthPacket.BuildMessage(ChapCode.Failure, identifier, MsChapFailure.Format(Method, error, retry: true, next, RefusedText)));
            // RFC 2433/2759: the retried Response carries the next Identifier and answers the C= challenge.
            _identifier = (byte)(identifier + 1);
            _challenge = next;
            _phase = Phase.AwaitingRetry;
            StartTimer(Options.WaitTimeout);
            return;
        }

        Send(AuthPacket.BuildMessage(ChapCode.Failure, identifier, MsChapFailure.Format(Method, error, retry: false, _challenge, RefusedText)));
        _phase = Phase.Answered;
        Fail(reason);
    }

    private void RefusePasswordChange(AuthPacket packet)
    {
        Send(AuthPacket.BuildMessage(ChapCode.Failure, packet.Identifier,
            MsChapFailure.Format(Method, MsChapFailure.ChangingPasswordError, retry: false, _challenge, "Changing passwords is not supported")));
        _phase = Phase.Answered;
        Fail($"{Method}: the peer sent a Change-Password packet (code {packet.Code}); changing passwords is not supported.");
    }

    private bool TryLookUp(string name, out UserSecret secret)
    {
        if (_users.TryGetSecret(name, out var found))
        {
            secret = found;
            return true;
        }

        // MS-CHAP peers often send "DOMAIN\user"; the domain means nothing to us.
        var slash = name.LastIndexOf('\\');
        if (IsMsChap && slash >= 0 && _users.TryGetSecret(name[(slash + 1)..], out found))
        {
            secret = found;
            return true;
        }

        secret = null!;
        return false;
    }

    private static MppeKeyMaterial MakeKeyMaterial(AuthMethod method, ReadOnlySpan<byte> ntPasswordHash, ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> ntResponse, byte[]? lmPasswordHash)
    {
        var hashHash = new byte[16];
        MsChapCrypto.HashNtPasswordHash(ntPasswordHash, hashHash);
        return new MppeKeyMaterial(method, ntPasswordHash.ToArray(), hashHash, challenge.ToArray(), ntResponse.ToArray())
        {
            LmPasswordHash = lmPasswordHash,
        };
    }

    internal static byte[] NameBytes(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        return bytes.Length <= AuthPacket.MaxNameLength ? bytes : bytes[..AuthPacket.MaxNameLength];
    }
}
