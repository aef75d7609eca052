using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Firmware.Protocol.Mppe;

/// <summary>What became of one received MPPE packet.</summary>
public enum MppeDecryptStatus
{
    /// <summary>Decrypted in place: the PPP protocol field and data follow the 2-byte header.</summary>
    Ok,
    /// <summary>Dropped; <see cref="MppeDecryptor.LastDropReason"/> says why and its counter moved.</summary>
    Dropped,
    /// <summary>
    /// Dropped, and stateful sync is lost or still lost: the session's CCP must send a Reset-Request now unless
    /// one is outstanding (and repeat it on its restart timer while <see cref="MppeDecryptor.AwaitingFlush"/> is true).
    /// </summary>
    SendResetRequest,
}

/// <summary>Why a received MPPE packet was dropped; each has a counter.</summary>
public enum MppeDropReason
{
    /// <summary>Not dropped.</summary>
    None,
    /// <summary>No payload after the 2-byte header.</summary>
    TooShort,
    /// <summary>Bit D clear: an unencrypted packet on a link where MPPE is up.</summary>
    NotEncrypted,
    /// <summary>Bit C set: MPPC compression, which we never negotiate.</summary>
    Compressed,
    /// <summary>Stateless mode, but bit A clear (every stateless packet is flushed).</summary>
    FlushedBitMissing,
    /// <summary>Stateful mode, a flag packet (count xxFF) without bit A.</summary>
    FlagPacketNotFlushed,
    /// <summary>Stateless: a coherency count already received (a replay or duplicate).</summary>
    Replayed,
    /// <summary>Stateless: a count behind the window (too late to decrypt) or too far ahead. Stateful: a count
    /// at or behind the last one (a late or repeated packet), dropped without losing sync.</summary>
    OutOfWindow,
    /// <summary>
    /// Stateless: a long jump ahead while the key-change budget is spent. Each count stepped costs a key
    /// change, so a flood of forged far-ahead counts would otherwise cost a core; the budget refills with time.
    /// </summary>
    KeyChangeBudget,
    /// <summary>Stateful: a gap in the counts; the decryptor waits for a flushed packet.</summary>
    PacketLoss,
    /// <summary>Stateful: dropped while waiting for the flushed packet that answers the Reset-Request.</summary>
    AwaitingFlush,
    /// <summary>
    /// Stateful: decrypted to no plausible IPv4 or IPv6 packet (the keys of the two ends differ). A flushed
    /// packet that no key in reach decrypts, or a run of such packets, loses sync and asks for a reset.
    /// </summary>
    Undecryptable,
}

/// <summary>
/// Decrypts incoming packets of one MPPE link in place (RFC 3078), interoperating with Linux ppp_mppe.
/// Stateless: each packet's count says how many key changes to make (at most <see cref="MaxForwardJump"/>,
/// by default half the count space as Linux does); packets up to <see cref="ReorderWindow"/> counts late
/// are still decrypted with a remembered key, and each count is accepted once. Stateful (RFC 3078 section
/// 8.2): a gap means packet loss: the packet is dropped, <see cref="MppeDecryptStatus.SendResetRequest"/>
/// is returned once, and packets are dropped until one with the flushed bit arrives; then the key is
/// changed once for every flag packet missed (at most 15) and once for the flush itself. Reset-Ack needs no
/// action here. Nothing is allocated per packet; bad input never throws. Not thread-safe.
/// <para>
/// Stateful, where Linux ppp_mppe (and RFC 3078) become a black hole, and what we do instead. Linux changes key
/// on the packet that answers a Reset-Request whatever its count; if that answer is lost (or arrives after a
/// gap, which Linux drops without its key change), the receiver resynchronises on a later flushed packet one key
/// short, and nothing tells it: RC4 has no integrity check, ppp_mppe hands the garbage up and stays one key apart
/// for good. So we check what a stateful packet decrypts to: an IPv4 or IPv6 packet whose version and length
/// fields fit the frame (about 1 in 100,000 for random bytes). A flushed packet that does not is tried with the
/// key before its change (a sender that held its key, see <see cref="MppeEncryptor.HoldKeyOnNextFlush"/>) and
/// with up to <see cref="MaxKeySearch"/> further changes (a Linux sender's answers we lost); if none fits, it is
/// dropped as if it never came and we ask again (<see cref="ConsecutiveFailedResyncs"/> counts these, for the
/// session to give up on). A run of <see cref="UndecryptableRunLimit"/> unflushed packets that do not fit loses
/// sync too. And a flushed packet that reveals a gap resynchronises at once (Linux drops it and waits for the
/// flush a Reset-Request brings, a round trip later). Our own encryptor answers with flag packets, which a
/// receiver accounts for even when they are lost.
/// </para>
/// <para>
/// Where we are stricter than Linux: ppp_mppe takes any stateless step up to half the count space, so one
/// forged frame 2048 counts ahead costs 2048 key changes (about 50 normal frames' CPU). Here steps beyond
/// <see cref="FreeJump"/> draw on a key-change budget of <see cref="KeyChangeBudgetPerSecond"/> that refills
/// on the monotonic clock: a real burst of loss still resynchronises at once, a flood of forged counts costs
/// at most that many key changes a second and is dropped and counted as <see cref="MppeDropReason.KeyChangeBudget"/>.
/// </para>
/// </summary>
public sealed class MppeDecryptor : IDisposable
{
    /// <summary>How many counts late a stateless packet may be and still decrypt.</summary>
    public const int ReorderWindow = 64;

    /// <summary>Stateless: steps up to this size are always taken (ordinary loss and reordering).</summary>
    public const int FreeJump = 256;

    /// <summary>Stateless: key changes a second that longer steps may use (two maximal jumps a second).</summary>
    public const int KeyChangeBudgetPerSecond = MppeHeader.CoherencyCountSpace;

    /// <summary>Stateful: extra key changes tried on a flushed packet that does not decrypt (its lost predecessors).</summary>
    public const int MaxKeySearch = 4;

    /// <summary>Stateful: this many undecryptable packets in a row mean the keys differ.</summary>
    public const int UndecryptableRunLimit = 3;

    /// <summary>Bytes of plaintext that show a packet is plausible: the protocol field and the IP length fields.</summary>
    private const int ProbeLength = 8;

    private readonly MppeCipherState _cipher;
    private readonly long[] _drops = new long[Enum.GetValues<MppeDropReason>().Length];
    private readonly byte[] _keyHistory;
    private int _coherencyCount = MppeHeader.CoherencyCountSpace - 1;
    private ulong _receivedMask = ulong.MaxValue;
    private bool _discarding;
    private readonly TimeProvider? _time;
    private double _keyChangeBudget = KeyChangeBudgetPerSecond;
    private long _budgetStamp;
    private readonly byte[] _heldKey;
    private Rc4 _probe;
    private int _undecryptableRun;

    /// <param name="startKey">This end's receive start key (see <see cref="MppeKeyDerivation.DeriveStartKeys"/>).</param>
    /// <param name="strength">The negotiated key strength.</param>
    /// <param name="stateless">True when CCP negotiated stateless mode.</param>
    /// <param name="maxForwardJump">Stateless: the largest count step accepted (1..2048; default 2048 as
    /// Linux). Each step costs a key change, and an injected packet can make us take them, so a smaller
    /// bound limits that work.</param>
    /// <param name="time">Monotonic clock for the key-change budget of long stateless steps; null: no budget.</param>
    public MppeDecryptor(ReadOnlySpan<byte> startKey, MppeKeyStrength strength, bool stateless, int maxForwardJump = MppeHeader.CoherencyCountSpace / 2,
        TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxForwardJump, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxForwardJump, MppeHeader.CoherencyCountSpace / 2);
        _cipher = new MppeCipherState(startKey, strength);
        Stateless = stateless;
        MaxForwardJump = maxForwardJump;
        _keyHistory = new byte[ReorderWindow * _cipher.KeyLength];
        _heldKey = new byte[_cipher.KeyLength];
        _time = time;
        _budgetStamp = time?.GetTimestamp() ?? 0;
    }

    /// <summary>True in stateless mode.</summary>
    public bool Stateless { get; }

    /// <summary>Stateless: the largest forward step of the coherency count accepted.</summary>
    public int MaxForwardJump { get; }

    /// <summary>The key strength.</summary>
    public MppeKeyStrength Strength => _cipher.Strength;

    /// <summary>Stateful: true while packets are dropped until a flushed one arrives (keep sending Reset-Requests).</summary>
    public bool AwaitingFlush => _discarding;

    /// <summary>The newest coherency count accepted (4095 before the first).</summary>
    public int CoherencyCount => _coherencyCount;

    /// <summary>Packets decrypted.</summary>
    public long PacketsDecrypted { get; private set; }

    /// <summary>Stateful: flushed packets in a row (since the last good packet) that no key in reach decrypted.</summary>
    public int ConsecutiveFailedResyncs { get; private set; }

    /// <summary>Stateful: resynchronisations that needed extra key changes (the peer's flushed packets we lost).</summary>
    public long KeySearchRecoveries { get; private set; }

    /// <summary>Stateful: gaps resynchronised on the flushed packet that revealed them, with no Reset-Request.</summary>
    public long GapsBridged { get; private set; }

    /// <summary>Stateful: flushed packets the sender sent with its key held, followed.</summary>
    public long HeldKeysFollowed { get; private set; }

    /// <summary>Why the last packet was dropped (None after a good one).</summary>
    public MppeDropReason LastDropReason { get; private set; }

    /// <summary>Packets dropped for <paramref name="reason"/>.</summary>
    public long DroppedPackets(MppeDropReason reason) => _drops[(int)reason];

    /// <summary>Packets dropped for any reason.</summary>
    public long TotalDroppedPackets
    {
        get
        {
            long total = 0;
            foreach (var count in _drops)
            {
                total += count;
            }
            return total;
        }
    }

    /// <summary>
    /// Decrypts one packet in place: <paramref name="frame"/> is the data of a PPP Compressed Datagram (the
    /// MPPE header and ciphertext). On <see cref="MppeDecryptStatus.Ok"/>, <c>frame[2..]</c> is the plaintext
    /// PPP protocol field (1 byte if the peer used protocol-field compression) and data. A dropped frame's
    /// bytes may have been left as they were or not: discard it.
    /// </summary>
    public MppeDecryptStatus Decrypt(Span<byte> frame)
    {
        if (frame.Length <= MppeHeader.Length)
        {
            return Drop(MppeDropReason.TooShort);
        }

        var bits = MppeHeader.Bits(frame);
        var count = MppeHeader.CoherencyCount(frame);
        var flushed = (bits & MppeHeader.FlushedBit) != 0;
        if ((bits & MppeHeader.CompressedBit) != 0)
        {
            return Drop(MppeDropReason.Compressed);
        }
        if ((bits & MppeHeader.EncryptedBit) == 0)
        {
            return Drop(MppeDropReason.NotEncrypted);
        }

        var payload = frame[MppeHeader.Length..];
        return Stateless ? DecryptStateless(payload, count, flushed) : DecryptStateful(payload, count, flushed);
    }

    private MppeDecryptStatus DecryptStateless(Span<byte> payload, int count, bool flushed)
    {
        if (!flushed)
        {
            return Drop(MppeDropReason.FlushedBitMissing);
        }

        var ahead = (count - _coherencyCount) & 0x0FFF;
        if (ahead == 0)
        {
            return Drop(MppeDropReason.Replayed);
        }

        if (ahead <= MaxForwardJump)
        {
            if (ahead > FreeJump && !TrySpendKeyChanges(ahead))
            {
                return Drop(MppeDropReason.KeyChangeBudget);
            }
            var keyLength = _cipher.KeyLength;
            for (var step = 0; step < ahead; step++)
            {
                _cipher.AdvanceKey();
                // Only the last ReorderWindow keys can ever be used again.
                if (ahead - step <= ReorderWindow)
                {
                    var slot = ((_coherencyCount + step + 1) & (ReorderWindow - 1)) * keyLength;
                    _cipher.CopySessionKey(_keyHistory.AsSpan(slot, keyLength));
                }
            }

            _coherencyCount = count;
            _receivedMask = ahead >= 64 ? 1UL : (_receivedMask << ahead) | 1UL;
            _cipher.RestartCipher();
            return Deliver(payload);
        }

        var behind = MppeHeader.CoherencyCountSpace - ahead;
        if (behind >= ReorderWindow)
        {
            return Drop(MppeDropReason.OutOfWindow);
        }
        if ((_receivedMask & (1UL << behind)) != 0)
        {
            return Drop(MppeDropReason.Replayed);
        }

        _receivedMask |= 1UL << behind;
        var keySlot = (count & (ReorderWindow - 1)) * _cipher.KeyLength;
        _cipher.RestartCipher(_keyHistory.AsSpan(keySlot, _cipher.KeyLength));
        return Deliver(payload);
    }

    private bool TrySpendKeyChanges(int steps)
    {
        if (_time is null)
        {
            return true;
        }
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_budgetStamp, now).TotalSeconds;
        _budgetStamp = now;
        _keyChangeBudget = Math.Min(KeyChangeBudgetPerSecond, _keyChangeBudget + (elapsed * KeyChangeBudgetPerSecond));
        if (_keyChangeBudget < steps)
        {
            return false;
        }
        _keyChangeBudget -= steps;
        return true;
    }

    private MppeDecryptStatus DecryptStateful(Span<byte> payload, int count, bool flushed)
    {
        if ((count & 0xFF) == 0xFF && !flushed)
        {
            return Drop(MppeDropReason.FlagPacketNotFlushed);
        }

        // Half the count space or more ahead is behind in serial arithmetic: a late (or forged) packet, not a
        // sign of loss. Drop it and keep sync rather than ask for a reset and discard what follows.
        var ahead = (count - _coherencyCount) & 0x0FFF;
        if (ahead > MppeHeader.CoherencyCountSpace / 2 || (ahead == 0 && !_discarding))
        {
            return Drop(MppeDropReason.OutOfWindow);
        }

        // A flushed packet that no key in reach decrypts is dropped as if it never came (it may be forged, or
        // garbage with a count that would make us step keys for flag packets never sent): keep what it changes.
        var countBefore = _coherencyCount;
        var discardingBefore = _discarding;
        var bridging = false;
        if (flushed)
        {
            _cipher.Save();
        }

        if (!_discarding)
        {
            _coherencyCount = (_coherencyCount + 1) & 0x0FFF;
            if (count != _coherencyCount)
            {
                _discarding = true;
                if (!flushed)
                {
                    Drop(MppeDropReason.PacketLoss);
                    return MppeDecryptStatus.SendResetRequest;
                }
                // A flushed packet after the gap restarts RC4 itself: resynchronise on it at once, as on the
                // flush a Reset-Request would bring (Linux drops it and waits for another round trip).
                bridging = true;
            }
        }
        if (_discarding)
        {
            if (!flushed)
            {
                // Every packet that waits asks again: CCP repeats a Reset-Request only while its repeats last, and
                // a peer silent for longer (its TCP backing off) whose flushed answer is then lost would otherwise
                // be dropped for good. A request already outstanding makes this a no-op.
                Drop(MppeDropReason.AwaitingFlush);
                return MppeDecryptStatus.SendResetRequest;
            }

            // One key change for every flag packet we missed: the sender changed key on each of them.
            while ((count & ~0xFF) != (_coherencyCount & ~0xFF))
            {
                _cipher.AdvanceKey();
                _coherencyCount = (_coherencyCount + 0x100) & 0x0FFF;
            }
            _discarding = false;
            _coherencyCount = count;
        }

        if (flushed)
        {
            // The key before this flush's change: a sender that held its key (see MppeEncryptor.HoldKeyOnNextFlush)
            // for a peer it believed one behind used it.
            _cipher.CopySessionKey(_heldKey);
            _cipher.Rekey();
            if (!Probe(payload) && !TryHeldKey(payload) && !SearchKey(payload))
            {
                _cipher.Restore();
                _coherencyCount = countBefore;
                _discarding = discardingBefore;
                ConsecutiveFailedResyncs++;
                // Awaiting a flush: ask again. In sync: the packets after it will tell (a run of garbage).
                return discardingBefore ? DropAndAskForReset() : Undecryptable();
            }
            if (bridging)
            {
                GapsBridged++;
            }
            return Accept(payload);
        }

        _cipher.Transform(payload);
        return IsPlausiblePacket(payload, payload.Length) ? Accept(payload, transformed: true) : Undecryptable();
    }

    /// <summary>Drops a packet that decrypted to garbage; a run of them means the keys differ: sync is lost.</summary>
    private MppeDecryptStatus Undecryptable()
    {
        if (++_undecryptableRun < UndecryptableRunLimit)
        {
            return Drop(MppeDropReason.Undecryptable);
        }
        _undecryptableRun = 0;
        _discarding = true;
        return DropAndAskForReset();
    }

    private MppeDecryptStatus DropAndAskForReset()
    {
        Drop(MppeDropReason.Undecryptable);
        return MppeDecryptStatus.SendResetRequest;
    }

    private MppeDecryptStatus Accept(Span<byte> payload, bool transformed = false)
    {
        _undecryptableRun = 0;
        ConsecutiveFailedResyncs = 0;
        if (!transformed)
        {
            _cipher.Transform(payload);
        }
        PacketsDecrypted++;
        LastDropReason = MppeDropReason.None;
        return MppeDecryptStatus.Ok;
    }

    /// <summary>Whether the current session key, from a fresh RC4 start, decrypts the packet's head to a plausible packet.</summary>
    private bool Probe(ReadOnlySpan<byte> payload) => ProbeWith(_cipher.SessionKey, payload);

    private bool ProbeWith(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload)
    {
        Span<byte> head = stackalloc byte[ProbeLength];
        head = head[..Math.Min(ProbeLength, payload.Length)];
        payload[..head.Length].CopyTo(head);
        _probe.Init(key);
        _probe.Transform(head);
        return IsPlausiblePacket(head, payload.Length);
    }

    /// <summary>Whether the packet was sent with the key held (no change on this flush); if so RC4 restarts with it.</summary>
    private bool TryHeldKey(ReadOnlySpan<byte> payload)
    {
        if (!ProbeWith(_heldKey, payload))
        {
            return false;
        }
        _cipher.SetSessionKey(_heldKey);
        HeldKeysFollowed++;
        return true;
    }

    /// <summary>Tries up to <see cref="MaxKeySearch"/> further key changes; on a fit, RC4 restarts with that key.</summary>
    private bool SearchKey(ReadOnlySpan<byte> payload)
    {
        for (var step = 1; step <= MaxKeySearch; step++)
        {
            _cipher.AdvanceKey();
            if (Probe(payload))
            {
                _cipher.RestartCipher();
                KeySearchRecoveries++;
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Whether decrypted bytes (at least the first <see cref="ProbeLength"/>, of a packet <paramref name="length"/>
    /// long) start like what MPPE carries for us: protocol 0021 with an IPv4 header, or 0057 with an IPv6 one,
    /// whose length field fits the frame (PPP has no padding; a shorter IP length is allowed, a longer one not).
    /// </summary>
    public static bool IsPlausiblePacket(ReadOnlySpan<byte> head, int length)
    {
        if (head.IsEmpty)
        {
            return false;
        }
        // Protocol-field compression: an odd first byte is the whole (1-byte) protocol field.
        var protocolLength = (head[0] & 1) != 0 ? 1 : 2;
        if (head.Length <= protocolLength)
        {
            return false;
        }
        var protocol = protocolLength == 1 ? head[0] : BinaryPrimitives.ReadUInt16BigEndian(head);
        var ip = head[protocolLength..];
        var ipLength = length - protocolLength;
        switch (protocol)
        {
            case 0x0021 when ip[0] >> 4 == 4 && ipLength >= 20:
                return ip.Length < 4 || BinaryPrimitives.ReadUInt16BigEndian(ip[2..]) is var total && total >= 20 && total <= ipLength;
            case 0x0057 when ip[0] >> 4 == 6 && ipLength >= 40:
                return ip.Length < 6 || BinaryPrimitives.ReadUInt16BigEndian(ip[4..]) + 40 <= ipLength;
            default:
                return false;
        }
    }

    private MppeDecryptStatus Deliver(Span<byte> payload)
    {
        _cipher.Transform(payload);
        PacketsDecrypted++;
        LastDropReason = MppeDropReason.None;
        return MppeDecryptStatus.Ok;
    }

    private MppeDecryptStatus Drop(MppeDropReason reason)
    {
        _drops[(int)reason]++;
        LastDropReason = reason;
        return MppeDecryptStatus.Dropped;
    }

    /// <summary>Zeroes the keys.</summary>
    public void Dispose()
    {
        _cipher.Clear();
        _probe.Clear();
        CryptographicOperations.ZeroMemory(_keyHistory);
        CryptographicOperations.ZeroMemory(_heldKey);
    }
}
