using System.Security.Cryptography;
using System.Text;

namespace Firmware.Protocol.Auth;

/// <summary>
/// PAP authenticator (RFC 1334): waits for an Authenticate-Request, asks the verifier (the user store or
/// RADIUS) without blocking the loop, answers Ack or Nak. A request repeated while the verifier judges is
/// answered once, under the latest Identifier; a repeated request after the answer (our answer was lost)
/// gets the same answer.
/// </summary>
internal sealed class PapAuthenticator : AuthProtocolBase
{
    private readonly ICredentialVerifier _verifier;
    private byte[]? _answer;
    private byte _answerIdentifier;

    public PapAuthenticator(ICredentialVerifier verifier, AuthEnvironment environment)
        : base(AuthMethod.Pap, environment)
    {
        ArgumentNullException.ThrowIfNull(verifier);
        _verifier = verifier;
    }

    protected override void OnStart() => StartTimer(Options.WaitTimeout);

    protected override void OnTimerExpired() =>
        Fail($"PAP: no Authenticate-Request from the peer within {Options.WaitTimeout.TotalSeconds:0.#} s.");

    protected override void OnPacket(AuthPacket packet)
    {
        if (packet.Code != PapCode.AuthenticateRequest || !packet.TryReadPapRequest(out var peerId, out var password))
        {
            Drop();
            return;
        }

        if (_answer is not null)
        {
            // Our Ack/Nak was lost and the peer retransmitted; RFC 1334 says answer again.
            var again = (byte[])_answer.Clone();
            again[1] = packet.Identifier;
            Send(again);
            return;
        }

        if (IsVerifying)
        {
            // Answer the request the peer sent last: a peer that numbers each retransmission may accept only that one.
            _answerIdentifier = packet.Identifier;
            return;
        }

        if (peerId.Length > AuthPacket.MaxNameLength)
        {
            Drop();
            return;
        }

        StopTimer();
        var name = AuthPacket.Printable(peerId);
        UserName = name;
        _answerIdentifier = packet.Identifier;
        var check = new CredentialCheck
        {
            Method = AuthMethod.Pap,
            UserName = name,
            UserNameBytes = peerId.ToArray(),
            Response = password.ToArray(),
        };
        Verify(_verifier, check, OnVerdict);
    }

    private void OnVerdict(CredentialVerdict verdict)
    {
        Account = verdict.Account;
        if (verdict.Outcome == CredentialOutcome.Accepted)
        {
            Authorization = verdict.Authorization;
            _answer = AuthPacket.BuildPapReply(PapCode.AuthenticateAck, _answerIdentifier, "Access granted");
            Send(_answer);
            Succeed();
        }
        else
        {
            _answer = AuthPacket.BuildPapReply(PapCode.AuthenticateNak, _answerIdentifier, "Authentication failed");
            Send(_answer);
            Fail(verdict.Reason);
        }
    }
}

/// <summary>
/// PAP peer (RFC 1334): sends Authenticate-Request (a new Identifier each time) every restart interval
/// until Ack or Nak, at most <see cref="AuthOptions.MaxTransmissions"/> times.
/// </summary>
internal sealed class PapPeer : AuthProtocolBase
{
    private readonly PeerCredentials _credentials;
    private byte _identifier;
    private int _transmissions;

    public PapPeer(PeerCredentials credentials, AuthEnvironment environment)
        : base(AuthMethod.Pap, environment)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        _credentials = credentials;
        UserName = credentials.UserName;
    }

    protected override void OnStart()
    {
        if (_credentials.Password is null)
        {
            Fail("PAP needs a plaintext password, but only an NT hash is configured for this peer.");
            return;
        }
        if (Encoding.UTF8.GetByteCount(_credentials.UserName) > 255 || Encoding.UTF8.GetByteCount(_credentials.Password) > 255)
        {
            Fail("PAP: the user name or password is longer than 255 bytes.");
            return;
        }

        _identifier = RandomByte();
        SendRequest();
    }

    protected override void OnTimerExpired()
    {
        if (Status != AuthStatus.InProgress)
        {
            return;
        }
        if (_transmissions >= Options.MaxTransmissions)
        {
            Fail($"PAP: no answer from the authenticator after {_transmissions} Authenticate-Requests.");
            return;
        }

        _identifier++;
        SendRequest();
    }

    protected override void OnPacket(AuthPacket packet)
    {
        if (Status != AuthStatus.InProgress
            || (packet.Code != PapCode.AuthenticateAck && packet.Code != PapCode.AuthenticateNak)
            || !IsOneOfOurIdentifiers(packet.Identifier)
            || !packet.TryReadPapMessage(out var message))
        {
            Drop();
            return;
        }

        StopTimer();
        if (packet.Code == PapCode.AuthenticateAck)
        {
            Succeed();
        }
        else
        {
            var text = AuthPacket.Printable(message);
            Fail($"PAP: the authenticator refused us (Nak{(text.Length > 0 ? ": " + text : "")}).");
        }
    }

    // The answer may be to any request we sent in this exchange: the latest may have crossed it.
    private bool IsOneOfOurIdentifiers(byte identifier) => (byte)(_identifier - identifier) < _transmissions;

    private void SendRequest()
    {
        var name = Encoding.UTF8.GetBytes(_credentials.UserName);
        var password = Encoding.UTF8.GetBytes(_credentials.Password!);
        var packet = AuthPacket.BuildPapRequest(_identifier, name, password);
        CryptographicOperations.ZeroMemory(password);
        Send(packet);
        CryptographicOperations.ZeroMemory(packet);
        _transmissions++;
        StartTimer(Options.RestartInterval);
    }
}
