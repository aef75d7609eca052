using System.Buffers.Binary;

namespace Firmware.Protocol.Pptp;

/// <summary>Outcome of one <see cref="PptpStreamReassembler.TryReadFrame"/> step.</summary>
public enum PptpFramingStatus
{
    /// <summary>A whole message is in the frame out-parameter.</summary>
    Frame,
    /// <summary>All input was consumed; wait for more bytes.</summary>
    NeedMoreData,
    /// <summary>The stream is broken (bad length, type or cookie); the connection must be closed.</summary>
    Fatal,
}

/// <summary>
/// Rebuilds control messages from the TCP byte stream of one control connection: messages may be split over
/// reads or several may arrive in one. Memory is bounded by one maximum-size message. Header checks happen as
/// soon as 8 bytes are there, so a hostile Length never makes us wait for (or buffer) bytes we would reject.
/// Usage: call <see cref="TryReadFrame"/> in a loop with the same input until it returns NeedMoreData or Fatal.
/// A returned frame points into the caller's input or into this object's buffer and is valid only until the
/// next call.
/// </summary>
public sealed class PptpStreamReassembler
{
    private const int PrefixLength = 8;
    private readonly byte[] _pending = new byte[PptpControlCodec.MaximumMessageLength];
    private int _count;

    /// <summary>Why the stream was declared broken; <see cref="PptpDecodeStatus.Ok"/> while it is not.</summary>
    public PptpDecodeStatus FatalReason { get; private set; }

    /// <summary>Bytes held for an incomplete message.</summary>
    public int PendingBytes => _count;

    /// <summary>Takes bytes from <paramref name="input"/> (advancing it) until one message is complete.</summary>
    public PptpFramingStatus TryReadFrame(ref ReadOnlySpan<byte> input, out ReadOnlySpan<byte> frame)
    {
        frame = default;
        if (FatalReason != PptpDecodeStatus.Ok)
        {
            input = default;
            return PptpFramingStatus.Fatal;
        }

        // Fast path: nothing pending and the whole message is in the input, so no copy.
        if (_count == 0 && input.Length >= PrefixLength)
        {
            var status = PptpControlCodec.CheckHeaderPrefix(input);
            if (status != PptpDecodeStatus.Ok)
            {
                return Fail(status, ref input);
            }
            int length = BinaryPrimitives.ReadUInt16BigEndian(input);
            if (input.Length >= length)
            {
                frame = input[..length];
                input = input[length..];
                return PptpFramingStatus.Frame;
            }
        }

        if (_count < PrefixLength)
        {
            var take = Math.Min(PrefixLength - _count, input.Length);
            input[..take].CopyTo(_pending.AsSpan(_count));
            input = input[take..];
            _count += take;
            if (_count < PrefixLength)
            {
                return PptpFramingStatus.NeedMoreData;
            }
            var status = PptpControlCodec.CheckHeaderPrefix(_pending);
            if (status != PptpDecodeStatus.Ok)
            {
                return Fail(status, ref input);
            }
        }

        int expected = BinaryPrimitives.ReadUInt16BigEndian(_pending);
        var rest = Math.Min(expected - _count, input.Length);
        input[..rest].CopyTo(_pending.AsSpan(_count));
        input = input[rest..];
        _count += rest;
        if (_count < expected)
        {
            return PptpFramingStatus.NeedMoreData;
        }
        _count = 0;
        frame = _pending.AsSpan(0, expected);
        return PptpFramingStatus.Frame;
    }

    private PptpFramingStatus Fail(PptpDecodeStatus reason, ref ReadOnlySpan<byte> input)
    {
        FatalReason = reason;
        _count = 0;
        input = default;
        return PptpFramingStatus.Fatal;
    }
}
