using Firmware.Protocol.Gre;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Gre;

/// <summary>A test buffer handle: an ID to check ownership, and the bytes.</summary>
internal sealed record TestBuffer(int Id, byte[] Bytes);

/// <summary>Records deliveries and releases; fails on any buffer handed back twice.</summary>
internal sealed class WindowHost : IGreWindowHost<TestBuffer>
{
    private readonly HashSet<int> _returned = [];

    public List<uint> DeliveredTags { get; } = [];
    public List<int> Released { get; } = [];
    public List<byte[]> AckOnly { get; } = [];

    public void Deliver(TestBuffer buffer, int offset, int length)
    {
        Assert.True(_returned.Add(buffer.Id), $"buffer {buffer.Id} returned twice");
        // Each test payload is the sender's tag (4 bytes) so order can be checked.
        DeliveredTags.Add(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(buffer.Bytes.AsSpan(offset, length)));
    }

    public void Release(TestBuffer buffer)
    {
        Assert.True(_returned.Add(buffer.Id), $"buffer {buffer.Id} returned twice");
        Released.Add(buffer.Id);
    }

    public void SendAckOnly(ReadOnlySpan<byte> packet) => AckOnly.Add(packet.ToArray());

    public int ReturnedCount => _returned.Count;
}

public sealed class GreWindowTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly WindowHost _host = new();
    private int _nextBufferId;

    private GreWindow<TestBuffer> Window(GreWindowOptions? options = null) =>
        new(_host, peerCallId: 0x0033, options ?? new GreWindowOptions(), _time);

    /// <summary>A received data packet with sequence <paramref name="sequence"/> whose payload is its tag.</summary>
    private GreReceiveStatus Receive(GreWindow<TestBuffer> window, uint sequence, uint? ack = null)
    {
        var bytes = new byte[16 + 4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), sequence);
        var start = GreCodec.WriteHeader(bytes, 16, 4, 0x0011, true, sequence, ack.HasValue, ack ?? 0);
        Assert.True(GreCodec.TryDecode(bytes.AsSpan(start), out var packet, out _));
        packet = packet with { PayloadOffset = packet.PayloadOffset + start };
        return window.OnPacket(packet, new TestBuffer(_nextBufferId++, bytes));
    }

    private static GreSendStatus Send(GreWindow<TestBuffer> window, out GrePacket sent)
    {
        var buffer = new byte[16 + 8];
        var status = window.TryPrepareSend(buffer, 16, 8, out var offset, out var length);
        sent = default;
        if (status == GreSendStatus.Ready)
        {
            Assert.True(GreCodec.TryDecode(buffer.AsSpan(offset, length), out sent, out _));
            Assert.Equal(8, sent.PayloadLength);
            Assert.Equal(16 - offset, sent.PayloadOffset);
        }
        return status;
    }

    [Fact]
    public void In_order_packets_are_delivered_at_once()
    {
        using var window = Window();
        for (uint i = 100; i < 110; i++)
        {
            Assert.Equal(GreReceiveStatus.Delivered, Receive(window, i));
        }
        Assert.Equal(Enumerable.Range(100, 10).Select(i => (uint)i), _host.DeliveredTags);
        Assert.Equal(109u, window.AcknowledgmentNumber);
    }

    [Fact]
    public void Reordered_packets_within_the_window_are_delivered_in_order()
    {
        using var window = Window();
        Receive(window, 0);
        Assert.Equal(GreReceiveStatus.Buffered, Receive(window, 2));
        Assert.Equal(GreReceiveStatus.Buffered, Receive(window, 3));
        Assert.Equal([0u], _host.DeliveredTags);
        Assert.Equal(GreReceiveStatus.Delivered, Receive(window, 1));
        Assert.Equal([0u, 1u, 2u, 3u], _host.DeliveredTags);
        Assert.Equal(2, window.Counters.Reordered);
        Assert.Equal(0, window.BufferedCount);
    }

    [Fact]
    public void A_gap_is_given_up_on_after_the_reorder_timeout()
    {
        using var window = Window(new GreWindowOptions { ReorderTimeout = TimeSpan.FromMilliseconds(50) });
        Receive(window, 0);
        Receive(window, 3);
        Receive(window, 5);
        _time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.Equal([0u], _host.DeliveredTags);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        // 1 and 2 lost; 4 too, because 5 has waited its timeout as well (a burst of holes costs one timeout).
        Assert.Equal([0u, 3u, 5u], _host.DeliveredTags);
        Assert.Equal(3, window.Counters.Lost);

        // The late ones are too old now; a repeat of a delivered one is a duplicate.
        Assert.Equal(GreReceiveStatus.TooOld, Receive(window, 1));
        Assert.Equal(GreReceiveStatus.Duplicate, Receive(window, 3));
        Assert.Equal(1, window.Counters.TooOld);
        Assert.Equal(1, window.Counters.LateAfterGiveUp);
        Assert.Equal(1, window.Counters.Duplicate);
    }

    [Fact]
    public void Duplicates_in_the_reorder_buffer_are_dropped()
    {
        using var window = Window();
        Receive(window, 0);
        Receive(window, 2);
        Assert.Equal(GreReceiveStatus.Duplicate, Receive(window, 2));
        Assert.Equal(GreReceiveStatus.Duplicate, Receive(window, 0));
        Assert.Equal(2, window.Counters.Duplicate);
    }

    [Fact]
    public void A_packet_ahead_of_the_buffer_within_the_receive_window_flushes_it_and_counts_the_holes()
    {
        using var window = Window(new GreWindowOptions { ReorderCapacity = 4 });
        Receive(window, 0);
        Receive(window, 2);
        Assert.Equal(GreReceiveStatus.Delivered, Receive(window, 10));
        Assert.Equal([0u, 2u, 10u], _host.DeliveredTags);
        Assert.Equal(8, window.Counters.Lost); // 1, 3..9
        Assert.Equal(11u, window.ExpectedSequence);
    }

    [Fact]
    public void A_run_beyond_the_receive_window_moves_the_window_once_confirmed()
    {
        using var window = Window(new GreWindowOptions { ReorderCapacity = 4, LocalReceiveWindow = 64 });
        Receive(window, 0);
        Receive(window, 2);
        // The peer moved on after 1000 lost packets: the first two of the run are dropped, the third confirms it.
        Assert.Equal(GreReceiveStatus.OutOfWindow, Receive(window, 1000));
        Assert.Equal(GreReceiveStatus.OutOfWindow, Receive(window, 1001));
        Assert.Equal(GreReceiveStatus.Delivered, Receive(window, 1003));
        Assert.Equal([0u, 2u, 1003u], _host.DeliveredTags);
        Assert.Equal(1001, window.Counters.Lost); // 1, 3..1002
        Assert.Equal(2, window.Counters.OutOfWindow);
        Assert.Equal(1, window.Counters.Resynchronised);
        Assert.Equal(GreReceiveStatus.Delivered, Receive(window, 1004));
    }

    [Fact]
    public void One_forged_packet_far_ahead_is_dropped_and_the_peers_traffic_goes_on()
    {
        using var window = Window();
        for (uint i = 0; i < 5; i++)
        {
            Receive(window, i);
        }
        // Spoofed: the peer's address and call ID, a sequence number a million ahead.
        Assert.Equal(GreReceiveStatus.OutOfWindow, Receive(window, 1_000_000));
        Assert.Equal(GreReceiveStatus.OutOfWindow, Receive(window, 1_000_001));
        // The real peer's next packet is still in order, and it cancels the forged run.
        Assert.Equal(GreReceiveStatus.Delivered, Receive(window, 5));
        Assert.Equal(GreReceiveStatus.OutOfWindow, Receive(window, 1_000_002));
        for (uint i = 6; i < 50; i++)
        {
            Assert.Equal(GreReceiveStatus.Delivered, Receive(window, i));
        }
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (uint)i), _host.DeliveredTags);
        Assert.Equal(3, window.Counters.OutOfWindow);
        Assert.Equal(0, window.Counters.Resynchronised);
        Assert.Equal(0, window.Counters.Lost);
    }

    [Fact]
    public void A_huge_jump_is_bounded_work()
    {
        using var window = Window();
        Receive(window, 0);
        Receive(window, 0x7FFF_0000);
        Receive(window, 0x7FFF_0001);
        Assert.Equal(GreReceiveStatus.Delivered, Receive(window, 0x7FFF_0002));
        Assert.Equal(0x7FFF_0001, window.Counters.Lost);
        // Half the sequence space behind is "too old", never "ahead".
        Assert.Equal(GreReceiveStatus.TooOld, Receive(window, 5));
    }

    [Fact]
    public void Sequence_numbers_wrap_around()
    {
        using var window = Window(new GreWindowOptions { InitialSequenceNumber = 0xFFFF_FFFE });
        Receive(window, 0xFFFF_FFFE);
        Receive(window, 0);
        Receive(window, 0xFFFF_FFFF);
        Receive(window, 1);
        Assert.Equal([0xFFFF_FFFEu, 0xFFFF_FFFFu, 0u, 1u], _host.DeliveredTags);
        Assert.Equal(GreReceiveStatus.Duplicate, Receive(window, 0xFFFF_FFFF));

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(GreSendStatus.Ready, Send(window, out var sent));
            Assert.Equal(unchecked(0xFFFF_FFFEu + (uint)i), sent.SequenceNumber);
        }
        Receive(window, 2, ack: 0);
        Assert.Equal(0u, window.InFlight);
    }

    [Fact]
    public void Acks_ride_on_data_and_ack_only_goes_after_the_delay()
    {
        using var window = Window(new GreWindowOptions { AckDelay = TimeSpan.FromMilliseconds(100) });
        Receive(window, 7);
        Assert.Equal(GreSendStatus.Ready, Send(window, out var first));
        Assert.True(first.HasAcknowledgment);
        Assert.Equal(7u, first.AcknowledgmentNumber);
        Assert.Equal(GreSendStatus.Ready, Send(window, out var second));
        Assert.False(second.HasAcknowledgment); // nothing new to acknowledge

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(_host.AckOnly); // the piggybacked ack cancelled the timer

        Receive(window, 8);
        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.Empty(_host.AckOnly);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var ackOnly = Assert.Single(_host.AckOnly);
        Assert.True(GreCodec.TryDecode(ackOnly, out var packet, out _));
        Assert.Equal(new GrePacket(0x0033, false, 0, true, 8, 12, 0), packet);
        Assert.Equal(1, window.Counters.AckOnlySent);
    }

    [Fact]
    public void Half_a_receive_window_unacknowledged_is_acked_at_once()
    {
        using var window = Window(new GreWindowOptions { AckDelay = TimeSpan.FromSeconds(1), LocalReceiveWindow = 8 });
        for (uint sequence = 1; sequence <= 3; sequence++)
        {
            Receive(window, sequence);
        }
        Assert.Empty(_host.AckOnly);

        Receive(window, 4);
        var ackOnly = Assert.Single(_host.AckOnly);
        Assert.True(GreCodec.TryDecode(ackOnly, out var packet, out _));
        Assert.Equal(4u, packet.AcknowledgmentNumber);

        // The count starts again: the next ack-only goes after four more, not at once.
        Receive(window, 5);
        Assert.Single(_host.AckOnly);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, _host.AckOnly.Count);
    }

    [Fact]
    public void Send_window_reports_full_until_the_peer_acknowledges()
    {
        using var window = Window(new GreWindowOptions { PeerReceiveWindow = 3 });
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(GreSendStatus.Ready, Send(window, out _));
        }
        Assert.True(window.IsSendWindowFull);
        Assert.Equal(GreSendStatus.WindowFull, Send(window, out _));
        Assert.Equal(1, window.Counters.WindowFull);

        // An ack-only packet acknowledging sequence 1 opens two slots.
        var ack = new byte[12];
        GreCodec.WriteAckOnly(ack, 0x11, 1);
        GreCodec.TryDecode(ack, out var packet, out _);
        Assert.Equal(GreReceiveStatus.AckOnly, window.OnPacket(packet, new TestBuffer(_nextBufferId++, ack)));
        Assert.Equal(1u, window.InFlight);
        Assert.Equal(GreSendStatus.Ready, Send(window, out _));

        // An ack for something never sent is ignored and counted.
        GreCodec.WriteAckOnly(ack, 0x11, 100);
        GreCodec.TryDecode(ack, out packet, out _);
        window.OnPacket(packet, new TestBuffer(_nextBufferId++, ack));
        Assert.Equal(2u, window.InFlight);
        Assert.Equal(1, window.Counters.StaleAck);
    }

    [Fact]
    public void Window_zero_or_not_enforced_means_no_limit()
    {
        using var unlimited = Window(new GreWindowOptions { PeerReceiveWindow = 0 });
        using var ignoring = Window(new GreWindowOptions { PeerReceiveWindow = 1, EnforceSendWindow = false });
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(GreSendStatus.Ready, Send(unlimited, out _));
            Assert.Equal(GreSendStatus.Ready, Send(ignoring, out _));
        }
    }

    [Fact]
    public void No_header_room_is_reported()
    {
        using var window = Window();
        Assert.Equal(GreSendStatus.NoHeaderRoom, window.TryPrepareSend(new byte[20], 8, 4, out _, out _));
        Assert.Equal(0u, window.NextSendSequence);
    }

    [Fact]
    public void Dispose_releases_held_buffers_and_later_packets()
    {
        var window = Window();
        Receive(window, 0);
        Receive(window, 2);
        Receive(window, 3);
        window.Dispose();
        Assert.Equal(2, _host.Released.Count);
        Assert.Equal(GreReceiveStatus.AckOnly, Receive(window, 1));
        Assert.Equal(_nextBufferId, _host.ReturnedCount);
    }

    [Fact]
    public void Reorder_capacity_must_be_a_power_of_two_up_to_64()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Window(new GreWindowOptions { ReorderCapacity = 3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Window(new GreWindowOptions { ReorderCapacity = 128 }));
        using var one = Window(new GreWindowOptions { ReorderCapacity = 1 });
        Receive(one, 0);
        Receive(one, 2);
        Assert.Equal([0u, 2u], _host.DeliveredTags);
    }

    /// <summary>
    /// Random arrival patterns (reordering, duplicates, loss, jumps) with the clock moving: every buffer comes
    /// back exactly once, deliveries are strictly increasing in serial order, nothing throws.
    /// </summary>
    [Fact]
    public void Ownership_and_order_hold_under_random_arrivals()
    {
        var random = new Random(2637);
        for (var round = 0; round < 200; round++)
        {
            var host = new WindowHost();
            var time = new FakeTimeProvider();
            var window = new GreWindow<TestBuffer>(host, 1, new GreWindowOptions { ReorderCapacity = 1 << random.Next(0, 7) }, time);
            var id = 0;
            var baseSequence = (uint)random.Next() * 2;
            for (var i = 0; i < 300; i++)
            {
                var sequence = baseSequence + (uint)random.Next(-20, 60) + (uint)i;
                var bytes = new byte[20];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), sequence);
                var packet = new GrePacket(1, random.Next(10) != 0, sequence, random.Next(2) == 0, (uint)random.Next(), 16, 4);
                window.OnPacket(packet, new TestBuffer(id++, bytes));
                if (random.Next(10) == 0)
                {
                    time.Advance(TimeSpan.FromMilliseconds(random.Next(0, 300)));
                }
            }
            window.Dispose();
            Assert.Equal(id, host.ReturnedCount);
            for (var i = 1; i < host.DeliveredTags.Count; i++)
            {
                Assert.True((int)(host.DeliveredTags[i] - host.DeliveredTags[i - 1]) > 0, "out of order delivery");
            }
        }
    }
}
