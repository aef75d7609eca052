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
    /// Dropped, and stateful sync is lost: the session's CCP must send a Reset-Request now (and repeat it on
    /// its restart timer while <see cref="MppeDecryptor.AwaitingFlush"/> is true).
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

    private readonly MppeCipherState _cipher;
    private readonly long[] _drops = new long[Enum.GetValues<MppeDropReason>().Length];
    private readonly byte[] _keyHistory;
    private int _coherencyCount = MppeHeader.CoherencyCountSpace - 1;
    private ulong _receivedMask = ulong.MaxValue;
    private bool _discarding;
    private readonly TimeProvider? _time;
    private double _keyChangeBudget = KeyChangeBudgetPerSecond;
    private long _budgetStamp;

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

        if (!_discarding)
        {
            _coherencyCount = (_coherencyCount + 1) & 0x0FFF;
            if (count != _coherencyCount)
            {
                _discarding = true;
                Drop(MppeDropReason.PacketLoss);
                return MppeDecryptStatus.SendResetRequest;
            }
        }
        else
        {
            if (!flushed)
            {
                return Drop(MppeDropReason.AwaitingFlush);
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
            _cipher.Rekey();
        }
        return Deliver(payload);
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
        CryptographicOperations.ZeroMemory(_keyHistory);
    }
}
