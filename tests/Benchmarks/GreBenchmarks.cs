using BenchmarkDotNet.Attributes;
using Firmware.Protocol.Gre;

namespace Benchmarks;

/// <summary>
/// The GRE hot path for one 1400-byte PPP payload: header written in place in front of the payload (sequence
/// and acknowledgment numbers), then decoded back to an offset/length view. Must not allocate.
/// </summary>
[MemoryDiagnoser]
public class GreBenchmarks
{
    private const int PayloadLength = 1400;
    private readonly byte[] _buffer = new byte[GreCodec.MaxHeaderLength + PayloadLength];
    private uint _sequence;

    private GreWindow<byte[]> _sender = null!;
    private GreWindow<byte[]> _receiver = null!;

    [GlobalSetup]
    public void Setup()
    {
        new Random(1).NextBytes(_buffer.AsSpan(GreCodec.MaxHeaderLength));
        var options = new GreWindowOptions { EnforceSendWindow = false };
        _sender = new GreWindow<byte[]>(NullHost.Instance, 0x1234, options, TimeProvider.System);
        _receiver = new GreWindow<byte[]>(NullHost.Instance, 0x4321, options, TimeProvider.System);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sender.Dispose();
        _receiver.Dispose();
    }

    /// <summary>The whole per-packet path of a call: sequence/ack assignment, header, decode, in-order delivery.</summary>
    [Benchmark]
    public int WindowSendReceive()
    {
        _sender.TryPrepareSend(_buffer, GreCodec.MaxHeaderLength, PayloadLength, out var offset, out var length);
        GreCodec.TryDecode(_buffer.AsSpan(offset, length), out var packet, out _);
        packet = packet with { PayloadOffset = packet.PayloadOffset + offset };
        return (int)_receiver.OnPacket(packet, _buffer);
    }

    private sealed class NullHost : IGreWindowHost<byte[]>
    {
        public static readonly NullHost Instance = new();

        public void Deliver(byte[] buffer, int offset, int length)
        {
        }

        public void Release(byte[] buffer)
        {
        }

        public void SendAckOnly(ReadOnlySpan<byte> packet)
        {
        }
    }

    [Benchmark]
    public int EncodeDecode()
    {
        var sequence = _sequence++;
        var start = GreCodec.WriteHeader(_buffer, GreCodec.MaxHeaderLength, PayloadLength, 0x1234, true, sequence, true, sequence - 1);
        GreCodec.TryDecode(_buffer.AsSpan(start), out var packet, out _);
        return packet.PayloadLength + (int)packet.SequenceNumber;
    }
}
