using System.Buffers.Binary;
using Firmware.Protocol.Pptp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Pptp;

/// <summary>
/// Random and mutated byte strings into every control-plane decoder and both state machines: nothing throws,
/// nothing reads past its input (inputs are exact slices of a larger buffer full of a sentinel, and any
/// decoded frame must lie inside the slice).
/// </summary>
public sealed class PptpPropertyTests
{
    private static readonly byte[][] ValidMessages =
    [
        .. PptpGoldenPacketTests.Golden.Select(row => PptpControlCodec.Encode((PptpControlMessage)row[1])),
    ];

    private static byte[] Mutate(Random random, byte[] source)
    {
        var bytes = (byte[])source.Clone();
        switch (random.Next(5))
        {
            case 0:
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                break;
            case 1:
                // Keep the header valid, corrupt the length.
                BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)random.Next(0, 1100));
                break;
            case 2:
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(8), (ushort)random.Next(0, 20));
                break;
            case 3:
                bytes = bytes[..random.Next(bytes.Length)];
                break;
            default:
                for (var i = 0; i < 4; i++)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }
                break;
        }
        return bytes;
    }

    private static byte[] RandomInput(Random random) => random.Next(3) switch
    {
        0 => Enumerable.Range(0, random.Next(0, 300)).Select(_ => (byte)random.Next(256)).ToArray(),
        _ => Mutate(random, ValidMessages[random.Next(ValidMessages.Length)]),
    };

    [Fact]
    public void Codec_never_throws_and_never_reads_outside_its_slice()
    {
        var random = new Random(1);
        var backing = new byte[2048];
        for (var round = 0; round < 20000; round++)
        {
            var input = RandomInput(random);
            var offset = random.Next(0, 512);
            var results = new PptpControlMessage?[2];
            var statuses = new PptpDecodeStatus[2];
            byte[] sentinels = [0x5A, 0xA5];
            for (var pass = 0; pass < 2; pass++)
            {
                backing.AsSpan().Fill(sentinels[pass]);
                input.CopyTo(backing, offset);
                statuses[pass] = PptpControlCodec.TryDecode(backing.AsSpan(offset, input.Length), out results[pass]);
            }
            // The outcome depends on the slice alone: different bytes around it change nothing.
            Assert.Equal(statuses[0], statuses[1]);
            Assert.Equal(results[0], results[1]);
            Assert.Equal(statuses[0] == PptpDecodeStatus.Ok, results[0] is not null);
            if (results[0] is { } message)
            {
                Assert.Equal(PptpControlCodec.FixedLength(message.Type), PptpControlCodec.Encode(message).Length);
            }
        }
    }

    [Fact]
    public void Reassembler_never_throws_and_frames_lie_inside_the_input_or_its_buffer()
    {
        var random = new Random(2);
        for (var round = 0; round < 3000; round++)
        {
            var reassembler = new PptpStreamReassembler();
            var stream = Enumerable.Range(0, random.Next(1, 6)).SelectMany(_ => RandomInput(random)).ToArray();
            var position = 0;
            while (position < stream.Length)
            {
                var size = Math.Min(random.Next(1, 200), stream.Length - position);
                ReadOnlySpan<byte> input = stream.AsSpan(position, size);
                position += size;
                PptpFramingStatus status;
                do
                {
                    var before = input.Length;
                    status = reassembler.TryReadFrame(ref input, out var frame);
                    Assert.True(input.Length <= before);
                    if (status == PptpFramingStatus.Frame)
                    {
                        Assert.InRange(frame.Length, PptpControlCodec.HeaderLength, PptpControlCodec.MaximumMessageLength);
                        Assert.Equal(frame.Length, BinaryPrimitives.ReadUInt16BigEndian(frame));
                    }
                }
                while (status == PptpFramingStatus.Frame);
                Assert.True(status == PptpFramingStatus.Fatal || input.IsEmpty);
                Assert.InRange(reassembler.PendingBytes, 0, PptpControlCodec.MaximumMessageLength - 1);
            }
        }
    }

    [Theory]
    [InlineData(PptpControlRole.Client, false)]
    [InlineData(PptpControlRole.Client, true)]
    [InlineData(PptpControlRole.Server, false)]
    [InlineData(PptpControlRole.Server, true)]
    public void State_machines_survive_random_and_mutated_input(PptpControlRole role, bool establishFirst)
    {
        var random = new Random((int)role * 10 + (establishFirst ? 1 : 0));
        for (var round = 0; round < 400; round++)
        {
            var time = new FakeTimeProvider();
            var host = new RecordingHost();
            var connection = new PptpControlConnection(role, new PptpControlOptions { RandomFill = SeededRandom.Create(round) }, host, time);
            connection.Start();
            if (establishFirst)
            {
                connection.OnBytesReceived(PptpControlCodec.Encode(role == PptpControlRole.Client
                    ? new StartControlConnectionReply()
                    : new StartControlConnectionRequest()));
                Assert.Equal(PptpControlState.Established, connection.State);
                if (role == PptpControlRole.Client)
                {
                    connection.TryPlaceCall(out _);
                }
                else
                {
                    connection.OnBytesReceived(PptpControlCodec.Encode(new OutgoingCallRequest { CallId = 0x1234 }));
                }
            }
            for (var i = 0; i < 20 && connection.State != PptpControlState.Closed; i++)
            {
                // Well-formed messages of every type (valid frames, arbitrary fields) as well as garbage.
                var input = random.Next(2) == 0 ? RandomInput(random) : ValidMessages[random.Next(ValidMessages.Length)];
                connection.OnBytesReceived(input);
                if (random.Next(5) == 0)
                {
                    time.Advance(TimeSpan.FromSeconds(random.Next(0, 90)));
                }
            }
            connection.OnTransportClosed();
            Assert.Equal(PptpControlState.Closed, connection.State);
            Assert.Empty(connection.Calls);
            connection.Dispose();
        }
    }
}
