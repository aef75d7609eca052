using System.Security.Cryptography;
using System.Text;

namespace Firmware.Protocol.Auth;

/// <summary>
/// The peer side of CHAP-MD5, MS-CHAP and MS-CHAPv2: answers each Challenge (a retransmitted one with the
/// same Response), waits for Success or Failure (repeating the Response every restart interval, since a lost
/// Success is only re-sent when the authenticator sees the Response again), and for MS-CHAPv2 verifies the authenticator's "S=" value
/// (mutual authentication: a wrong or missing one fails the exchange). MS-CHAP "R=1" failures are retried
/// with the new challenge only if configured; "E=648" (password expired) fails with a clear reason, since
/// changing passwords is not supported. Re-challenges after success are answered the same way.
/// </summary>
internal sealed class ChapPeer : AuthProtocolBase
{
    private readonly PeerCredentials _credentials;
    private readonly byte[] _nameBytes;
    private Phase _phase = Phase.AwaitingChallenge;
    private byte _responseIdentifier;
    private byte[] _challenge = [];
    private byte[] _responsePacket = [];
    private readonly byte[] _expectedAuthenticatorResponse = new byte[20];
    private MppeKeyMaterial? _pendingKeyMaterial;
    private int _retriesLeft;
    private int _responseTransmissions;

    public ChapPeer(AuthMethod method, PeerCredentials credentials, AuthEnvironment environment)
        : base(method, environment)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        if (method is not (AuthMethod.ChapMd5 or AuthMethod.MsChapV1 or AuthMethod.MsChapV2))
        {
            throw new ArgumentOutOfRangeException(nameof(method), method, "Not a CHAP method.");
        }

        _credentials = credentials;
        _nameBytes = Encoding.UTF8.GetBytes(credentials.UserName);
        _retriesLeft = environment.Options.MsChapPeerRetries;
        UserName = credentials.UserName;
    }

    private enum Phase
    {
        AwaitingChallenge,
        AwaitingResult,
        Answered,
    }

    private int ChallengeLength => Method == AuthMethod.MsChapV1 ? 8 : 16;

    protected override void OnStart()
    {
        if (Method == AuthMethod.ChapMd5 && _credentials.Password is null)
        {
            Fail("CHAP-MD5 needs a plaintext password, but only an NT hash is configured for this peer.");
            return;
        }
        if (_nameBytes.Length > AuthPacket.MaxNameLength)
        {
            Fail($"{Method}: the user name is longer than {AuthPacket.MaxNameLength} bytes.");
            return;
        }

        StartTimer(Options.WaitTimeout);
    }

    protected override void OnTimerExpired()
    {
        switch (_phase)
        {
            case Phase.AwaitingChallenge:
                Fail($"{Method}: no Challenge from the authenticator within {Options.WaitTimeout.TotalSeconds:0.#} s.");
                break;
            case Phase.AwaitingResult when _responseTransmissions >= Options.MaxTransmissions:
                Fail($"{Method}: no Success or Failure from the authenticator after {_responseTransmissions} Responses.");
                break;
            case Phase.AwaitingResult:
                // Our Response or its answer was lost; the authenticator answers a repeated Response again.
                TransmitResponse();
                break;
            default:
                break;
        }
    }

    protected override void OnPacket(AuthPacket packet)
    {
        switch (packet.Code)
        {
            case ChapCode.Challenge:
                OnChallenge(packet);
                break;
            case ChapCode.Success when _phase == Phase.AwaitingResult && packet.Identifier == _responseIdentifier:
                OnSuccess(packet.Data);
                break;
            case ChapCode.Failure when _phase == Phase.AwaitingResult && packet.Identifier == _responseIdentifier:
                OnFailure(packet.Identifier, packet.Data);
                break;
            default:
                Drop();
                break;
        }
    }

    private void OnChallenge(AuthPacket packet)
    {
        if (!packet.TryReadValueAndName(out var value, out _)
            || (Method != AuthMethod.ChapMd5 && value.Length != ChallengeLength))
        {
            Drop();
            return;
        }

        if (_phase == Phase.AwaitingResult && packet.Identifier == _responseIdentifier && value.SequenceEqual(_challenge))
        {
            // A retransmitted Challenge: our Response was lost. Same answer, so a v2 peer challenge stays put.
            Send(_responsePacket);
            return;
        }

        Respond(packet.Identifier, value);
    }

    private void Respond(byte identifier, ReadOnlySpan<byte> challenge)
    {
        _responseIdentifier = identifier;
        _challenge = challenge.ToArray();
        Span<byte> value = stackalloc byte[49];
        value = Method switch
        {
            AuthMethod.ChapMd5 => Md5Value(identifier, challenge, value),
            AuthMethod.MsChapV1 => MsChapV1Value(challenge, value),
            _ => MsChapV2Value(challenge, value),
        };

        _responsePacket = AuthPacket.BuildValueAndName(ChapCode.Response, identifier, value, _nameBytes);
        _responseTransmissions = 0;
        _phase = Phase.AwaitingResult;
        TransmitResponse();
    }

    private Span<byte> Md5Value(byte identifier, ReadOnlySpan<byte> challenge, Span<byte> value)
    {
        var password = Encoding.UTF8.GetBytes(_credentials.Password!);
        MsChapCrypto.ChapMd5Response(identifier, password, challenge, value[..16]);
        CryptographicOperations.ZeroMemory(password);
        return value[..16];
    }

    private Span<byte> MsChapV1Value(ReadOnlySpan<byte> challenge, Span<byte> value)
    {
        // 24 zero bytes where the LM response would be, the NT response, flag 1 = use NT.
        value.Clear();
        MsChapCrypto.ChallengeResponse(challenge, _credentials.NtPasswordHash, value.Slice(24, 24));
        value[48] = 1;
        byte[]? lmHash = null;
        if (_credentials.Password is not null)
        {
            lmHash = new byte[16];
            MsChapCrypto.LmPasswordHash(_credentials.Password, lmHash);
        }
        _pendingKeyMaterial = MakeKeyMaterial(AuthMethod.MsChapV1, challenge, value.Slice(24, 24), lmHash);
        return value;
    }

    private Span<byte> MsChapV2Value(ReadOnlySpan<byte> challenge, Span<byte> value)
    {
        // 16-byte peer challenge, 8 reserved zero bytes, NT-Response, flags 0.
        value.Clear();
        Environment.Random(value[..16]);
        var peerChallenge = value[..16];
        var ntResponse = value.Slice(24, 24);
        MsChapCrypto.GenerateNtResponse(challenge, peerChallenge, _nameBytes, _credentials.NtPasswordHash, ntResponse);
        MsChapCrypto.GenerateAuthenticatorResponse(_credentials.NtPasswordHash, ntResponse, peerChallenge, challenge, _nameBytes, _expectedAuthenticatorResponse);
        _pendingKeyMaterial = MakeKeyMaterial(AuthMethod.MsChapV2, [], ntResponse, lmPasswordHash: null);
        return value;
    }

    private void TransmitResponse()
    {
        Send(_responsePacket);
        _responseTransmissions++;
        StartTimer(Options.RestartInterval);
    }

    private void OnSuccess(ReadOnlySpan<byte> message)
    {
        if (Method == AuthMethod.MsChapV2 && !AuthenticatorResponseMatches(message))
        {
            Fail("MS-CHAPv2: the authenticator's Success did not carry the right \"S=\" response, so it does not know our password "
                + "(mutual authentication failed; refusing the link).");
            return;
        }

        StopTimer();
        _phase = Phase.Answered;
        KeyMaterial ??= _pendingKeyMaterial;
        Succeed();
    }

    private bool AuthenticatorResponseMatches(ReadOnlySpan<byte> message)
    {
        // "S=" then 40 hex digits, then the end or " M=...".
        if (message.Length < 42 || message[0] != (byte)'S' || message[1] != (byte)'=' || (message.Length > 42 && message[42] != (byte)' '))
        {
            return false;
        }

        Span<byte> received = stackalloc byte[20];
        return MsChapCrypto.TryParseHex(message.Slice(2, 40), received)
            && MsChapCrypto.FixedTimeEquals(received, _expectedAuthenticatorResponse);
    }

    private void OnFailure(byte identifier, ReadOnlySpan<byte> message)
    {
        StopTimer();
        if (Method == AuthMethod.ChapMd5)
        {
            var text = AuthPacket.Printable(message);
            Fail($"CHAP-MD5: the authenticator refused us{(text.Length > 0 ? ": " + text : ".")}");
            return;
        }

        var failure = MsChapFailure.Parse(message, ChallengeLength);
        var detail = failure.Message.Length > 0 ? $" ({failure.Message})" : "";
        if (failure.Error == MsChapFailure.PasswordExpired)
        {
            Fail($"{Method}: the authenticator says the password has expired (E=648){detail}; changing passwords is not supported, "
                + "so set a new password on the server.");
            return;
        }

        if (failure.RetryAllowed && failure.NextChallenge is not null && _retriesLeft > 0)
        {
            _retriesLeft--;
            Respond((byte)(identifier + 1), failure.NextChallenge);
            return;
        }

        Fail($"{Method}: the authenticator refused us: E={failure.Error} {MsChapFailure.Describe(failure.Error)}{detail}.");
    }

    private MppeKeyMaterial MakeKeyMaterial(AuthMethod method, ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> ntResponse, byte[]? lmPasswordHash) =>
        MppeKeyMaterial.FromNtPasswordHash(method, _credentials.NtPasswordHash, challenge, ntResponse) with { LmPasswordHash = lmPasswordHash };
}
