namespace Firmware.Protocol.Radius;

/// <summary>One RADIUS server as the client sees it: its secret and its Identifier pool. The host maps
/// <see cref="RadiusClientTransaction"/>'s server index to an address.</summary>
public sealed class RadiusServerSlot
{
    public RadiusServerSlot(ReadOnlyMemory<byte> secret, RadiusIdentifierPool identifiers)
    {
        ArgumentNullException.ThrowIfNull(identifiers);
        if (secret.IsEmpty)
        {
            throw new ArgumentException("A RADIUS shared secret must not be empty (RFC 2865 section 3).", nameof(secret));
        }
        Secret = secret;
        Identifiers = identifiers;
    }

    public ReadOnlyMemory<byte> Secret { get; }

    public RadiusIdentifierPool Identifiers { get; }
}

/// <summary>Retransmission and failover: each server gets <see cref="AttemptsPerServer"/> sends, the wait
/// doubling from <see cref="InitialTimeout"/> up to <see cref="MaxTimeout"/>, before the next server is tried.</summary>
public sealed record RadiusRetryPolicy
{
    public TimeSpan InitialTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxTimeout { get; init; } = TimeSpan.FromSeconds(8);

    public int AttemptsPerServer { get; init; } = 3;
}

/// <summary>Writes the request for one server: its Identifier, a fresh Request Authenticator and its secret
/// (User-Password and Message-Authenticator depend on them). Returns the length, or -1.</summary>
public delegate int RadiusRequestWriter(Span<byte> destination, byte identifier, ReadOnlySpan<byte> requestAuthenticator, ReadOnlySpan<byte> secret);

public enum RadiusTransactionStatus
{
    Pending,
    /// <summary>A verified answer arrived (it may be a reject: the caller reads it).</summary>
    Answered,
    /// <summary>Every server was tried and none answered.</summary>
    NoServerAnswered,
    /// <summary>Cancelled by the owner.</summary>
    Cancelled,
}

/// <summary>A datagram the host must send to server <paramref name="ServerIndex"/>. The bytes stay valid
/// until the transaction's next event (the host sends before it returns).</summary>
public readonly record struct RadiusOutgoing(int ServerIndex, ReadOnlyMemory<byte> Datagram, int Attempt);

/// <summary>
/// One request's life as a pure state machine: it picks a server, allocates an Identifier there, writes and
/// signs the request, asks the host to send it (<see cref="Send"/>), retransmits the same bytes with
/// back-off, fails over to the next server with a new packet, and ends with a verified answer or with none.
/// Answers that do not verify (wrong authenticator, no Message-Authenticator) are dropped and counted, never
/// taken as the end, so a forger cannot cut a login short. Time comes only from the <see cref="TimeProvider"/>;
/// events are raised on the caller's thread or the timer's dispatch, which the host points at its loop.
/// </summary>
public sealed class RadiusClientTransaction : IDisposable
{
    private readonly IReadOnlyList<RadiusServerSlot> _servers;
    private readonly RadiusRequestWriter _writer;
    private readonly RadiusRandomFill _random;
    private readonly RadiusRetryPolicy _policy;
    private readonly ProtocolTimer _timer;
    private readonly byte[] _packet = new byte[RadiusWire.MaxPacketLength];
    private readonly byte[] _requestAuthenticator = new byte[RadiusWire.AuthenticatorLength];
    private int _length;
    private int _server = -1;
    private bool _holdsIdentifier;
    private int _attempt;
    private TimeSpan _timeout;

    public RadiusClientTransaction(IReadOnlyList<RadiusServerSlot> servers, RadiusRequestWriter writer, RadiusRandomFill random, RadiusRetryPolicy policy, TimeProvider time, Action<Action>? dispatch = null)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(time);
        if (servers.Count == 0 || policy.AttemptsPerServer < 1 || policy.InitialTimeout <= TimeSpan.Zero || policy.MaxTimeout < policy.InitialTimeout)
        {
            throw new ArgumentException("A RADIUS transaction needs a server, at least one attempt and positive timeouts.");
        }
        _servers = servers;
        _writer = writer;
        _random = random;
        _policy = policy;
        _timer = new ProtocolTimer(time, OnTimeout, dispatch);
    }

    /// <summary>A datagram to send.</summary>
    public event Action<RadiusOutgoing>? Send;

    /// <summary>Raised once when the status leaves <see cref="RadiusTransactionStatus.Pending"/>.</summary>
    public event Action<RadiusClientTransaction>? Completed;

    public RadiusTransactionStatus Status { get; private set; }

    /// <summary>The server being tried, then the one that answered.</summary>
    public int ServerIndex => _server;

    /// <summary>The Identifier of the request now outstanding (or answered).</summary>
    public byte Identifier { get; private set; }

    /// <summary>The Request Authenticator of the request now outstanding (or answered): the answer's keys
    /// and attributes are decrypted with it.</summary>
    public ReadOnlySpan<byte> RequestAuthenticator => _requestAuthenticator;

    /// <summary>The verified answer.</summary>
    public byte[]? Answer { get; private set; }

    /// <summary>Datagrams sent, retransmissions included.</summary>
    public int Sends { get; private set; }

    /// <summary>Datagrams that carried our Identifier from the current server but did not verify.</summary>
    public int RefusedAnswers { get; private set; }

    /// <summary>Why the last refused answer was refused.</summary>
    public RadiusVerifyError LastRefusal { get; private set; }

    /// <summary>Sends the first request.</summary>
    public void Start()
    {
        if (_server >= 0 || Status != RadiusTransactionStatus.Pending)
        {
            throw new InvalidOperationException("The transaction has already started.");
        }
        TryNextServer();
    }

    /// <summary>
    /// A datagram from server <paramref name="serverIndex"/>. True if it was our answer and ended the
    /// transaction; anything else (another server, another Identifier, a forgery) is ignored.
    /// </summary>
    public bool OnDatagram(int serverIndex, ReadOnlySpan<byte> datagram)
    {
        if (Status != RadiusTransactionStatus.Pending || serverIndex != _server || !_holdsIdentifier
            || !RadiusPacket.TryParse(datagram, out var packet, out _) || packet.Identifier != Identifier)
        {
            return false;
        }
        if (!Answers((RadiusCode)_packet[0], packet.Code))
        {
            RefusedAnswers++;
            LastRefusal = RadiusVerifyError.UnexpectedCode;
            return false;
        }
        // BlastRADIUS forges an answer to an Access-Request by an MD5 collision over attributes the attacker put
        // in that request; only those answers must have a Message-Authenticator. An Accounting-Response (RFC 2866
        // has none) and an answer to Status-Server (FreeRADIUS 3.2.1 sends none) still need the right Response
        // Authenticator, and there is no attacker's text in the requests to collide with.
        var verified = RadiusAuthenticator.VerifyResponse(packet, Identifier, _requestAuthenticator, _servers[_server].Secret.Span,
            requireMessageAuthenticator: (RadiusCode)_packet[0] == RadiusCode.AccessRequest);
        if (verified != RadiusVerifyError.None)
        {
            RefusedAnswers++;
            LastRefusal = verified;
            return false;
        }
        Answer = packet.Bytes.ToArray();
        Finish(RadiusTransactionStatus.Answered);
        return true;
    }

    /// <summary>Gives up without waiting; the Identifier is released.</summary>
    public void Cancel()
    {
        if (Status == RadiusTransactionStatus.Pending)
        {
            Finish(RadiusTransactionStatus.Cancelled);
        }
    }

    public void Dispose()
    {
        Cancel();
        _timer.Dispose();
    }

    private void TryNextServer()
    {
        ReleaseIdentifier();
        while (++_server < _servers.Count)
        {
            var slot = _servers[_server];
            if (!slot.Identifiers.TryAllocate(out var identifier))
            {
                continue; // all 256 outstanding there: the next server takes it
            }
            _holdsIdentifier = true;
            Identifier = identifier;
            RadiusAuthenticator.NewRequestAuthenticator(_random, _requestAuthenticator);
            _length = _writer(_packet, identifier, _requestAuthenticator, slot.Secret.Span);
            if (_length < RadiusWire.HeaderLength)
            {
                throw new InvalidOperationException("The RADIUS request does not fit a packet.");
            }
            if (RadiusWire.HasComputedRequestAuthenticator((RadiusCode)_packet[0]))
            {
                // Signing computed it from the packet: the answer's authenticator is checked against that one.
                _packet.AsSpan(4, RadiusWire.AuthenticatorLength).CopyTo(_requestAuthenticator);
            }
            _attempt = 0;
            _timeout = _policy.InitialTimeout;
            Transmit();
            return;
        }
        _server = _servers.Count - 1;
        Finish(RadiusTransactionStatus.NoServerAnswered);
    }

    /// <summary>The answer codes that belong to a request code (RFC 2865, RFC 2866, RFC 5997 Status-Server).</summary>
    private static bool Answers(RadiusCode request, RadiusCode answer) => request switch
    {
        RadiusCode.AccessRequest => answer is RadiusCode.AccessAccept or RadiusCode.AccessReject or RadiusCode.AccessChallenge,
        RadiusCode.AccountingRequest => answer == RadiusCode.AccountingResponse,
        RadiusCode.StatusServer => answer is RadiusCode.AccessAccept or RadiusCode.AccountingResponse,
        _ => false,
    };

    private void Transmit()
    {
        _attempt++;
        Sends++;
        _timer.Start(_timeout);
        Send?.Invoke(new RadiusOutgoing(_server, _packet.AsMemory(0, _length), _attempt));
    }

    private void OnTimeout()
    {
        if (Status != RadiusTransactionStatus.Pending)
        {
            return;
        }
        if (_attempt < _policy.AttemptsPerServer)
        {
            var doubled = _timeout + _timeout;
            _timeout = doubled > _policy.MaxTimeout ? _policy.MaxTimeout : doubled;
            Transmit();
            return;
        }
        TryNextServer();
    }

    private void Finish(RadiusTransactionStatus status)
    {
        _timer.Stop();
        ReleaseIdentifier();
        Status = status;
        Completed?.Invoke(this);
    }

    private void ReleaseIdentifier()
    {
        if (_holdsIdentifier)
        {
            _servers[_server].Identifiers.Release(Identifier);
            _holdsIdentifier = false;
        }
    }
}
