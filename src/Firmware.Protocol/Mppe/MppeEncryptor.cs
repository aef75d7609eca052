namespace Firmware.Protocol.Mppe;

/// <summary>
/// Encrypts outgoing packets of one MPPE link in place (RFC 3078), the way Linux ppp_mppe does so the two
/// interoperate: the coherency count starts at 0; stateless mode changes the key for every packet and sets
/// the flushed bit on each; stateful mode keeps one RC4 stream, changes the key on every "flag" packet
/// (count ending in FF), setting the flushed bit on those packets only, and answers a CCP Reset-Request with
/// a flag packet (the count jumps to the end of its block; see <see cref="Encrypt"/> for why, where Linux
/// changes key on the next packet whatever its count). One session loop owns it; not thread-safe.
/// </summary>
public sealed class MppeEncryptor : IDisposable
{
    private readonly MppeCipherState _cipher;
    private int _coherencyCount = MppeHeader.CoherencyCountSpace - 1;
    private bool _flushPending;
    private bool _holdKeyPending;

    /// <param name="startKey">This end's send start key (see <see cref="MppeKeyDerivation.DeriveStartKeys"/>).</param>
    /// <param name="strength">The negotiated key strength.</param>
    /// <param name="stateless">True when CCP negotiated stateless ("history-less", bit H) mode.</param>
    public MppeEncryptor(ReadOnlySpan<byte> startKey, MppeKeyStrength strength, bool stateless)
    {
        _cipher = new MppeCipherState(startKey, strength);
        Stateless = stateless;
    }

    /// <summary>True in stateless mode.</summary>
    public bool Stateless { get; }

    /// <summary>The key strength.</summary>
    public MppeKeyStrength Strength => _cipher.Strength;

    /// <summary>The coherency count of the last packet sent (4095 before the first).</summary>
    public int CoherencyCount => _coherencyCount;

    /// <summary>Packets encrypted.</summary>
    public long PacketsEncrypted { get; private set; }

    /// <summary>Frames refused because they had no payload after the header room.</summary>
    public long RefusedFrames { get; private set; }

    /// <summary>
    /// Encrypts one packet in place. <paramref name="frame"/> is the 2-byte header room followed by the
    /// plaintext PPP protocol field and data; on return it holds the MPPE header and the ciphertext, ready to
    /// be sent as the data of a PPP frame with protocol 00FD. False (and nothing changed) if there is no
    /// payload after the header room.
    /// </summary>
    public bool Encrypt(Span<byte> frame)
    {
        if (frame.Length <= MppeHeader.Length)
        {
            RefusedFrames++;
            return false;
        }

        _coherencyCount = (_coherencyCount + 1) & 0x0FFF;
        if (!Stateless && (_flushPending || _holdKeyPending))
        {
            // Stateful: the packet that answers a Reset-Request (or holds the key) jumps to the end of its
            // 256-block, a flag packet. A receiver awaiting a flush changes key once per flag packet it missed
            // (it counts the blocks) and once for the flush, so a key change made on a flag packet is accounted
            // for even when that packet is lost or arrives after a gap. A key change on any other packet is
            // not: Linux, losing such an answer, resynchronises one key short on the next and stays there.
            _coherencyCount |= 0xFF;
        }
        var bits = MppeHeader.EncryptedBit;
        if (Stateless || (_coherencyCount & 0xFF) == 0xFF)
        {
            // A hold wins over a pending reset: the peer changes key on the flag packet whether it gets it or
            // counts it missed, so one key behind it lands on ours only if we keep ours.
            if (_holdKeyPending)
            {
                _cipher.RestartCipher();
                KeyHolds++;
            }
            else
            {
                _cipher.Rekey();
            }
            bits |= MppeHeader.FlushedBit;
            _flushPending = false;
            _holdKeyPending = false;
        }

        MppeHeader.Write(frame, bits, _coherencyCount);
        _cipher.Transform(frame[MppeHeader.Length..]);
        PacketsEncrypted++;
        return true;
    }

    /// <summary>
    /// The peer's CCP sent a Reset-Request (its decryptor lost sync): the next packet changes the key and
    /// carries the flushed bit. Several requests before the next packet still mean one key change, so a
    /// lost Reset-Ack and a repeated request cannot desynchronise the two ends. Stateless mode already
    /// flushes every packet.
    /// </summary>
    public void ResetRequested()
    {
        if (!Stateless)
        {
            _flushPending = true;
        }
    }

    /// <summary>
    /// Stateful: the peer's decryptor is one key behind ours (its Protocol-Rejects of garbage say so; Linux
    /// ppp_mppe never notices by itself). The next packet is a flag packet that keeps the key, restarting RC4
    /// with it: the peer changes key on it, received or counted as missed, and so catches up by one.
    /// </summary>
    public void HoldKeyOnNextFlush()
    {
        if (!Stateless)
        {
            _holdKeyPending = true;
        }
    }

    /// <summary>Flushed packets sent with the key held (see <see cref="HoldKeyOnNextFlush"/>).</summary>
    public long KeyHolds { get; private set; }

    /// <summary>Zeroes the keys.</summary>
    public void Dispose() => _cipher.Clear();
}
