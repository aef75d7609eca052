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

    /// <summary>Slots of the reorder buffer: a power of two between 1 and 64, allocated once. The deepest the
    /// buffer ever gets (see <see cref="MinReorderDepth"/>): a packet this far ahead or more always makes the
    /// window give up on everything before it.</summary>
    public int ReorderCapacity { get; init; } = 64;

    /// <summary>
    /// Whether the gap timeout and the reorder depth follow what the link shows (the default; see
    /// <see cref="GreWindow{TBuffer}"/> for how). Off, the gap timeout is <see cref="ReorderTimeout"/> and the
    /// depth <see cref="ReorderCapacity"/>, for good.
    /// </summary>
    public bool AdaptiveReorder { get; init; } = true;

    /// <summary>How long a gap may hold back later packets before it is counted lost and skipped, until the
    /// link has shown how late its reordered packets come (then between <see cref="MinReorderTimeout"/> and
    /// <see cref="MaxReorderTimeout"/>).</summary>
    public TimeSpan ReorderTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The shortest adaptive gap timeout: a link that reorders little still gets this much slack for
    /// scheduling jitter on our side before a gap counts as lost.</summary>
    public TimeSpan MinReorderTimeout { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// The longest adaptive gap timeout, however late the link's packets have come: what one real loss may cost
    /// every packet behind it. Half a second covers reordering of a quarter second with the margin the estimate
    /// keeps (twice the lateness), and is still well under what makes TCP give up on a window (its minimum
    /// retransmission timeout is 200 ms on Linux; a held retransmission waits behind the gap as well).
    /// </summary>
    public TimeSpan MaxReorderTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The shallowest adaptive reorder depth (at most <see cref="ReorderCapacity"/>): a packet this far
    /// ahead gives up on the gap at once, before the timeout, until the link shows deeper reordering.</summary>
    public int MinReorderDepth { get; init; } = 16;

    /// <summary>How long the link may show no reordering before the estimates are halved (each time again), so
    /// a link that stopped reordering pays less for each real loss.</summary>
    public TimeSpan ReorderDecayInterval { get; init; } = TimeSpan.FromSeconds(5);

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
    internal long RecoveredField;
    internal long LateAfterGiveUpField;
    internal long GapTimeoutTicksField;
    internal long ReorderDepthField;

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
    /// <summary>Packets that came after a later one (reordered) and were still delivered in order.</summary>
    public long Recovered => Interlocked.Read(ref RecoveredField);
    /// <summary>Packets that came after their gap had been given up on (counted in <see cref="TooOld"/> too):
    /// the gap timeout or depth was too small for the link at that moment.</summary>
    public long LateAfterGiveUp => Interlocked.Read(ref LateAfterGiveUpField);
    /// <summary>The gap timeout now in use.</summary>
    public TimeSpan GapTimeout => TimeSpan.FromTicks(Interlocked.Read(ref GapTimeoutTicksField));
    /// <summary>The reorder depth now in use: a packet this far ahead gives up on the gap before it.</summary>
    public int ReorderDepth => (int)Interlocked.Read(ref ReorderDepthField);
}

/// <summary>
/// Sequencing and flow control of one call's GRE data channel (RFC 2637 section 4.2-4.4): 32-bit sequence
/// numbers compared with serial number arithmetic, so they wrap; acknowledgments piggybacked on data, with an
/// ack-only packet after <see cref="GreWindowOptions.AckDelay"/> if no data goes out; the peer's receive window
/// respected on send; a reorder buffer on receive, allocated once, that never allocates per packet (buffers are
/// the host's, see <see cref="IGreWindowHost{TBuffer}"/> for who owns what). Not thread-safe: the session loop
/// alone calls it, timers included (through the dispatch given to the constructor).
/// </summary>
/// <remarks>
/// <para>
/// How long to wait for a gap. RFC 2637 leaves it to the receiver. A fixed wait is wrong both ways: on a link
/// whose reordered packets come 150 ms late, 100 ms gives up on every one of them (each a TCP retransmission,
/// and the packet itself dropped as too old when it does come); on a link that only loses, every loss holds
/// everything behind it for the full wait. So the window measures its link. Each packet that fills the gap at the
/// head gives a lateness sample: how long the gap had been visible (since the oldest packet held behind it
/// arrived). Each packet that comes after a later one gives a distance sample: how far behind the highest number
/// seen it is. A packet that comes after its gap was given up on gives both (the wait it was given plus the time
/// since, a lower bound), which is how a timeout that is too short learns at all.
/// </para>
/// <para>
/// Each estimate jumps to a sample larger than itself at once (losing packets is what costs, so it must not take
/// several losses to learn). The lateness moves an eighth of the way down towards a smaller sample; the distance
/// does not (the packets one early packet overtook come one after the other, each less far behind it than the
/// one before, so the shallower samples of a burst say nothing of its depth) and loses an eighth for each
/// <see cref="GreWindowOptions.ReorderDecayInterval"/> without a reordering as deep. With no sample at all for
/// that interval both halve, so a link that stopped reordering stops paying for it. The gap timeout is twice the lateness estimate and the depth twice the distance estimate: the next
/// reordered packet is as likely to come a little later than the latest seen as a little earlier, and twice
/// covers that spread without a variance estimate. Both are clamped: the timeout between
/// <see cref="GreWindowOptions.MinReorderTimeout"/> and <see cref="GreWindowOptions.MaxReorderTimeout"/>, the
/// depth between <see cref="GreWindowOptions.MinReorderDepth"/> and the capacity, so a real loss costs the
/// packets behind it at most the ceiling whatever the link (or a forged late packet) has taught, and the buffer
/// never holds more than its capacity.
/// </para>
/// <para>
/// Every held packet waits at most one gap timeout from its own arrival: when the gap at the head is given up on,
/// the next gap's wait counts from the arrival of the oldest packet still held, so a burst of losses costs one
/// timeout, not one per hole. The timer runs once per gap (not per packet) and the clock is read only on the
/// out-of-order path; in-order packets cost what they did.
/// </para>
/// </remarks>
public sealed class GreWindow<TBuffer> : IDisposable
{
    private const int HistoryBits = 64;
    private const int DistanceScale = 16; // the distance estimate in sixteenths of a packet

    private readonly IGreWindowHost<TBuffer> _host;
    private readonly GreWindowOptions _options;
    private readonly TimeProvider _time;
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
    private uint _highest;
    private uint _firstSequence;
    private ulong _history;
    private int _buffered;
    private bool _ackPending;
    private int _unacknowledged;
    private bool _disposed;
    private int _resyncRun;
    private uint _resyncNext;

    // The adaptive reorder state (see the remarks): estimates, what they give, and what the timer measures from.
    private TimeSpan _lateness;
    private int _distance;
    private TimeSpan _gapTimeout;
    private int _depth;
    private long _lastSampleAt;
    private long _lastDeepestAt;
    private long _gapSince;
    private long _lastGiveUpAt;
    private TimeSpan _lastGiveUpWaited;

    /// <param name="host">Delivers payloads, takes back buffers and sends ack-only packets.</param>
    /// <param name="peerCallId">The call ID the peer assigned: it goes in every packet we send.</param>
    /// <param name="options">Windows and delays.</param>
    /// <param name="time">Clock for the ack and reorder timers and the reorder estimates.</param>
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
        if (options.MinReorderTimeout < TimeSpan.Zero || options.MinReorderTimeout > options.MaxReorderTimeout || options.MinReorderDepth < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MinReorderTimeout must be from 0 to MaxReorderTimeout, MinReorderDepth at least 1.");
        }
        _host = host;
        _options = options;
        _time = time;
        _peerCallId = peerCallId;
        _slots = new Slot[options.ReorderCapacity];
        _slotMask = options.ReorderCapacity - 1;
        _nextSendSequence = options.InitialSequenceNumber;
        _lastAckReceived = options.InitialSequenceNumber - 1;
        _ackTimer = new ProtocolTimer(time, OnAckTimer, dispatch);
        _reorderTimer = new ProtocolTimer(time, OnReorderTimer, dispatch);
        // Before the link has shown anything: the configured timeout and the shallowest depth.
        _lateness = options.ReorderTimeout / 2;
        _distance = Math.Min(options.MinReorderDepth, options.ReorderCapacity) * DistanceScale / 2;
        _lastSampleAt = time.GetTimestamp();
        _lastDeepestAt = _lastSampleAt;
        if (options.AdaptiveReorder)
        {
            Recompute();
        }
        else
        {
            _gapTimeout = options.ReorderTimeout;
            _depth = options.ReorderCapacity;
            Publish();
        }
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

    /// <summary>How long a gap may hold back the packets behind it now.</summary>
    public TimeSpan GapTimeout => _gapTimeout;

    /// <summary>How far ahead a packet may be and still be held now.</summary>
    public int ReorderDepth => _depth;

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
            _highest = sequence;
            _firstSequence = sequence;
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
            if (behind <= HistoryBits && _expected - _firstSequence >= behind)
            {
                // Its number was given up on (by the timeout or the depth) and it came all the same: the link is
                // later or deeper than we allowed. It waited at least what its gap was given, and then some.
                Counters.LateAfterGiveUpField++;
                var now = _time.GetTimestamp();
                Learn(now, _lastGiveUpWaited + _time.GetElapsedTime(_lastGiveUpAt, now), (int)(_highest - sequence));
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
            if (_buffered > 0)
            {
                // It fills the gap at the head: the lateness sample is how long that gap had been visible.
                Counters.RecoveredField++;
                var now = _time.GetTimestamp();
                Learn(now, _time.GetElapsedTime(_gapSince, now), (int)(_highest - sequence));
            }
            DeliverExpected(buffer, packet.PayloadOffset, packet.PayloadLength);
            DrainInOrder();
            return GreReceiveStatus.Delivered;
        }

        if (distance < _slots.Length && _slots[sequence & (uint)_slotMask].Occupied)
        {
            // Held already (perhaps while the depth was larger than it is now).
            Counters.DuplicateField++;
            _host.Release(buffer);
            return GreReceiveStatus.Duplicate;
        }

        if (distance < _depth)
        {
            ref var slot = ref _slots[sequence & (uint)_slotMask];
            var now = _time.GetTimestamp();
            if ((int)(sequence - _highest) < 0)
            {
                // Behind a later one but ahead of the head gap: a hole further on filled (distance sample only;
                // its own gap's age is not tracked, and the head gap's would overstate it).
                Counters.RecoveredField++;
                Learn(now, null, (int)(_highest - sequence));
            }
            else
            {
                _highest = sequence;
            }
            slot = new Slot(true, buffer, packet.PayloadOffset, packet.PayloadLength, now);
            Counters.ReorderedField++;
            if (_buffered++ == 0)
            {
                // A gap opens: the timer runs once for it, not per packet held behind it.
                _gapSince = now;
                Decay(now);
                _reorderTimer.Start(_gapTimeout);
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

        // Ahead of the reorder depth: the peer has moved on. Flush what we hold (in order), count the holes as
        // lost, and continue from this packet.
        var at = _time.GetTimestamp();
        _lastGiveUpAt = at;
        _lastGiveUpWaited = _buffered > 0 ? _time.GetElapsedTime(_gapSince, at) : TimeSpan.Zero;
        _highest = sequence;
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
            if (_reorderTimer.IsRunning)
            {
                _reorderTimer.Stop();
            }
        }
        else
        {
            // A later gap is at the head now; it has been visible since the oldest packet still held arrived.
            // The timer already runs (it checks the age when it fires), so there is nothing to restart.
            _gapSince = OldestHeldArrival();
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
        var now = _time.GetTimestamp();
        var waited = _time.GetElapsedTime(_gapSince, now);
        var given = false;
        // Give up on the gap at the head once the oldest packet held behind it has waited the timeout: skip the
        // missing numbers up to the next held packet and deliver. The next gap's wait counts from its own oldest
        // held packet, which may be due already (a burst of losses costs one timeout, not one per hole).
        while (_buffered > 0 && waited >= _gapTimeout)
        {
            given = true;
            _lastGiveUpAt = now;
            _lastGiveUpWaited = waited;
            while (!_slots[_expected & (uint)_slotMask].Occupied)
            {
                Counters.LostField++;
                _history <<= 1;
                _expected++;
            }
            DrainInOrder();
            waited = _buffered > 0 ? _time.GetElapsedTime(_gapSince, now) : TimeSpan.Zero;
        }
        if (given)
        {
            AckDue();
        }
        if (_buffered > 0)
        {
            // Not due yet (a younger gap, or a timeout that grew since the timer started): wait for the rest.
            _reorderTimer.Start(_gapTimeout - waited);
        }
    }

    /// <summary>Takes one sample of how late a reordered packet came (time, when known) and how far back it was.</summary>
    private void Learn(long now, TimeSpan? lateness, int distance)
    {
        if (!_options.AdaptiveReorder)
        {
            return;
        }
        if (lateness is { } late)
        {
            _lateness = late >= _lateness ? late : _lateness - (_lateness - late) / 8;
        }
        // The distance only ever jumps up: the packets one early packet overtook come one after the other, each
        // a little less far behind it, so all but the first of a burst understate how deep it was.
        var scaled = (int)Math.Min((long)distance * DistanceScale, (long)HistoryBits * DistanceScale);
        if (scaled >= _distance)
        {
            _distance = scaled;
            _lastDeepestAt = now;
        }
        _lastSampleAt = now;
        Recompute();
    }

    /// <summary>
    /// For each decay interval without any reordering the lateness halves (and the distance with it); for each
    /// one without a reordering as deep as the estimate the distance loses an eighth, so twice it still covers
    /// the deepest seen until that has not come back for a while.
    /// </summary>
    private void Decay(long now)
    {
        if (!_options.AdaptiveReorder || _options.ReorderDecayInterval <= TimeSpan.Zero)
        {
            return;
        }
        var changed = false;
        var quiet = _time.GetElapsedTime(_lastSampleAt, now);
        if (quiet >= _options.ReorderDecayInterval)
        {
            var halvings = (int)Math.Min(30, quiet.Ticks / _options.ReorderDecayInterval.Ticks);
            _lateness = TimeSpan.FromTicks(_lateness.Ticks >> halvings);
            _distance >>= halvings;
            _lastSampleAt = now;
            _lastDeepestAt = now;
            changed = true;
        }
        var shallow = _time.GetElapsedTime(_lastDeepestAt, now);
        if (shallow >= _options.ReorderDecayInterval)
        {
            for (var i = Math.Min(32, shallow.Ticks / _options.ReorderDecayInterval.Ticks); i > 0; i--)
            {
                _distance -= _distance / 8;
            }
            _lastDeepestAt = now;
            changed = true;
        }
        if (changed)
        {
            Recompute();
        }
    }

    private void Recompute()
    {
        var timeout = _lateness * 2;
        _gapTimeout = timeout < _options.MinReorderTimeout ? _options.MinReorderTimeout
            : timeout > _options.MaxReorderTimeout ? _options.MaxReorderTimeout
            : timeout;
        var depth = (_distance * 2 + DistanceScale - 1) / DistanceScale;
        _depth = Math.Clamp(depth, Math.Min(_options.MinReorderDepth, _slots.Length), _slots.Length);
        Publish();
    }

    private void Publish()
    {
        Interlocked.Exchange(ref Counters.GapTimeoutTicksField, _gapTimeout.Ticks);
        Interlocked.Exchange(ref Counters.ReorderDepthField, _depth);
    }

    private long OldestHeldArrival()
    {
        var oldest = long.MaxValue;
        var found = 0;
        for (var i = 1; found < _buffered && i < _slots.Length; i++)
        {
            ref var slot = ref _slots[(_expected + (uint)i) & (uint)_slotMask];
            if (slot.Occupied)
            {
                found++;
                oldest = Math.Min(oldest, slot.ArrivedAt);
            }
        }
        return oldest;
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

    private readonly record struct Slot(bool Occupied, TBuffer Buffer, int Offset, int Length, long ArrivedAt);
}
