using System.Buffers.Binary;
using Firmware.Protocol.Ip;

namespace Firmware.Protocol.Tests.Ip;

public sealed class TcpMssClampTests
{
    private static byte[] Packet(bool ipv6, byte flags, byte[] options, int payload = 0) => TcpPackets.Segment(ipv6, flags, options, payload);

    private static ushort Checksum(byte[] packet, bool ipv6) => TcpPackets.TcpChecksum(packet, ipv6);

    private static ushort StoredChecksum(byte[] packet, bool ipv6) => TcpPackets.StoredTcpChecksum(packet, ipv6);

    private const byte Syn = 0x02, SynAck = 0x12, Ack = 0x10;
    private static byte[] Mss(ushort value) => [2, 4, (byte)(value >> 8), (byte)value];

    [Theory]
    [InlineData(false, Syn)]
    [InlineData(false, SynAck)]
    [InlineData(true, Syn)]
    [InlineData(true, SynAck)]
    public void A_syn_above_the_limit_is_lowered_and_its_checksum_stays_right(bool ipv6, byte flags)
    {
        // The options Linux sends: MSS, SACK permitted, timestamps, NOP, window scale.
        var packet = Packet(ipv6, flags, [.. Mss(1460), 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]);

        Assert.True(TcpMssClamp.TryClamp(packet, ipv4Limit: 1356, ipv6Limit: 1336));

        var at = (ipv6 ? 40 : 20) + 22;
        Assert.Equal(ipv6 ? 1336 : 1356, BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(at)));
        Assert.Equal(Checksum(packet, ipv6), StoredChecksum(packet, ipv6));
    }

    [Fact]
    public void An_mss_at_an_odd_offset_gets_a_right_checksum_too()
    {
        // NOP, then MSS: the value's two bytes straddle two 16-bit words of the checksum.
        var packet = Packet(false, Syn, [1, .. Mss(1460), 1, 1, 1], payload: 3);

        Assert.True(TcpMssClamp.TryClamp(packet, 1200, 1200));

        Assert.Equal(1200, BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(20 + 23)));
        Assert.Equal(Checksum(packet, false), StoredChecksum(packet, false));
    }

    [Theory]
    [InlineData("not a syn")]
    [InlineData("mss already small")]
    [InlineData("no mss option")]
    [InlineData("mss with a wrong length")]
    [InlineData("option running past the header")]
    [InlineData("a later fragment")]
    [InlineData("udp")]
    [InlineData("truncated")]
    public void Anything_else_is_left_byte_for_byte(string what)
    {
        var packet = what switch
        {
            "not a syn" => Packet(false, Ack, Mss(1460)),
            "mss already small" => Packet(false, Syn, Mss(1200)),
            "no mss option" => Packet(false, Syn, [1, 1, 4, 2]),
            "mss with a wrong length" => Packet(false, Syn, [2, 3, 5, 0xb4, 1, 1, 1, 1]),
            "option running past the header" => Packet(false, Syn, [1, 1, 8, 10]),
            _ => Packet(false, Syn, Mss(1460)),
        };
        if (what == "a later fragment")
        {
            packet[7] = 0x10;
        }
        if (what == "udp")
        {
            packet[9] = 17;
        }
        if (what == "truncated")
        {
            packet = packet[..30];
        }
        var before = (byte[])packet.Clone();

        Assert.False(TcpMssClamp.TryClamp(packet, 1300, 1300));

        Assert.Equal(before, packet);
    }

    [Fact]
    public void No_input_throws_and_every_change_keeps_the_checksum_right()
    {
        // Every truncation and many single-byte changes of SYNs in both IP versions.
        var random = new Random(7);
        var changed = 0;
        foreach (var ipv6 in new[] { false, true })
        {
            var original = Packet(ipv6, Syn, [1, .. Mss(1460), 1, 4, 2, 1, 1], payload: 5);
            for (var cut = 0; cut <= original.Length; cut++)
            {
                TcpMssClamp.TryClamp(original[..cut].ToArray(), 1000, 1000);
            }
            for (var round = 0; round < 4000; round++)
            {
                var packet = (byte[])original.Clone();
                packet[random.Next(packet.Length)] = (byte)random.Next(256);
                var checksumWasRight = Checksum(packet, ipv6) == StoredChecksum(packet, ipv6);
                if (TcpMssClamp.TryClamp(packet, 1000, 1000) && checksumWasRight)
                {
                    changed++;
                    Assert.Equal(Checksum(packet, ipv6), StoredChecksum(packet, ipv6));
                }
            }
        }
        Assert.True(changed > 100, $"only {changed} packets were clamped");
    }

    [Theory]
    [InlineData(1400, false, 1360)]
    [InlineData(1400, true, 1340)]
    [InlineData(30, false, 0)]
    public void The_limit_is_the_mtu_less_the_headers(int mtu, bool ipv6, int mss)
        => Assert.Equal(mss, TcpMssClamp.MaximumSegmentSize(mtu, ipv6));
}
