using System.Buffers.Binary;
using Firmware.Protocol.Ip;

namespace Firmware.Protocol.Tests.Ip;

public sealed class TcpCoalescerTests
{
    private const int Mss = 1448;

    /// <summary>What the TUN got: each write as it came, super-packets cut back into segments by the segmenter.</summary>
    private sealed class RecordingSink : ISuperPacketSink
    {
        public List<(VirtioNetHeader? Header, byte[] Packet)> Writes { get; } = [];

        public void WritePacket(ReadOnlySpan<byte> packet) => Writes.Add((null, packet.ToArray()));

        public void WriteSuperPacket(in VirtioNetHeader header, ReadOnlySpan<byte> packet) => Writes.Add((header, packet.ToArray()));

        /// <summary>Every packet the kernel would end up with, in order.</summary>
        public List<byte[]> Segments()
            => Writes.SelectMany(w => w.Header is { } h ? GsoSegmenterTests.Split(h, w.Packet) : [w.Packet]).ToList();
    }

    /// <summary>A stream's consecutive full segments, as a TCP sender puts them on the wire.</summary>
    private static List<byte[]> Stream(bool ipv6, int count, int lastPayload = Mss, byte lastFlags = TcpPackets.Ack, ushort port = 40000, uint start = 0x10000)
        => Enumerable.Range(0, count).Select(i => TcpPackets.Segment(ipv6, i == count - 1 ? lastFlags : TcpPackets.Ack, TcpPackets.Timestamps,
            i == count - 1 ? lastPayload : Mss, sequence: start + (uint)(i * Mss), identification: (ushort)(7 + i), payloadSeed: i * Mss, sourcePort: port)).ToList();

    private static RecordingSink Coalesce(IEnumerable<byte[]> packets) => Coalesce(packets, new TcpCoalescer(new SuperPacketBuffers()));

    private static RecordingSink Coalesce(IEnumerable<byte[]> packets, TcpCoalescer coalescer)
    {
        var sink = new RecordingSink();
        foreach (var packet in packets)
        {
            coalescer.Add(packet, sink);
        }
        coalescer.Flush();
        return sink;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_batch_of_one_stream_becomes_one_super_packet_that_cuts_back_into_the_same_segments(bool ipv6)
    {
        var stream = Stream(ipv6, 10, lastPayload: 500, lastFlags: TcpPackets.Ack | TcpPackets.Psh);

        var coalescer = new TcpCoalescer(new SuperPacketBuffers());

        var sink = Coalesce(stream, coalescer);

        var (header, packet) = Assert.Single(sink.Writes);
        var ipLength = ipv6 ? 40 : 20;
        Assert.Equal(new VirtioNetHeader(VirtioNetHeader.FlagNeedsChecksum, ipv6 ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4,
            (ushort)(ipLength + 32), Mss, (ushort)ipLength, 16), header);
        Assert.Equal(ipLength + 32 + (9 * Mss) + 500, packet.Length);
        if (!ipv6)
        {
            Assert.Equal(0, TcpPackets.ReferenceChecksum(packet.AsSpan(0, 20)));
        }
        // The field holds the pseudo-header sum for the kernel to finish (CHECKSUM_PARTIAL).
        Assert.Equal(TcpPackets.ReferenceSum(TcpPackets.PseudoHeader(packet, 6, packet.Length - ipLength)), TcpPackets.StoredTcpChecksum(packet));
        Assert.Equal(stream.Select(Convert.ToHexString), sink.Segments().Select(Convert.ToHexString));
        Assert.Equal(9, coalescer.Joined);
    }

    [Fact]
    public void A_gap_in_the_sequence_starts_a_new_super_packet()
    {
        var stream = Stream(false, 6);
        stream.RemoveAt(3);

        var sink = Coalesce(stream);

        Assert.Equal(2, sink.Writes.Count);
        Assert.Equal(stream.Select(Convert.ToHexString), sink.Segments().Select(Convert.ToHexString));
    }

    [Fact]
    public void Ipv4_identifications_that_do_not_count_up_keep_segments_apart()
    {
        // The kernel gives the segments of a super-packet counting identifications from the first one's:
        // joining others would change what the peer sent.
        var stream = Stream(false, 4);
        stream[2] = TcpPackets.Segment(false, TcpPackets.Ack, TcpPackets.Timestamps, Mss, sequence: 0x10000 + (2 * Mss), identification: 500, payloadSeed: 2 * Mss);

        var sink = Coalesce(stream);

        Assert.Equal(3, sink.Writes.Count); // s0+s1, s2, s3 (whose ID follows s1's, not s2's)
        Assert.Equal(stream.Select(Convert.ToHexString), sink.Segments().Select(Convert.ToHexString));
    }

    [Fact]
    public void A_segment_with_a_wrong_checksum_is_passed_on_alone_never_joined_under_a_checksum_we_made()
    {
        var stream = Stream(false, 5);
        stream[2][100] ^= 0x40;

        var sink = Coalesce(stream);

        Assert.Equal([2, 1, 2], sink.Writes.Select(w => w.Header is null ? 1 : w.Packet.Length > 1600 ? 2 : 0));
        Assert.Equal(stream[2], sink.Writes[1].Packet);
        Assert.Null(sink.Writes[1].Header);
    }

    [Fact]
    public void Packets_that_cannot_join_pass_in_their_order_and_split_the_groups_around_them()
    {
        var a = Stream(false, 3, port: 1111);
        var b = Stream(false, 3, port: 2222);
        var ping = new byte[84];
        ping[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ping.AsSpan(2), 84);
        ping[9] = 1;
        var syn = TcpPackets.Segment(false, TcpPackets.Syn, [2, 4, 5, 0xb4]);
        byte[][] order = [a[0], a[1], ping, a[2], b[0], b[1], syn, b[2]];

        var sink = Coalesce(order);

        Assert.Equal(order.Select(Convert.ToHexString), sink.Segments().Select(Convert.ToHexString));
        Assert.Equal(6, sink.Writes.Count); // a0+a1, the ping, a2 (b's first segment ends its group), b0+b1, the SYN, b2
    }

    [Fact]
    public void A_pushed_or_short_segment_ends_its_group()
    {
        var first = Stream(false, 4, lastPayload: 100);
        var second = Stream(false, 3, start: 0x10000 + (3 * Mss) + 100);

        var sink = Coalesce([.. first, .. second]);

        Assert.Equal(2, sink.Writes.Count);
        Assert.Equal(3 * Mss + 100, sink.Writes[0].Packet.Length - 52);
    }

    [Fact]
    public void A_super_packet_stays_within_64_kib()
    {
        var stream = Stream(false, 100);

        var sink = Coalesce(stream);

        Assert.All(sink.Writes, w => Assert.True(w.Packet.Length <= 65535));
        Assert.Equal(3, sink.Writes.Count); // 45 segments of 1448 and their 52-byte header fit 64 KiB
        Assert.Equal(stream.Select(Convert.ToHexString), sink.Segments().Select(Convert.ToHexString));
    }

    /// <summary>Counts what it is given and keeps nothing: a sink that allocates nothing itself.</summary>
    private sealed class CountingSink : ISuperPacketSink
    {
        public long Packets;
        public long SuperPackets;

        public void WritePacket(ReadOnlySpan<byte> packet) => Packets++;

        public void WriteSuperPacket(in VirtioNetHeader header, ReadOnlySpan<byte> packet) => SuperPackets++;
    }

    [Fact]
    public void Joining_and_cutting_allocate_nothing_per_packet_once_warm()
    {
        var stream = Stream(false, 40);
        var (header, superPacket) = GsoSegmenterTests.SuperPacket(false, payload: 40 * Mss);
        var coalescer = new TcpCoalescer(new SuperPacketBuffers());
        var sink = new CountingSink();
        var segment = new byte[2048];
        void Round()
        {
            foreach (var packet in stream)
            {
                coalescer.Add(packet, sink);
            }
            coalescer.Flush();
            _ = GsoSegmenter.TryPlan(header, superPacket, out var plan, out _);
            for (var i = 0; i < plan.Count; i++)
            {
                _ = GsoSegmenter.WriteSegment(plan, superPacket, i, segment);
            }
        }
        Round();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < 100; round++)
        {
            Round();
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(101, sink.SuperPackets);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Hostile_segments_never_throw_and_whatever_goes_in_comes_out()
    {
        var random = new Random(1661);
        var coalescer = new TcpCoalescer(new SuperPacketBuffers());
        var sink = new RecordingSink();
        var count = 0;
        for (var round = 0; round < 5000; round++)
        {
            var packet = TcpPackets.Segment(round % 3 == 0, TcpPackets.Ack, TcpPackets.Timestamps, random.Next(0, 1500),
                sequence: (uint)random.Next(0, 3) * Mss, identification: (ushort)random.Next(0, 3));
            if (round % 2 == 0)
            {
                packet[random.Next(packet.Length)] = (byte)random.Next(256);
            }
            coalescer.Add(packet, sink);
            count++;
        }
        coalescer.Flush();

        Assert.Equal(count, sink.Writes.Sum(w => w.Header is { } h && GsoSegmenter.TryPlan(h, w.Packet, out var plan, out _) ? plan.Count : 1));
    }
}
