using System.Security.Cryptography;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Mppe;
using Firmware.Protocol.Ppp;

namespace Firmware.Protocol.Ccp;

/// <summary>
/// CCP with MPPE as the session's encryption layer. After authentication it takes the MS-CHAP key material
/// (RFC 3079); once CCP is Opened with an agreement it derives the start keys for the agreed strength and
/// encrypts/decrypts data frames in place through <see cref="Transform"/>. Stateful receivers that lose sync
/// make CCP send Reset-Requests; the peer's Reset-Requests flush our encryptor. Driven by the session loop
/// only; not thread-safe.
/// </summary>
public sealed class MppeEncryptionLayer : IPppEncryptionLayer
{
    private readonly CcpProtocol _ccp;
    private readonly bool _isServer;
    private readonly TimeProvider _time;
    private readonly MppeDataTransform _transform;
    private readonly long[] _drops = new long[Enum.GetValues<MppeDropReason>().Length];
    private readonly Func<bool> _awaitingFlush;
    private MppeKeyMaterial? _material;
    private bool _isAuthenticator;
    private MppeEncryptor? _encryptor;
    private MppeDecryptor? _decryptor;
    private string? _blockedReason;
    private string? _finishedReason;
    private bool _materialUsed;
    private string? _fatalReason;
    private readonly TimeSpan _restartInterval;
    private long? _lastKeyHold;
    private int _keyHoldsInARow;
    private long? _syncLostAt;

    /// <summary>
    /// Stateful: the link is given up once this many flushed packets in a row decrypted to garbage with every key
    /// in reach and sync has been lost for <see cref="GiveUpIntervals"/> restart intervals (several Reset-Requests
    /// unanswered by a good packet), not on a burst of garbage alone.
    /// </summary>
    public const int MaxFailedResyncs = 3;

    /// <summary>Stateful: restart intervals out of sync (see <see cref="MaxFailedResyncs"/>) before the link is given up.</summary>
    public const int GiveUpIntervals = 4;

    /// <summary>
    /// Stateful: key holds in a row (the peer still rejecting garbage after each, with no Reset-Request of its own
    /// in between) before the link is given up.
    /// </summary>
    public const int MaxKeyHoldsInARow = 3;

    /// <param name="context">What the session provides (time, output, automaton settings, dispatch).</param>
    /// <param name="policy">What we accept for MPPE.</param>
    /// <param name="isServer">True on the PPTP server (the MS-CHAP authenticator).</param>
    public MppeEncryptionLayer(PppLayerContext context, MppeNegotiationPolicy policy, bool isServer)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(policy);
        _isServer = isServer;
        _time = context.Time;
        _restartInterval = context.Automaton.RestartInterval;
        _ccp = new CcpProtocol(policy, isServer, context.Automaton, context.Time, context.Output, context.Dispatch);
        _ccp.MppeUp += OnCcpUp;
        // The first reason wins: the session's own "link down" close comes after it.
        _ccp.Automaton.LayerFinished += a => _finishedReason ??= a.LastReason;
        _ccp.MppeDown += _ => DropCiphers();
        _ccp.ResetRequested += () =>
        {
            _encryptor?.ResetRequested();
            // The peer lost a packet and resynchronises anew: garbage after this is a new story, not a hold
            // that failed (that shows as garbage with no Reset-Request in between).
            _keyHoldsInARow = 0;
        };
        _transform = new MppeDataTransform(this);
        _awaitingFlush = () => _decryptor?.AwaitingFlush == true;
    }

    /// <summary>A factory for <see cref="PppSession"/>'s encryption hook.</summary>
    public static Func<PppLayerContext, IPppEncryptionLayer> Factory(MppeNegotiationPolicy policy, bool isServer)
    {
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        return context => new MppeEncryptionLayer(context, policy, isServer);
    }

    /// <summary>The CCP instance.</summary>
    public CcpProtocol Ccp => _ccp;

    /// <inheritdoc />
    public ControlProtocol ControlProtocol => _ccp;

    /// <inheritdoc />
    public bool Required => _ccp.Policy.Required;

    /// <inheritdoc />
    public IPppDataTransform? Transform => _encryptor is not null ? _transform : null;

    /// <summary>What is in force, while CCP is Opened with MPPE.</summary>
    public MppeAgreement? Agreement => _encryptor is not null ? _ccp.Agreement : null;

    /// <inheritdoc />
    public string? FatalReason => _fatalReason;

    /// <inheritdoc />
    public string? FailureReason =>
        _fatalReason ?? _blockedReason ?? _ccp.FailureReason ?? ((_finishedReason ?? _ccp.Automaton.LastReason) is { } last && Required ? $"{last}; MPPE required" : null);

    /// <summary>
    /// For status: "MPPE-128 stateless" while encrypting; a note when CCP is up without MPPE (only possible
    /// when not required) or why it is not up.
    /// </summary>
    public string? Description
    {
        get
        {
            if (Agreement is { } agreement)
            {
                return agreement.ToString();
            }

            if (_ccp.State == PppState.Opened && !Required)
            {
                return $"unencrypted: {_ccp.FailureReason ?? _blockedReason ?? "peer did not negotiate MPPE"}";
            }

            return FailureReason;
        }
    }

    /// <summary>Packets encrypted since the layer was created.</summary>
    public long PacketsEncrypted { get; private set; }

    /// <summary>Packets decrypted since the layer was created.</summary>
    public long PacketsDecrypted { get; private set; }

    /// <summary>Outbound packets the encryptor refused (empty, or no header room).</summary>
    public long EncryptRefused { get; private set; }

    /// <summary>Received packets dropped for <paramref name="reason"/>.</summary>
    public long DroppedPackets(MppeDropReason reason) => _drops[(int)reason];

    /// <summary>Received packets dropped for any reason.</summary>
    public long TotalDroppedPackets => _drops.Sum();

    /// <summary>Reset-Requests we sent (stateful loss).</summary>
    public long ResetRequestsSent => _ccp.ResetRequestsSent;

    /// <summary>Reset-Requests the peer sent us.</summary>
    public long ResetRequestsReceived => _ccp.ResetRequestsReceived;

    /// <summary>Stateful resynchronisations that needed extra key changes (see <see cref="MppeDecryptor"/>).</summary>
    public long KeySearchRecoveries => _decryptor?.KeySearchRecoveries ?? 0;

    /// <summary>Protocol-Rejects of protocols we never send: the peer decrypting our packets to garbage.</summary>
    public long GarbageRejectsReceived { get; private set; }

    /// <summary>Flushed packets sent with the key held, to let a peer one key behind catch up.</summary>
    public long KeyHoldsSent { get; private set; }

    /// <inheritdoc />
    public event Action<string>? Failed;

    /// <inheritdoc />
    /// <remarks>
    /// Stateful only, a safety net. Our answers to Reset-Requests are flag packets, so a Linux peer should never
    /// fall a key behind us (see <see cref="MppeEncryptor"/>); if it does, its decryptor runs one key behind for
    /// good and hands the garbage to pppd, which Protocol-Rejects the "protocols" it finds: our only sign. We
    /// answer by holding our key on the next flag packet, so the peer's key change on it catches it up by one.
    /// Rejects within a restart interval of a hold are for packets sent before it; rejects that keep coming after
    /// <see cref="MaxKeyHoldsInARow"/> holds end the link with a reason.
    /// </remarks>
    public void OnPeerRejectedUnknownProtocol(PppProtocol protocol)
    {
        if (_encryptor is not { Stateless: false } encryptor || _fatalReason is not null)
        {
            return;
        }
        GarbageRejectsReceived++;
        var now = _time.GetTimestamp();
        if (_lastKeyHold is { } last)
        {
            var since = _time.GetElapsedTime(last, now);
            if (since < _restartInterval)
            {
                return;
            }
            _keyHoldsInARow = since < 4 * _restartInterval ? _keyHoldsInARow + 1 : 1;
        }
        else
        {
            _keyHoldsInARow = 1;
        }
        if (_keyHoldsInARow > MaxKeyHoldsInARow)
        {
            Fail($"stateful MPPE: the peer cannot decrypt our packets (it rejects garbage protocols such as 0x{(ushort)protocol:X4}) and {MaxKeyHoldsInARow} key resynchronisations did not help");
            return;
        }
        _lastKeyHold = now;
        KeyHoldsSent++;
        encryptor.HoldKeyOnNextFlush();
    }

    private void Fail(string reason)
    {
        if (_fatalReason is not null)
        {
            return;
        }
        _fatalReason = reason;
        Failed?.Invoke(reason);
    }

    /// <inheritdoc />
    public void OnAuthenticated(IAuthProtocol? authenticator, IAuthProtocol? peer)
    {
        // The keys come from the exchange in which the client proved itself; the server is RFC 3079's
        // "IsServer" (authenticator) side. Prefer the exchange our role implies, fall back to the other.
        var (first, firstIsAuthenticator, second) = _isServer ? (authenticator, true, peer) : (peer, false, authenticator);
        _material = first?.KeyMaterial;
        _materialUsed = false;
        _fatalReason = null;
        _isAuthenticator = firstIsAuthenticator;
        if (_material is null)
        {
            _material = second?.KeyMaterial;
            _isAuthenticator = !firstIsAuthenticator;
        }

        var method = (authenticator ?? peer)?.Method ?? AuthMethod.None;
        _blockedReason = _material is null ? $"MPPE requires MS-CHAP authentication (negotiated {AuthMethods.Describe(method)})" : null;
        if (_isServer && authenticator?.Authorization is { } authorization && (authorization.EncryptionRequired || authorization.MppeKeyLengths is not null))
        {
            // What the RADIUS server said about this user's encryption narrows this link (never widens it).
            _blockedReason ??= _ccp.Restrict(authorization.EncryptionRequired, authorization.MppeKeyLengths);
        }
        _ccp.Block(_blockedReason);
    }


    private void OnCcpUp(CcpProtocol ccp)
    {
        DropCiphers();
        _finishedReason = null;
        if (ccp.Agreement is not { } agreement || _material is null)
        {
            return;
        }
        if (_materialUsed)
        {
            // CCP renegotiated on an open link (the peer sent a new Configure-Request). RFC 3079's start keys
            // depend only on the authentication, and both ends restart at coherency count 0, so new ciphers
            // would repeat the key stream already sent. pppd and Windows do just that; we end the link
            // instead, and the client's redial authenticates afresh, which gives fresh keys.
            _fatalReason = "the peer renegotiated CCP on an open link; MPPE would reuse its key stream, so the link is closed (redial for fresh keys)";
            return;
        }
        _materialUsed = true;

        var keys = MppeKeyDerivation.DeriveStartKeys(_material, _isAuthenticator, agreement.Strength);
        try
        {
            _encryptor = new MppeEncryptor(keys.Send, agreement.Strength, agreement.Stateless);
            _decryptor = new MppeDecryptor(keys.Receive, agreement.Strength, agreement.Stateless, time: _time);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keys.Send);
            CryptographicOperations.ZeroMemory(keys.Receive);
        }
    }

    private void DropCiphers()
    {
        _encryptor?.Dispose();
        _decryptor?.Dispose();
        _encryptor = null;
        _decryptor = null;
    }

    private bool Encode(Span<byte> buffer, ref int offset, ref int length)
    {
        if (_encryptor is null || offset < MppeHeader.Length || length <= 0 || offset + length > buffer.Length
            || !_encryptor.Encrypt(buffer.Slice(offset - MppeHeader.Length, length + MppeHeader.Length)))
        {
            EncryptRefused++;
            return false;
        }

        offset -= MppeHeader.Length;
        length += MppeHeader.Length;
        PacketsEncrypted++;
        return true;
    }

    private bool Decode(Span<byte> buffer, ref int offset, ref int length)
    {
        var decryptor = _decryptor;
        if (decryptor is null || offset < 0 || length < 0 || offset + length > buffer.Length)
        {
            return false;
        }

        switch (decryptor.Decrypt(buffer.Slice(offset, length)))
        {
            case MppeDecryptStatus.Ok:
                _syncLostAt = null;
                offset += MppeHeader.Length;
                length -= MppeHeader.Length;
                PacketsDecrypted++;
                return true;
            case MppeDecryptStatus.SendResetRequest:
                _drops[(int)decryptor.LastDropReason]++;
                _syncLostAt ??= _time.GetTimestamp();
                var outOfSync = _time.GetElapsedTime(_syncLostAt.Value);
                if (decryptor.ConsecutiveFailedResyncs >= MaxFailedResyncs && outOfSync >= GiveUpIntervals * _restartInterval)
                {
                    Fail($"stateful MPPE lost sync with the peer: {decryptor.ConsecutiveFailedResyncs} flushed packets in a row over {outOfSync.TotalSeconds:0} s decrypted to garbage with every key in reach");
                    return false;
                }
                _ccp.SendResetRequest(_awaitingFlush);
                return false;
            default:
                _drops[(int)decryptor.LastDropReason]++;
                return false;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        DropCiphers();
        _material = null;
        _ccp.Dispose();
    }

    /// <summary>The in-place MPPE transform the session runs data frames through.</summary>
    private sealed class MppeDataTransform(MppeEncryptionLayer layer) : IPppDataTransform
    {
        public int HeaderRoom => MppeHeader.Length;

        public bool TryEncode(Span<byte> buffer, ref int offset, ref int length) => layer.Encode(buffer, ref offset, ref length);

        public bool TryDecode(Span<byte> buffer, ref int offset, ref int length) => layer.Decode(buffer, ref offset, ref length);
    }
}
