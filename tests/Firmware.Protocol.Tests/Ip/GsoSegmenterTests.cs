using System.Buffers.Binary;
using Firmware.Protocol.Ip;

namespace Firmware.Protocol.Tests.Ip;

public sealed class GsoSegmenterTests
{
    private const int Mss = 1448;

    /// <summary>
    /// What a TSO-enabled TUN hands us: one TCP super-packet with the checksum field holding the pseudo-header
    /// sum, as the kernel leaves it (CHECKSUM_PARTIAL), and its header.
    /// </summary>
    internal static (VirtioNetHeader Header, byte[] Packet) SuperPacket(bool ipv6, int payload, byte flags = TcpPackets.Ack | TcpPackets.Psh)
    {
        var packet = TcpPackets.Segment(ipv6, flags, TcpPackets.Timestamps, payload, sequence: 0xfffff000);
        var ipLength = TcpPackets.IpHeaderLength(packet);
        var pseudo = TcpPackets.ReferenceSum(TcpPackets.PseudoHeader(packet, 6, packet.Length - ipLength));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(ipLength + 16), pseudo);
        var header = new VirtioNetHeader(VirtioNetHeader.FlagNeedsChecksum, ipv6 ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4,
            (ushort)(ipLength + 32), Mss, (ushort)ipLength, 16);
        return (header, packet);
    }

    internal static List<byte[]> Split(VirtioNetHeader header, byte[] packet)
    {
        Assert.True(GsoSegmenter.TryPlan(header, packet, out var plan, out var error), error);
        var segments = new List<byte[]>();
        var buffer = new byte[2000];
        for (var i = 0; i < plan.Count; i++)
        {
            var length = GsoSegmenter.WriteSegment(plan, packet, i, buffer);
            Assert.True(length > 0);
            segments.Add(buffer.AsSpan(0, length).ToArray());
        }
        return segments;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_super_packet_becomes_segments_each_a_valid_packet_of_its_own(bool ipv6)
    {
        var (header, packet) = SuperPacket(ipv6, payload: (3 * Mss) + 656, flags: TcpPackets.Ack | TcpPackets.Psh | TcpPackets.Fin);
        var ipLength = ipv6 ? 40 : 20;
        const int headers = 32;

        var segments = Split(header, packet);

        Assert.Equal(4, segments.Count);
        var payload = new List<byte>();
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            var last = i == segments.Count - 1;
            Assert.Equal(ipLength + headers + (last ? 656 : Mss), segment.Length);
            if (ipv6)
            {
                Assert.Equal(segment.Length - 40, BinaryPrimitives.ReadUInt16BigEndian(segment.AsSpan(4)));
            }
            else
            {
                Assert.Equal(segment.Length, BinaryPrimitives.ReadUInt16BigEndian(segment.AsSpan(2)));
                Assert.Equal(1000 + i, BinaryPrimitives.ReadUInt16BigEndian(segment.AsSpan(4)));
                Assert.Equal(0, TcpPackets.ReferenceChecksum(segment.AsSpan(0, 20)));
            }
            // The sequence number wraps past 2^32 on the way: it is modular.
            Assert.Equal(unchecked(0xfffff000u + (uint)(i * Mss)), BinaryPrimitives.ReadUInt32BigEndian(segment.AsSpan(ipLength + 4)));
            Assert.Equal(last ? TcpPackets.Ack | TcpPackets.Psh | TcpPackets.Fin : TcpPackets.Ack, segment[ipLength + 13]);
            Assert.Equal(TcpPackets.TcpChecksum(segment), TcpPackets.StoredTcpChecksum(segment));
            Assert.Equal(packet.AsSpan(ipLength + 20, 12).ToArray(), segment.AsSpan(ipLength + 20, 12).ToArray()); // options kept
            payload.AddRange(segment.AsSpan(ipLength + headers).ToArray());
        }
        Assert.Equal(packet.AsSpan(ipLength + headers).ToArray(), payload.ToArray());
    }

    [Fact]
    public void Cwr_stays_on_the_first_segment_only()
    {
        var (header, packet) = SuperPacket(false, payload: 2 * Mss, flags: TcpPackets.Ack | TcpPackets.Cwr);

        var segments = Split(header, packet);

        Assert.Equal(TcpPackets.Ack | TcpPackets.Cwr, segments[0][33]);
        Assert.Equal(TcpPackets.Ack, segments[1][33]);
    }

    [Fact]
    public void A_udp_packet_whose_checksum_was_left_to_us_gets_it_finished()
    {
        var packet = new byte[20 + 8 + 333];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        packet[8] = 64;
        packet[9] = 17;
        TcpPackets.Source4.CopyTo(packet, 12);
        TcpPackets.Destination4.CopyTo(packet, 16);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(24), (ushort)(packet.Length - 20));
        new Random(5).NextBytes(packet.AsSpan(28));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(26), TcpPackets.ReferenceSum(TcpPackets.PseudoHeader(packet, 17, packet.Length - 20)));
        var header = new VirtioNetHeader(VirtioNetHeader.FlagNeedsChecksum, VirtioNetHeader.GsoNone, 0, 0, 20, 6);

        var segments = Split(header, packet);

        Assert.Single(segments);
        Assert.Equal(TcpPackets.UdpChecksum(segments[0]), BinaryPrimitives.ReadUInt16BigEndian(segments[0].AsSpan(26)));
        Assert.Equal(packet.AsSpan(28).ToArray(), segments[0].AsSpan(28).ToArray());
    }

    [Fact]
    public void A_packet_with_nothing_left_to_do_is_copied_as_it_is()
    {
        var packet = TcpPackets.Segment(false, TcpPackets.Ack, [], payload: 10);

        var segments = Split(default, packet);

        Assert.Equal(packet, Assert.Single(segments));
    }

    [Theory]
    [InlineData(VirtioNetHeader.GsoUdpL4, 20, 6, "was not asked for")]
    [InlineData(VirtioNetHeader.GsoTcpV6, 20, 16, "disagree")]
    [InlineData(VirtioNetHeader.GsoTcpV4, 24, 16, "cannot start")]
    [InlineData(VirtioNetHeader.GsoTcpV4, 20, 6, "no room")]
    public void A_header_that_does_not_match_the_packet_is_refused_with_a_reason(byte type, int start, int offset, string reason)
    {
        var (header, packet) = SuperPacket(false, payload: 3000);
        header = header with { GsoType = type, ChecksumStart = (ushort)start, ChecksumOffset = (ushort)offset };

        Assert.False(GsoSegmenter.TryPlan(header, packet, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Hostile_headers_and_packets_never_throw_and_never_write_past_the_buffer()
    {
        var random = new Random(2637);
        var destination = new byte[1600];
        for (var round = 0; round < 20000; round++)
        {
            var (header, packet) = SuperPacket(round % 2 == 0, payload: random.Next(0, 5000));
            switch (round % 4)
            {
                case 0:
                    random.NextBytes(packet.AsSpan(0, Math.Min(packet.Length, 80)));
                    break;
                case 1:
                    header = header with { GsoSize = (ushort)random.Next(0, 3000), ChecksumStart = (ushort)random.Next(0, 120) };
                    break;
                case 2:
                    packet = packet[..random.Next(0, packet.Length)];
                    break;
                default:
                    var raw = new byte[VirtioNetHeader.Size];
                    random.NextBytes(raw);
                    header = VirtioNetHeader.Read(raw);
                    break;
            }
            if (!GsoSegmenter.TryPlan(header, packet, out var plan, out _))
            {
                continue;
            }
            for (var i = 0; i < Math.Min(plan.Count, 100); i++)
            {
                var length = GsoSegmenter.WriteSegment(plan, packet, i, destination);
                Assert.InRange(length, -1, destination.Length);
            }
        }
    }
}
