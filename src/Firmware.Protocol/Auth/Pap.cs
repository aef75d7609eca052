using System.Security.Cryptography;
using System.Text;

namespace Firmware.Protocol.Auth;

/// <summary>
/// PAP authenticator (RFC 1334): waits for an Authenticate-Request, checks it against the user store,
/// answers Ack or Nak. A repeated request after the answer (our answer was lost) gets the same answer.
/// Users stored only as an NT hash cannot use PAP (policy: PAP/CHAP-MD5 need the plaintext secret).
/// </summary>
internal sealed class PapAuthenticator : AuthProtocolBase
{
    private readonly IUserStore _users;
    private byte[]? _answer;
    private byte _answerIdentifier;

    public PapAuthenticator(IUserStore users, AuthEnvironment environment)
        : base(AuthMethod.Pap, environment)
    {
        ArgumentNullException.ThrowIfNull(users);
        _users = users;
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

        if (peerId.Length > AuthPacket.MaxNameLength)
        {
            Drop();
            return;
        }

        StopTimer();
        var name = AuthPacket.Printable(peerId);
        UserName = name;
        var reason = Check(name, password);
        _answerIdentifier = packet.Identifier;
        if (reason is null)
        {
            _answer = AuthPacket.BuildPapReply(PapCode.AuthenticateAck, _answerIdentifier, "Access granted");
            Send(_answer);
            Succeed();
        }
        else
        {
            _answer = AuthPacket.BuildPapReply(PapCode.AuthenticateNak, _answerIdentifier, "Authentication failed");
            Send(_answer);
            Fail(reason);
        }
    }

    private string? Check(string name, ReadOnlySpan<byte> password)
    {
        if (!_users.TryGetSecret(name, out var secret))
        {
            return $"PAP: unknown user '{name}'.";
        }
        if (secret.IsDisabled)
        {
            return $"PAP: account '{name}' is disabled.";
        }
        if (secret.Password is null)
        {
            return $"PAP: user '{name}' is stored only as an NT hash; PAP needs the plaintext password (use MS-CHAPv2).";
        }

        var expected = Encoding.UTF8.GetBytes(secret.Password);
        var matches = CryptographicOperations.FixedTimeEquals(expected, password);
        CryptographicOperations.ZeroMemory(expected);
        return matches ? null : $"PAP: wrong password for user '{name}'.";
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
