using System.Text;

namespace Firmware.Protocol.Auth;

/// <summary>
/// The authenticator side of CHAP-MD5 (RFC 1994), MS-CHAP (RFC 2433) and MS-CHAPv2 (RFC 2759). Sends a
/// random challenge and retransmits it (same Identifier and value, as pppd) every restart interval; asks a
/// verifier (the user store or RADIUS) to judge the Response and waits for it without blocking the loop
/// (a repeated Response meanwhile is ignored); answers Success or Failure, and answers a repeated Response
/// (its answer was lost) with the same packet. MS-CHAP failures may grant retries ("E=691 R=1 C=..."),
/// Change-Password packets are refused, and an optional periodic re-challenge must be passed again.
/// </summary>
internal sealed class ChapAuthenticator : AuthProtocolBase
{
    private const string GrantedText = "Access granted";
    private const string RefusedText = "Authentication failed";

    private readonly ICredentialVerifier _verifier;
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

    public ChapAuthenticator(AuthMethod method, ICredentialVerifier verifier, AuthEnvironment environment)
        : base(method, environment)
    {
        ArgumentNullException.ThrowIfNull(verifier);
        if (method is not (AuthMethod.ChapMd5 or AuthMethod.MsChapV1 or AuthMethod.MsChapV2))
        {
            throw new ArgumentOutOfRangeException(nameof(method), method, "Not a CHAP method.");
        }

        _verifier = verifier;
        _retriesLeft = environment.Options.MsChapAuthenticatorRetries;
        _rechallengeTimer = new ProtocolTimer(environment.Time, OnRechallengeDue, environment.Dispatch);
    }

    private enum Phase
    {
        Idle,
        Challenging,
        Verifying,
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
            case ChapCode.Response when _phase == Phase.Verifying && packet.Identifier == _identifier:
                // The peer repeated its Response while the verifier judges the first: it is answered once.
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

        _phase = Phase.Verifying;
        var check = new CredentialCheck
        {
            Method = Method,
            UserName = name,
            UserNameBytes = nameBytes.ToArray(),
            ChapIdentifier = identifier,
            Challenge = _challenge,
            Response = value.ToArray(),
        };
        Verify(_verifier, check, verdict => OnVerdict(identifier, name, verdict));
    }

    private void OnVerdict(byte identifier, string name, CredentialVerdict verdict)
    {
        Account ??= verdict.Account;
        switch (verdict.Outcome)
        {
            case CredentialOutcome.Accepted when Method == AuthMethod.MsChapV2 && verdict.AuthenticatorResponse is null:
                Refuse(identifier, name, MsChapFailure.AuthenticationFailure, $"MS-CHAPv2: '{name}' was accepted without an authenticator response (S=) for the peer to check.", allowRetry: false);
                break;
            case CredentialOutcome.Accepted:
                var message = Method == AuthMethod.MsChapV2
                    ? $"{MsChapCrypto.FormatAuthenticatorResponse(verdict.AuthenticatorResponse)} M={GrantedText}"
                    : GrantedText;
                if (!_rechallenging)
                {
                    Authorization = verdict.Authorization;
                }
                Accept(identifier, name, Encoding.ASCII.GetBytes(message), verdict.KeyMaterial);
                break;
            case CredentialOutcome.Refused:
                Refuse(identifier, name, verdict.MsChapError, verdict.Reason, allowRetry: verdict.RetryAllowed);
                break;
            default:
                Refuse(identifier, name, MsChapFailure.AuthenticationFailure, verdict.Reason, allowRetry: false);
                break;
        }
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

    internal static byte[] NameBytes(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        return bytes.Length <= AuthPacket.MaxNameLength ? bytes : bytes[..AuthPacket.MaxNameLength];
    }
}
