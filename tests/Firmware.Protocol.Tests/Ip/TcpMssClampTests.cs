using System.Buffers.Binary;
using Firmware.Protocol.Ip;

namespace Firmware.Protocol.Tests.Ip;

public sealed class TcpMssClampTests
{
    private static readonly byte[] Source4 = [10, 77, 0, 10], Destination4 = [192, 0, 2, 80];
    private static readonly byte[] Source6 = [0xfe, 0x80, .. new byte[13], 1], Destination6 = [0x20, 0x01, 0x0d, 0xb8, .. new byte[11], 9];

    /// <summary>A TCP segment with the given flags and options (padded to 4 bytes), checksummed for its IP header.</summary>
    private static byte[] Packet(bool ipv6, byte flags, byte[] options, int payload = 0)
    {
        var optionLength = (options.Length + 3) / 4 * 4;
        var tcpLength = 20 + optionLength + payload;
        var ipLength = ipv6 ? 40 : 20;
        var packet = new byte[ipLength + tcpLength];
        if (ipv6)
        {
            packet[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)tcpLength);
            packet[6] = 6;
            packet[7] = 64;
            Source6.CopyTo(packet, 8);
            Destination6.CopyTo(packet, 24);
        }
        else
        {
            packet[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
            packet[6] = 0x40; // DF
            packet[8] = 64;
            packet[9] = 6;
            Source4.CopyTo(packet, 12);
            Destination4.CopyTo(packet, 16);
        }
        var tcp = packet.AsSpan(ipLength);
        BinaryPrimitives.WriteUInt16BigEndian(tcp, 40000);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], 443);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], 0x01020304);
        tcp[12] = (byte)((20 + optionLength) / 4 << 4);
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 64240);
        options.CopyTo(tcp[20..]);
        for (var i = 0; i < payload; i++)
        {
            tcp[20 + optionLength + i] = (byte)(i * 7);
        }
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], Checksum(packet, ipv6));
        return packet;
    }

    /// <summary>The TCP checksum computed from scratch (pseudo-header included), with the field taken as zero.</summary>
    private static ushort Checksum(byte[] packet, bool ipv6)
    {
        var ipLength = ipv6 ? 40 : 20;
        var tcp = packet.AsSpan(ipLength).ToArray();
        tcp[16] = tcp[17] = 0;
        var pseudo = new List<byte>();
        if (ipv6)
        {
            pseudo.AddRange(packet.AsSpan(8, 32).ToArray());
            pseudo.AddRange([0, 0, (byte)(tcp.Length >> 8), (byte)tcp.Length, 0, 0, 0, 6]);
        }
        else
        {
            pseudo.AddRange(packet.AsSpan(12, 8).ToArray());
            pseudo.AddRange([0, 6, (byte)(tcp.Length >> 8), (byte)tcp.Length]);
        }
        pseudo.AddRange(tcp);
        if (pseudo.Count % 2 == 1)
        {
            pseudo.Add(0);
        }
        uint sum = 0;
        for (var i = 0; i < pseudo.Count; i += 2)
        {
            sum += (uint)(pseudo[i] << 8 | pseudo[i + 1]);
        }
        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    private static ushort StoredChecksum(byte[] packet, bool ipv6) => BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan((ipv6 ? 40 : 20) + 16));

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
