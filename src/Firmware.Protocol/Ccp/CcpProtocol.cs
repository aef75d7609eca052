using Firmware.Protocol.Mppe;
using Firmware.Protocol.Ppp;

namespace Firmware.Protocol.Ccp;

/// <summary>What CCP agreed for MPPE: one key strength and one mode, the same both ways.</summary>
/// <param name="Strength">The key strength.</param>
/// <param name="Stateless">Stateless (bit H) mode.</param>
public sealed record MppeAgreement(MppeKeyStrength Strength, bool Stateless)
{
    /// <summary>"MPPE-128 stateless".</summary>
    public override string ToString() => MppeOptionBits.Describe(Strength, Stateless);
}

/// <summary>
/// The Compression Control Protocol (RFC 1962) carrying only the MPPE option (RFC 3078); every other
/// compressor (Deflate, BSD-Compress, Predictor …) is Configure-Rejected by the automaton. Reset-Request
/// (code 14) and Reset-Ack (code 15) resynchronise stateful MPPE: a received Reset-Request is answered with a
/// Reset-Ack of the same identifier and reported through <see cref="ResetRequested"/>; <see cref="SendResetRequest"/>
/// sends one and repeats it on the restart timer while the receiver still waits for a flushed packet.
/// </summary>
public sealed class CcpProtocol : ControlProtocol
{
    private readonly CcpMppeOption _mppe;
    private readonly PppAutomatonSettings _settings;
    private readonly ProtocolTimer _resetTimer;
    private Func<bool>? _stillAwaitingFlush;
    private int _resetResendsLeft;
    private byte _resetIdentifier;

    /// <param name="policy">What we accept for MPPE.</param>
    /// <param name="isServer">The server decides the mode when both ends allow both (see <see cref="CcpMppeOption"/>).</param>
    /// <param name="automaton">Restart timer and counters (also pace Reset-Request repeats).</param>
    /// <param name="time">Time source.</param>
    /// <param name="output">Where packets go.</param>
    /// <param name="dispatch">Posts timer expiries into the session's loop.</param>
    public CcpProtocol(MppeNegotiationPolicy policy, bool isServer, PppAutomatonSettings automaton, TimeProvider time, IPppControlOutput output, Action<Action>? dispatch = null)
        : base(PppProtocol.Ccp, "CCP", automaton, time, output, dispatch)
    {
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        _settings = automaton;
        _mppe = new CcpMppeOption(policy, isServer);
        AddOption(_mppe);
        _resetTimer = new ProtocolTimer(time, OnResetTimerExpired, dispatch);
    }

    /// <summary>The policy in force.</summary>
    public MppeNegotiationPolicy Policy => _mppe.Policy;

    /// <summary>
    /// Narrows the policy for this link before CCP negotiates (a RADIUS server's MS-MPPE-Encryption-Policy and
    /// -Types, known once the login is accepted): <paramref name="requireEncryption"/> makes MPPE required,
    /// <paramref name="keyLengths"/> (40, 56, 128) keeps only those key lengths. It never widens what the config
    /// allows. Returns why MPPE cannot be agreed at all (no key length left), or null.
    /// </summary>
    public string? Restrict(bool requireEncryption, IReadOnlyCollection<int>? keyLengths)
    {
        var policy = _mppe.Policy;
        var allowed = policy.AllowedKeyBits;
        var keys = keyLengths is null ? allowed : allowed & (
            (keyLengths.Contains(40) ? MppeOptionBits.Bits40 : 0) | (keyLengths.Contains(56) ? MppeOptionBits.Bits56 : 0)
            | (keyLengths.Contains(128) ? MppeOptionBits.Bits128 : 0));
        // With no key length left the allowed ones stay: the caller blocks MPPE with the reason returned.
        _mppe.Policy = (keys == 0 ? policy : policy.WithKeyBits(keys)) with { Required = policy.Required || requireEncryption };
        if (keys != 0)
        {
            return null;
        }

        return keyLengths!.Count == 0
            ? "the RADIUS server allows no MPPE key length (MS-MPPE-Encryption-Types)"
            : $"the RADIUS server allows only {string.Join("/", keyLengths.Order())}-bit MPPE and this server only {MppeOptionBits.DescribeKeys(allowed)}";
    }

    /// <summary>What was agreed, while Opened with MPPE; null otherwise.</summary>
    public MppeAgreement? Agreement { get; private set; }

    /// <summary>Why MPPE could not be agreed, when we gave up (null otherwise).</summary>
    public string? FailureReason => _mppe.FailureReason;

    /// <summary>Reset-Requests sent (first sends and repeats).</summary>
    public long ResetRequestsSent { get; private set; }

    /// <summary>Reset-Requests received (each answered with a Reset-Ack).</summary>
    public long ResetRequestsReceived { get; private set; }

    /// <summary>Reset-Acks received for our outstanding Reset-Request.</summary>
    public long ResetAcksReceived { get; private set; }

    /// <summary>Raised when the peer asks us to reset (its stateful decryptor lost sync).</summary>
    public event Action? ResetRequested;

    /// <summary>Raised at This-Layer-Up, after <see cref="Agreement"/> is set.</summary>
    public event Action<CcpProtocol>? MppeUp;

    /// <summary>Raised at This-Layer-Down, before the automaton reports it.</summary>
    public event Action<CcpProtocol>? MppeDown;

    /// <summary>
    /// Makes MPPE impossible for the next negotiation (no key material): with a required policy CCP gives
    /// up with <paramref name="reason"/>; otherwise it negotiates without MPPE. Null lifts the block.
    /// </summary>
    public void Block(string? reason) => _mppe.BlockedReason = reason;

    /// <summary>
    /// Sends a Reset-Request (stateful receiver lost sync) and repeats it (see <see cref="ResetRepeatInterval"/>), at most
    /// Max-Configure times, while <paramref name="stillAwaitingFlush"/> says the flushed packet has not come.
    /// A call while one is outstanding does nothing. Only in Opened.
    /// </summary>
    public void SendResetRequest(Func<bool> stillAwaitingFlush)
    {
        ArgumentNullException.ThrowIfNull(stillAwaitingFlush);
        if (State != PppState.Opened || _resetTimer.IsRunning)
        {
            return;
        }

        _stillAwaitingFlush = stillAwaitingFlush;
        _resetResendsLeft = _settings.MaxConfigure;
        SendResetRequestNow();
    }

    private void SendResetRequestNow()
    {
        _resetIdentifier++;
        ResetRequestsSent++;
        Automaton.SendPacket(PppCode.ResetRequest, _resetIdentifier, default);
        _resetTimer.Start(ResetRepeatInterval);
    }

    /// <summary>
    /// How soon an unanswered Reset-Request is repeated: the restart interval, at most 1 s (pppd's RACKTIMEOUT).
    /// Every moment waiting for the flush drops all the peer sends, so a lost request must not cost 3 s.
    /// </summary>
    private TimeSpan ResetRepeatInterval => _settings.RestartInterval < TimeSpan.FromSeconds(1) ? _settings.RestartInterval : TimeSpan.FromSeconds(1);

    private void OnResetTimerExpired()
    {
        // A Reset-Ack does not stop the repeats: if the flushed packet that follows it is lost too, only
        // another request brings the next one (the peer's encryptor makes repeats harmless).
        if (State == PppState.Opened && _resetResendsLeft-- > 0 && _stillAwaitingFlush?.Invoke() == true)
        {
            SendResetRequestNow();
        }
    }

    /// <inheritdoc />
    protected internal override ExtendedCodeResult ReceiveExtendedCode(byte code, byte identifier, ReadOnlySpan<byte> data)
    {
        switch ((PppCode)code)
        {
            case PppCode.ResetRequest:
                if (State == PppState.Opened)
                {
                    ResetRequestsReceived++;
                    Automaton.SendPacket(PppCode.ResetAck, identifier, default);
                    ResetRequested?.Invoke();
                }

                return ExtendedCodeResult.Handled;
            case PppCode.ResetAck:
                if (State == PppState.Opened && identifier == _resetIdentifier && _resetTimer.IsRunning)
                {
                    ResetAcksReceived++;
                }

                return ExtendedCodeResult.Handled;
            default:
                return ExtendedCodeResult.Unknown;
        }
    }

    /// <inheritdoc />
    protected internal override void OnThisLayerUp()
    {
        Agreement = null;
        var local = _mppe.LocalRequested;
        var peer = _mppe.PeerAgreed;
        if (local && peer)
        {
            if ((_mppe.LocalKeys & _mppe.PeerKey) == 0 || _mppe.LocalStateless != _mppe.PeerStateless)
            {
                // Only a peer that Acks what it should Nak gets here.
                Fail($"MPPE directions disagree: we send {MppeOptionBits.DescribeKeys(_mppe.LocalKeys)} {Mode(_mppe.LocalStateless)}, "
                    + $"peer sends {MppeOptionBits.DescribeKeys(_mppe.PeerKey)} {Mode(_mppe.PeerStateless)}");
            }
            else
            {
                Agreement = new MppeAgreement(MppeOptionBits.ToStrength(_mppe.PeerKey), _mppe.PeerStateless);
            }
        }
        else if (local || peer)
        {
            Fail("MPPE was agreed in one direction only");
        }
        else if (Policy.Required)
        {
            Fail(_mppe.FailureReason ?? _mppe.BlockedReason ?? "peer did not negotiate MPPE, encryption required");
        }

        MppeUp?.Invoke(this);
    }

    /// <inheritdoc />
    protected internal override void OnThisLayerDown()
    {
        _resetTimer.Stop();
        Agreement = null;
        MppeDown?.Invoke(this);
    }

    private static string Mode(bool stateless) => stateless ? "stateless" : "stateful";

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _resetTimer.Dispose();
        }

        base.Dispose(disposing);
    }
}
