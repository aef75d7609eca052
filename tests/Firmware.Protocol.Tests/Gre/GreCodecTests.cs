using Firmware.Protocol.Gre;
using Firmware.Protocol.Tests.Pptp;

namespace Firmware.Protocol.Tests.Gre;

public sealed class GreCodecTests
{
    [Fact]
    public void Header_with_sequence_and_ack_is_written_in_place_in_front_of_the_payload()
    {
        var buffer = new byte[40];
        buffer.AsSpan().Fill(0xEE);
        var payload = new byte[] { 0xFF, 0x03, 0xC0, 0x21 };
        payload.CopyTo(buffer, 16);

        var start = GreCodec.WriteHeader(buffer, 16, payload.Length, 0xBEEF, true, 0x01020304, true, 0x0A0B0C0D);

        Assert.Equal(0, start);
        var expected = TestHex.Parse("""
            30 81        // K and S set; A set, version 1
            880b         // protocol type PPP
            0004 beef    // payload length, call ID
            01020304     // sequence number
            0a0b0c0d     // acknowledgment number
            ff03c021     // the payload, untouched
            """);
        Assert.Equal(expected, buffer[..20]);
        Assert.Equal(0xEE, buffer[20]);
    }

    [Fact]
    public void Header_with_sequence_only_starts_later_in_the_buffer()
    {
        var buffer = new byte[32];
        var start = GreCodec.WriteHeader(buffer, 16, 4, 7, true, 9, false, 0);
        Assert.Equal(4, start);
        Assert.Equal(TestHex.Parse("3001 880b 0004 0007 00000009"), buffer[4..16]);
    }

    [Fact]
    public void Ack_only_packet_has_no_sequence_and_no_payload()
    {
        var buffer = new byte[12];
        Assert.Equal(12, GreCodec.WriteAckOnly(buffer, 0x0102, 0xFFFFFFFF));
        Assert.Equal(TestHex.Parse("2081 880b 0000 0102 ffffffff"), buffer);
        Assert.True(GreCodec.TryDecode(buffer, out var packet, out _));
        Assert.Equal(new GrePacket(0x0102, false, 0, true, 0xFFFFFFFF, 12, 0), packet);
        Assert.Equal(-1, GreCodec.WriteAckOnly(new byte[11], 1, 1));
    }

    [Fact]
    public void Not_enough_header_room_writes_nothing()
    {
        var buffer = new byte[32];
        Assert.Equal(-1, GreCodec.WriteHeader(buffer, 15, 4, 1, true, 1, true, 1));
        Assert.Equal(-1, GreCodec.WriteHeader(buffer, 16, 17, 1, true, 1, true, 1));
        Assert.All(buffer, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Round_trip_returns_a_view_of_the_payload()
    {
        var buffer = new byte[1416];
        for (var i = 16; i < buffer.Length; i++)
        {
            buffer[i] = (byte)i;
        }
        var start = GreCodec.WriteHeader(buffer, 16, 1400, 0, true, uint.MaxValue, true, 0);
        Assert.True(GreCodec.TryDecode(buffer.AsSpan(start), out var packet, out var reason));
        Assert.Equal(GreDropReason.None, reason);
        Assert.Equal(new GrePacket(0, true, uint.MaxValue, true, 0, 16, 1400), packet);
    }

    [Fact]
    public void Trailing_padding_is_ignored()
    {
        var datagram = TestHex.Parse("3001 880b 0002 0007 00000009 abcd 0000 0000");
        Assert.True(GreCodec.TryDecode(datagram, out var packet, out _));
        Assert.Equal(2, packet.PayloadLength);
        Assert.Equal(12, packet.PayloadOffset);
    }

    [Theory]
    [InlineData("3001 880b 0000 0007", GreDropReason.TooShort)]                    // S set but no sequence number
    [InlineData("3081 880b 0000 0007 00000001", GreDropReason.TooShort)]           // S and A but only one number
    [InlineData("3001 880b", GreDropReason.TooShort)]
    [InlineData("b001 880b 0000 0007 00000001", GreDropReason.ChecksumFlag)]
    [InlineData("7001 880b 0000 0007 00000001", GreDropReason.RoutingFlag)]
    [InlineData("1001 880b 0000 0007 00000001", GreDropReason.KeyMissing)]
    [InlineData("3801 880b 0000 0007 00000001", GreDropReason.StrictSourceRouteFlag)]
    [InlineData("3101 880b 0000 0007 00000001", GreDropReason.RecursionNonZero)]
    [InlineData("3009 880b 0000 0007 00000001", GreDropReason.ReservedFlags)]
    [InlineData("3000 880b 0000 0007 00000001", GreDropReason.WrongVersion)]
    [InlineData("3002 880b 0000 0007 00000001", GreDropReason.WrongVersion)]
    [InlineData("3001 0800 0000 0007 00000001", GreDropReason.WrongProtocol)]
    [InlineData("3001 880b 0005 0007 00000001 aabbccdd", GreDropReason.PayloadBeyondDatagram)]
    [InlineData("2081 880b 0001 0007 00000001 aa", GreDropReason.PayloadWithoutSequence)]
    [InlineData("2001 880b 0000 0007", GreDropReason.Empty)]
    public void Bad_datagrams_are_dropped_with_a_reason(string hex, GreDropReason expected)
    {
        Assert.False(GreCodec.TryDecode(TestHex.Parse(hex), out var packet, out var reason));
        Assert.Equal(expected, reason);
        Assert.Equal(default, packet);
        var counters = new GreDropCounters();
        counters.Increment(reason);
        Assert.Equal(1, counters[reason]);
        Assert.Equal(1, counters.Total);
    }

    [Fact]
    public void Decoding_from_an_exact_slice_never_reaches_the_sentinel_bytes()
    {
        var random = new Random(47);
        var backing = new byte[4096];
        for (var round = 0; round < 20000; round++)
        {
            backing.AsSpan().Fill(0xA5);
            var length = random.Next(0, 64);
            var offset = random.Next(0, 1024);
            var slice = backing.AsSpan(offset, length);
            random.NextBytes(slice);
            if (length >= 4 && random.Next(2) == 0)
            {
                // Make most of them plausible so the deeper checks run.
                slice[0] = (byte)(0x20 | (random.Next(2) << 4));
                slice[1] = (byte)((random.Next(2) << 7) | 1);
                slice[2] = 0x88;
                slice[3] = 0x0B;
            }
            if (GreCodec.TryDecode(slice, out var packet, out _))
            {
                Assert.InRange(packet.PayloadOffset + packet.PayloadLength, 0, length);
                Assert.InRange(packet.PayloadOffset, 8, 16);
            }
        }
    }
}
