using System.Numerics;

namespace Firmware.Protocol.Gre;

/// <summary>
/// What a <see cref="GreWindow{TBuffer}"/> needs from its owner (the session loop). Ownership rule for
/// buffers: the window owns every buffer handed to <see cref="GreWindow{TBuffer}.OnPacket"/> from that moment,
/// and gives each one back exactly once, either through <see cref="Deliver"/> (the payload, in order; the host
/// now owns the buffer and returns it to its pool when done) or through <see cref="Release"/> (dropped,
/// duplicate, ack-only, or still held at <see cref="GreWindow{TBuffer}.Dispose"/>).
/// </summary>
/// <typeparam name="TBuffer">The host's buffer handle (e.g. a pooled array or a struct index into a pool).</typeparam>
public interface IGreWindowHost<TBuffer>
{
    /// <summary>An in-order payload: buffer[offset .. offset + length] is one PPP frame. Ownership moves to the host.</summary>
    void Deliver(TBuffer buffer, int offset, int length);

    /// <summary>The window is done with a buffer it will not deliver.</summary>
    void Release(TBuffer buffer);

    /// <summary>Send this complete acknowledgment-only GRE packet to the peer (the span is only valid during the call).</summary>
    void SendAckOnly(ReadOnlySpan<byte> packet);
}

/// <summary>Outcome of <see cref="GreWindow{TBuffer}.TryPrepareSend"/>.</summary>
public enum GreSendStatus
{
    /// <summary>The header was written; send buffer[PacketOffset .. + PacketLength].</summary>
    Ready,
    /// <summary>The peer's receive window is full: drop or queue the packet (counted).</summary>
    WindowFull,
    /// <summary>Not enough header room in front of the payload (a caller bug; counted, nothing written).</summary>
    NoHeaderRoom,
}

/// <summary>Outcome of <see cref="GreWindow{TBuffer}.OnPacket"/>.</summary>
public enum GreReceiveStatus
{
    /// <summary>Delivered now (and any buffered packets it unblocked after it).</summary>
    Delivered,
    /// <summary>Held in the reorder buffer until the gap before it fills or times out.</summary>
    Buffered,
    /// <summary>Acknowledgment only: no payload (buffer released).</summary>
    AckOnly,
    /// <summary>Already received (buffer released).</summary>
    Duplicate,
    /// <summary>Behind the window, or given up on before it came (buffer released).</summary>
    TooOld,
    /// <summary>
    /// Beyond the receive window and not (yet) confirmed by the packets after it: dropped and counted, never
    /// adopted on its own word (buffer released). See <see cref="GreWindowOptions.ResyncConfirmations"/>.
    /// </summary>
    OutOfWindow,
}

/// <summary>Tunables of one call's GRE window.</summary>
public sealed record GreWindowOptions
{
    /// <summary>The peer's Packet Receive Window Size from OCRQ/OCRP: at most this many unacknowledged packets
    /// in flight. 0 means the peer gave none, so no limit.</summary>
    public ushort PeerReceiveWindow { get; init; } = 64;

    /// <summary>Whether to report <see cref="GreSendStatus.WindowFull"/>; some peers never acknowledge.</summary>
    public bool EnforceSendWindow { get; init; } = true;

    /// <summary>Slots of the reorder buffer: a power of two between 1 and 64. A packet this far ahead or more
    /// makes the window give up on everything before it.</summary>
    public int ReorderCapacity { get; init; } = 16;

    /// <summary>How long a gap may hold back later packets before it is counted lost and skipped.</summary>
    public TimeSpan ReorderTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long a due acknowledgment waits for outgoing data to ride on before an ack-only packet goes.</summary>
    public TimeSpan AckDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The receive window we advertised. Once half of it has arrived unacknowledged, an ack-only packet goes at
    /// once rather than after <see cref="AckDelay"/>: a one-way bulk transfer would otherwise stall a peer that
    /// respects our window until the delay expires.
    /// </summary>
    public ushort LocalReceiveWindow { get; init; } = 64;

    /// <summary>First sequence number we send.</summary>
    public uint InitialSequenceNumber { get; init; }

    /// <summary>
    /// A packet beyond our advertised receive window moves the window only when it starts a run of this many
    /// packets in order (each within a window of the one before) with no in-window packet between them,
    /// as a peer that really moved on after a burst of loss sends. One forged packet with the peer's address,
    /// call ID and a far-ahead number is dropped and counted, so it cannot make the window skip the peer's
    /// real traffic. The packets of the run before the last are dropped (TCP resends them).
    /// </summary>
    public int ResyncConfirmations { get; init; } = 3;
}

/// <summary>Counters of one GRE window; written only by the session loop.</summary>
public sealed class GreWindowCounters
{
    internal long SentField;
    internal long WindowFullField;
    internal long AckOnlySentField;
    internal long ReceivedField;
    internal long DeliveredField;
    internal long ReorderedField;
    internal long DuplicateField;
    internal long TooOldField;
    internal long LostField;
    internal long StaleAckField;
    internal long OutOfWindowField;
    internal long ResyncField;

    /// <summary>Data packets sent.</summary>
    public long Sent => Interlocked.Read(ref SentField);
    /// <summary>Sends refused because the peer's window was full.</summary>
    public long WindowFull => Interlocked.Read(ref WindowFullField);
    /// <summary>Ack-only packets sent.</summary>
    public long AckOnlySent => Interlocked.Read(ref AckOnlySentField);
    /// <summary>Data packets received (any outcome).</summary>
    public long Received => Interlocked.Read(ref ReceivedField);
    /// <summary>Payloads delivered in order.</summary>
    public long Delivered => Interlocked.Read(ref DeliveredField);
    /// <summary>Packets that arrived ahead of a gap and were held.</summary>
    public long Reordered => Interlocked.Read(ref ReorderedField);
    /// <summary>Packets received twice.</summary>
    public long Duplicate => Interlocked.Read(ref DuplicateField);
    /// <summary>Packets that arrived after their place had passed.</summary>
    public long TooOld => Interlocked.Read(ref TooOldField);
    /// <summary>Sequence numbers given up on (never arrived in time).</summary>
    public long Lost => Interlocked.Read(ref LostField);
    /// <summary>Acknowledgments outside the range of what we have sent, ignored.</summary>
    public long StaleAck => Interlocked.Read(ref StaleAckField);
    /// <summary>Packets beyond the receive window dropped while not confirmed by a run after them.</summary>
    public long OutOfWindow => Interlocked.Read(ref OutOfWindowField);
    /// <summary>Times a confirmed run moved the window past the receive window.</summary>
    public long Resynchronised => Interlocked.Read(ref ResyncField);
}

/// <summary>
/// Sequencing and flow control of one call's GRE data channel (RFC 2637 section 4.2-4.4): 32-bit sequence
/// numbers compared with serial number arithmetic, so they wrap; acknowledgments piggybacked on data, with an
/// ack-only packet after <see cref="GreWindowOptions.AckDelay"/> if no data goes out; the peer's receive window
/// respected on send; a fixed reorder buffer on receive that never allocates per packet (buffers are the
/// host's, see <see cref="IGreWindowHost{TBuffer}"/> for who owns what). Not thread-safe: the session loop
/// alone calls it, timers included (through the dispatch given to the constructor).
/// </summary>
public sealed class GreWindow<TBuffer> : IDisposable
{
    private const int HistoryBits = 64;

    private readonly IGreWindowHost<TBuffer> _host;
    private readonly GreWindowOptions _options;
    private readonly ushort _peerCallId;
    private readonly Slot[] _slots;
    private readonly int _slotMask;
    private readonly ProtocolTimer _ackTimer;
    private readonly ProtocolTimer _reorderTimer;
    private readonly byte[] _ackPacket = new byte[GreCodec.AckOnlyLength];

    private uint _nextSendSequence;
    private uint _lastAckReceived;
    private bool _receivedAny;
    private uint _expected;
    private ulong _history;
    private int _buffered;
    private bool _ackPending;
    private int _unacknowledged;
    private bool _disposed;
    private int _resyncRun;
    private uint _resyncNext;

    /// <param name="host">Delivers payloads, takes back buffers and sends ack-only packets.</param>
    /// <param name="peerCallId">The call ID the peer assigned: it goes in every packet we send.</param>
    /// <param name="options">Windows and delays.</param>
    /// <param name="time">Clock for the ack and reorder timers.</param>
    /// <param name="dispatch">Posts timer expiries into the session loop (null runs them inline).</param>
    public GreWindow(IGreWindowHost<TBuffer> host, ushort peerCallId, GreWindowOptions options, TimeProvider time, Action<Action>? dispatch = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        if (options.ReorderCapacity is < 1 or > HistoryBits || !BitOperations.IsPow2(options.ReorderCapacity))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "ReorderCapacity must be a power of two from 1 to 64.");
        }
        _host = host;
        _options = options;
        _peerCallId = peerCallId;
        _slots = new Slot[options.ReorderCapacity];
        _slotMask = options.ReorderCapacity - 1;
        _nextSendSequence = options.InitialSequenceNumber;
        _lastAckReceived = options.InitialSequenceNumber - 1;
        _ackTimer = new ProtocolTimer(time, OnAckTimer, dispatch);
        _reorderTimer = new ProtocolTimer(time, OnReorderTimer, dispatch);
    }

    /// <summary>Counters for status and tests.</summary>
    public GreWindowCounters Counters { get; } = new();

    /// <summary>Packets sent and not yet acknowledged.</summary>
    public uint InFlight => _nextSendSequence - (_lastAckReceived + 1);

    /// <summary>The next sequence number we will send.</summary>
    public uint NextSendSequence => _nextSendSequence;

    /// <summary>The next sequence number we expect to deliver (meaningful once something arrived).</summary>
    public uint ExpectedSequence => _expected;

    /// <summary>Packets held in the reorder buffer.</summary>
    public int BufferedCount => _buffered;

    /// <summary>The highest sequence number delivered or given up on: the value we acknowledge.</summary>
    public uint AcknowledgmentNumber => _expected - 1;

    /// <summary>True if the peer's window has no room for another packet.</summary>
    public bool IsSendWindowFull =>
        _options.EnforceSendWindow && _options.PeerReceiveWindow != 0 && InFlight >= _options.PeerReceiveWindow;

    /// <summary>
    /// Assigns the next sequence number to the payload at buffer[payloadOffset .. + payloadLength] and writes
    /// the GRE header in front of it (piggybacking a due acknowledgment). No copy, no allocation.
    /// </summary>
    public GreSendStatus TryPrepareSend(Span<byte> buffer, int payloadOffset, int payloadLength, out int packetOffset, out int packetLength)
    {
        packetOffset = 0;
        packetLength = 0;
        if (IsSendWindowFull)
        {
            Counters.WindowFullField++;
            return GreSendStatus.WindowFull;
        }
        var withAck = _ackPending;
        var start = GreCodec.WriteHeader(buffer, payloadOffset, payloadLength, _peerCallId, true, _nextSendSequence, withAck, AcknowledgmentNumber);
        if (start < 0)
        {
            return GreSendStatus.NoHeaderRoom;
        }
        if (withAck)
        {
            _ackPending = false;
            _unacknowledged = 0;
            _ackTimer.Stop();
        }
        _nextSendSequence++;
        Counters.SentField++;
        packetOffset = start;
        packetLength = payloadOffset + payloadLength - start;
        return GreSendStatus.Ready;
    }

    /// <summary>
    /// Takes a decoded packet for this call together with the buffer it sits in (ownership moves to the
    /// window: see <see cref="IGreWindowHost{TBuffer}"/>). Updates the send window from its acknowledgment and
    /// delivers, holds or drops its payload.
    /// </summary>
    public GreReceiveStatus OnPacket(in GrePacket packet, TBuffer buffer)
    {
        if (packet.HasAcknowledgment)
        {
            OnAcknowledgment(packet.AcknowledgmentNumber);
        }
        if (!packet.HasSequence || _disposed)
        {
            _host.Release(buffer);
            return GreReceiveStatus.AckOnly;
        }

        Counters.ReceivedField++;
        var sequence = packet.SequenceNumber;
        if (!_receivedAny)
        {
            _receivedAny = true;
            _expected = sequence;
        }

        var distance = (int)(sequence - _expected);
        if (distance < 0)
        {
            var behind = -(long)distance;
            if (behind <= HistoryBits && (_history & (1UL << (int)(behind - 1))) != 0)
            {
                Counters.DuplicateField++;
                _host.Release(buffer);
                return GreReceiveStatus.Duplicate;
            }
            Counters.TooOldField++;
            _host.Release(buffer);
            return GreReceiveStatus.TooOld;
        }

        // Up to our advertised receive window ahead is the peer's to use (a skip there costs at most that many
        // packets); further out a packet must be confirmed by the ones after it.
        var acceptAhead = Math.Max(_slots.Length, (int)_options.LocalReceiveWindow);
        if (distance < acceptAhead)
        {
            // The peer's traffic is where we expect it: any far-ahead run so far was not the peer's.
            _resyncRun = 0;
        }

        if (distance == 0)
        {
            DeliverExpected(buffer, packet.PayloadOffset, packet.PayloadLength);
            DrainInOrder();
            return GreReceiveStatus.Delivered;
        }

        if (distance < _slots.Length)
        {
            ref var slot = ref _slots[sequence & (uint)_slotMask];
            if (slot.Occupied)
            {
                Counters.DuplicateField++;
                _host.Release(buffer);
                return GreReceiveStatus.Duplicate;
            }
            slot = new Slot(true, buffer, packet.PayloadOffset, packet.PayloadLength);
            _buffered++;
            Counters.ReorderedField++;
            if (!_reorderTimer.IsRunning)
            {
                _reorderTimer.Start(_options.ReorderTimeout);
            }
            return GreReceiveStatus.Buffered;
        }

        if (distance >= acceptAhead)
        {
            // Far outside the receive window: either the peer moved on after a long burst of loss, or the packet
            // is forged. Only a run in order from there, with none of the expected ones between, moves the window.
            var step = (int)(sequence - _resyncNext);
            _resyncRun = _resyncRun > 0 && step >= 0 && step < acceptAhead ? _resyncRun + 1 : 1;
            _resyncNext = sequence + 1;
            if (_resyncRun < Math.Max(1, _options.ResyncConfirmations))
            {
                Counters.OutOfWindowField++;
                _host.Release(buffer);
                return GreReceiveStatus.OutOfWindow;
            }
            _resyncRun = 0;
            Counters.ResyncField++;
        }

        // Ahead of the reorder buffer: the peer has moved on. Flush what we hold (in order), count the holes as
        // lost, and continue from this packet.
        SkipTo(sequence);
        DeliverExpected(buffer, packet.PayloadOffset, packet.PayloadLength);
        DrainInOrder();
        return GreReceiveStatus.Delivered;
    }

    /// <summary>Releases every held buffer and stops the timers; later packets are released unseen.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _ackTimer.Dispose();
        _reorderTimer.Dispose();
        for (var i = 0; i < _slots.Length; i++)
        {
            if (_slots[i].Occupied)
            {
                var held = _slots[i].Buffer;
                _slots[i] = default;
                _host.Release(held);
            }
        }
        _buffered = 0;
    }

    private void OnAcknowledgment(uint ack)
    {
        // Valid acks lie in (lastAck, nextSend - 1]; anything else is old or bogus.
        var advance = (int)(ack - _lastAckReceived);
        var notBeyondSent = (int)(_nextSendSequence - 1 - ack) >= 0;
        if (advance > 0 && notBeyondSent)
        {
            _lastAckReceived = ack;
        }
        else if (advance != 0)
        {
            Counters.StaleAckField++;
        }
    }

    private void DeliverExpected(TBuffer buffer, int offset, int length)
    {
        _expected++;
        _history = (_history << 1) | 1;
        Counters.DeliveredField++;
        AckDue();
        _host.Deliver(buffer, offset, length);
    }

    private void DrainInOrder()
    {
        while (_buffered > 0)
        {
            ref var slot = ref _slots[_expected & (uint)_slotMask];
            if (!slot.Occupied)
            {
                break;
            }
            var held = slot;
            slot = default;
            _buffered--;
            DeliverExpected(held.Buffer, held.Offset, held.Length);
        }
        if (_buffered == 0)
        {
            _reorderTimer.Stop();
        }
    }

    /// <summary>Advances the expected sequence to <paramref name="target"/>, delivering held packets on the way.</summary>
    private void SkipTo(uint target)
    {
        while (_expected != target)
        {
            if (_buffered == 0)
            {
                var gap = target - _expected;
                Counters.LostField += gap;
                _history = gap >= HistoryBits ? 0 : _history << (int)gap;
                _expected = target;
                AckDue();
                break;
            }
            ref var slot = ref _slots[_expected & (uint)_slotMask];
            if (slot.Occupied)
            {
                var held = slot;
                slot = default;
                _buffered--;
                DeliverExpected(held.Buffer, held.Offset, held.Length);
            }
            else
            {
                Counters.LostField++;
                _history <<= 1;
                _expected++;
                AckDue();
            }
        }
    }

    private void OnReorderTimer()
    {
        if (_disposed || _buffered == 0)
        {
            return;
        }
        // Give up on the gap at the head: skip the missing numbers up to the next held packet, then deliver.
        while (!_slots[_expected & (uint)_slotMask].Occupied)
        {
            Counters.LostField++;
            _history <<= 1;
            _expected++;
        }
        AckDue();
        DrainInOrder();
        if (_buffered > 0)
        {
            _reorderTimer.Start(_options.ReorderTimeout);
        }
    }

    private void AckDue()
    {
        _ackPending = true;
        if (++_unacknowledged >= Math.Max(1, _options.LocalReceiveWindow / 2))
        {
            _ackTimer.Stop();
            OnAckTimer();
            return;
        }
        if (!_ackTimer.IsRunning)
        {
            _ackTimer.Start(_options.AckDelay);
        }
    }

    private void OnAckTimer()
    {
        if (_disposed || !_ackPending)
        {
            return;
        }
        _ackPending = false;
        _unacknowledged = 0;
        GreCodec.WriteAckOnly(_ackPacket, _peerCallId, AcknowledgmentNumber);
        Counters.AckOnlySentField++;
        _host.SendAckOnly(_ackPacket);
    }

    private readonly record struct Slot(bool Occupied, TBuffer Buffer, int Offset, int Length);
}
