using System.Buffers.Binary;
using Firmware.Protocol.Pptp;

namespace Firmware.Protocol.Tests.Pptp;

public sealed class PptpCodecTests
{
    private static byte[] Echo(uint id = 7) => PptpControlCodec.Encode(new EchoRequest { Identifier = id });

    [Fact]
    public void Wrong_magic_cookie_is_rejected()
    {
        var bytes = Echo();
        bytes[7] ^= 0x01;
        Assert.Equal(PptpDecodeStatus.BadMagicCookie, PptpControlCodec.TryDecode(bytes, out var message));
        Assert.Null(message);
    }

    [Fact]
    public void Length_shorter_than_header_is_rejected()
    {
        var bytes = Echo();
        BinaryPrimitives.WriteUInt16BigEndian(bytes, 11);
        Assert.Equal(PptpDecodeStatus.ShorterThanHeader, PptpControlCodec.TryDecode(bytes, out _));
        Assert.Equal(PptpDecodeStatus.ShorterThanHeader, PptpControlCodec.TryDecode(bytes.AsSpan(0, 11), out _));
    }

    [Fact]
    public void Length_shorter_than_the_message_type_needs_is_rejected()
    {
        var bytes = PptpControlCodec.Encode(new EchoReply { Identifier = 1 });
        var truncated = bytes.AsSpan(0, 16).ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(truncated, 16);
        Assert.Equal(PptpDecodeStatus.ShorterThanMessageType, PptpControlCodec.TryDecode(truncated, out _));
    }

    [Fact]
    public void Length_not_matching_the_frame_is_rejected()
    {
        var bytes = Echo();
        Assert.Equal(PptpDecodeStatus.LengthMismatch, PptpControlCodec.TryDecode(bytes.AsSpan(0, 15), out _));
    }

    [Fact]
    public void Length_over_1KiB_is_rejected()
    {
        var bytes = new byte[1025];
        Echo().CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt16BigEndian(bytes, 1025);
        Assert.Equal(PptpDecodeStatus.LongerThanMaximum, PptpControlCodec.TryDecode(bytes, out _));
    }

    [Fact]
    public void Unknown_message_type_and_management_messages_are_rejected()
    {
        var bytes = Echo();
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(8), 16);
        Assert.Equal(PptpDecodeStatus.UnknownMessageType, PptpControlCodec.TryDecode(bytes, out _));
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(8), 0);
        Assert.Equal(PptpDecodeStatus.UnknownMessageType, PptpControlCodec.TryDecode(bytes, out _));
        bytes = Echo();
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), 2);
        Assert.Equal(PptpDecodeStatus.NotControlMessage, PptpControlCodec.TryDecode(bytes, out _));
    }

    [Fact]
    public void Longer_than_fixed_size_is_accepted_and_the_tail_ignored()
    {
        var bytes = new byte[20];
        Echo(0xAABBCCDD).CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt16BigEndian(bytes, 20);
        Assert.Equal(PptpDecodeStatus.Ok, PptpControlCodec.TryDecode(bytes, out var message));
        Assert.Equal(0xAABBCCDDu, Assert.IsType<EchoRequest>(message).Identifier);
    }

    [Fact]
    public void Encode_refuses_a_too_small_destination()
    {
        var buffer = new byte[15];
        Assert.Throws<ArgumentException>(() => PptpControlCodec.Encode(new EchoRequest(), buffer));
    }

    [Fact]
    public void Reserved_fields_are_written_as_zero_even_over_dirty_buffers()
    {
        var buffer = Enumerable.Repeat((byte)0xEE, 64).ToArray();
        var length = PptpControlCodec.Encode(new CallClearRequest { CallId = 1 }, buffer);
        Assert.Equal("00100001" + "1A2B3C4D" + "000C0000" + "00010000", Convert.ToHexString(buffer, 0, length));
        Assert.Equal(0xEE, buffer[length]);
    }
}

public sealed class PptpStreamReassemblerTests
{
    private static byte[] Stream(params PptpControlMessage[] messages) =>
        messages.SelectMany(PptpControlCodec.Encode).ToArray();

    private static List<PptpControlMessage> Feed(PptpStreamReassembler reassembler, IEnumerable<byte[]> chunks, out PptpFramingStatus last)
    {
        var messages = new List<PptpControlMessage>();
        last = PptpFramingStatus.NeedMoreData;
        foreach (var chunk in chunks)
        {
            ReadOnlySpan<byte> input = chunk;
            while (true)
            {
                last = reassembler.TryReadFrame(ref input, out var frame);
                if (last != PptpFramingStatus.Frame)
                {
                    break;
                }
                Assert.Equal(PptpDecodeStatus.Ok, PptpControlCodec.TryDecode(frame, out var message));
                messages.Add(message!);
            }
            if (last == PptpFramingStatus.Fatal)
            {
                break;
            }
            Assert.True(input.IsEmpty);
        }
        return messages;
    }

    private static readonly PptpControlMessage[] Sample =
    [
        new StartControlConnectionRequest { HostName = "a" },
        new EchoRequest { Identifier = 1 },
        new OutgoingCallRequest { CallId = 9, PhoneNumber = "1" },
        new SetLinkInfo { PeerCallId = 3 },
    ];

    [Fact]
    public void Rebuilds_messages_split_one_byte_at_a_time()
    {
        var bytes = Stream(Sample);
        var messages = Feed(new PptpStreamReassembler(), bytes.Select(b => new[] { b }), out var last);
        Assert.Equal(Sample, messages);
        Assert.Equal(PptpFramingStatus.NeedMoreData, last);
    }

    [Fact]
    public void Rebuilds_messages_coalesced_in_one_read()
    {
        var messages = Feed(new PptpStreamReassembler(), [Stream(Sample)], out _);
        Assert.Equal(Sample, messages);
    }

    [Fact]
    public void Rebuilds_messages_at_random_split_points()
    {
        var bytes = Stream([.. Sample, .. Sample, .. Sample]);
        var random = new Random(1723);
        for (var round = 0; round < 200; round++)
        {
            var chunks = new List<byte[]>();
            for (var offset = 0; offset < bytes.Length;)
            {
                var size = Math.Min(random.Next(1, 300), bytes.Length - offset);
                chunks.Add(bytes.AsSpan(offset, size).ToArray());
                offset += size;
            }
            var reassembler = new PptpStreamReassembler();
            Assert.Equal(12, Feed(reassembler, chunks, out _).Count);
            Assert.Equal(0, reassembler.PendingBytes);
        }
    }

    [Theory]
    [InlineData(11, PptpDecodeStatus.ShorterThanHeader)]
    [InlineData(0, PptpDecodeStatus.ShorterThanHeader)]
    [InlineData(1025, PptpDecodeStatus.LongerThanMaximum)]
    [InlineData(0xFFFF, PptpDecodeStatus.LongerThanMaximum)]
    public void Bad_length_is_fatal_as_soon_as_the_header_prefix_is_in(int length, PptpDecodeStatus reason)
    {
        var bytes = PptpControlCodec.Encode(new EchoRequest());
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)length);
        var reassembler = new PptpStreamReassembler();
        // Split so that the prefix arrives in pieces: the decision waits for 8 bytes, never for Length bytes.
        var messages = Feed(reassembler, [bytes[..3], bytes[3..8]], out var last);
        Assert.Empty(messages);
        Assert.Equal(PptpFramingStatus.Fatal, last);
        Assert.Equal(reason, reassembler.FatalReason);

        ReadOnlySpan<byte> more = Stream(new EchoRequest());
        Assert.Equal(PptpFramingStatus.Fatal, reassembler.TryReadFrame(ref more, out _));
    }

    [Fact]
    public void Wrong_magic_cookie_after_a_good_message_is_fatal()
    {
        var bytes = Stream(new EchoRequest(), new EchoRequest());
        bytes[16 + 4] = 0;
        var reassembler = new PptpStreamReassembler();
        var messages = Feed(reassembler, [bytes], out var last);
        Assert.Single(messages);
        Assert.Equal(PptpFramingStatus.Fatal, last);
        Assert.Equal(PptpDecodeStatus.BadMagicCookie, reassembler.FatalReason);
    }

    [Fact]
    public void A_maximum_length_message_is_framed()
    {
        var bytes = new byte[1024];
        PptpControlCodec.Encode(new EchoRequest { Identifier = 5 }, bytes);
        BinaryPrimitives.WriteUInt16BigEndian(bytes, 1024);
        var reassembler = new PptpStreamReassembler();
        ReadOnlySpan<byte> first = bytes.AsSpan(0, 500);
        Assert.Equal(PptpFramingStatus.NeedMoreData, reassembler.TryReadFrame(ref first, out _));
        Assert.Equal(500, reassembler.PendingBytes);
        ReadOnlySpan<byte> second = bytes.AsSpan(500);
        Assert.Equal(PptpFramingStatus.Frame, reassembler.TryReadFrame(ref second, out var frame));
        Assert.Equal(1024, frame.Length);
        Assert.Equal(PptpDecodeStatus.Ok, PptpControlCodec.TryDecode(frame, out var message));
        Assert.Equal(5u, Assert.IsType<EchoRequest>(message).Identifier);
    }
}
