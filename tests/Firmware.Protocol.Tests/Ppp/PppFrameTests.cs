using CsCheck;
using Firmware.Protocol.Ppp;

namespace Firmware.Protocol.Tests.Ppp;

public sealed class PppFrameTests
{
    [Theory]
    [InlineData(new byte[] { 0xFF, 0x03, 0x00, 0x21, 0x45 }, 0x0021, 4)]
    [InlineData(new byte[] { 0x00, 0x21, 0x45 }, 0x0021, 2)]
    [InlineData(new byte[] { 0xFF, 0x03, 0x21, 0x45 }, 0x0021, 3)]
    [InlineData(new byte[] { 0x21, 0x45 }, 0x0021, 1)]
    [InlineData(new byte[] { 0xFF, 0x03, 0xC0, 0x21, 1 }, 0xC021, 4)]
    [InlineData(new byte[] { 0xC2, 0x23 }, 0xC223, 2)]
    public void Decodes_full_and_compressed_headers(byte[] frame, int protocol, int headerLength)
    {
        Assert.True(PppFrame.TryDecodeHeader(frame, out var p, out var length));
        Assert.Equal((PppProtocol)protocol, p);
        Assert.Equal(headerLength, length);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0xFF, 0x03 })]
    [InlineData(new byte[] { 0x00 })]
    [InlineData(new byte[] { 0x00, 0x20 })]
    [InlineData(new byte[] { 0xFF, 0x03, 0xC0 })]
    public void Rejects_short_or_invalid_protocol_fields(byte[] frame)
    {
        Assert.False(PppFrame.TryDecode(frame, out _, out ReadOnlySpan<byte> _));
    }

    [Fact]
    public void Writes_header_in_place_without_moving_the_payload()
    {
        var buffer = new byte[10];
        buffer[6] = 0x45;
        Assert.True(PppFrame.TryWriteHeader(buffer, 6, PppProtocol.Ipv4, new PppFraming(true, true), out var start));
        Assert.Equal(5, start);
        Assert.Equal(new byte[] { 0x21, 0x45 }, buffer[5..7]);

        Assert.True(PppFrame.TryWriteHeader(buffer, 6, PppProtocol.Ipv4, PppFraming.Uncompressed, out start));
        Assert.Equal(new byte[] { 0xFF, 0x03, 0x00, 0x21, 0x45 }, buffer[2..7]);

        // LCP never loses its address/control bytes; its protocol cannot be compressed.
        Assert.True(PppFrame.TryWriteHeader(buffer, 6, PppProtocol.Lcp, new PppFraming(true, true), out start));
        Assert.Equal(new byte[] { 0xFF, 0x03, 0xC0, 0x21 }, buffer[2..6]);

        Assert.False(PppFrame.TryWriteHeader(buffer, 1, PppProtocol.Ipv4, PppFraming.Uncompressed, out _));
    }

    [Fact]
    public void Round_trips_every_framing()
    {
        Gen.Select(Gen.UShort, Gen.Bool, Gen.Bool, Gen.Byte.Array[0, 40]).Sample((raw, acfc, pfc, payload) =>
        {
            // A valid protocol number: low byte odd, high byte even.
            var protocol = (PppProtocol)((raw | 0x0001) & 0xFEFF);
            var buffer = new byte[4 + payload.Length];
            payload.CopyTo(buffer, 4);
            Assert.True(PppFrame.TryWriteHeader(buffer, 4, protocol, new PppFraming(acfc, pfc), out var start));
            Assert.True(PppFrame.TryDecode(buffer.AsSpan(start), out var decoded, out var decodedPayload));
            Assert.Equal(protocol, decoded);
            Assert.Equal(payload, decodedPayload.ToArray());
        });
    }

    [Fact]
    public void Random_bytes_never_throw_or_overrun()
    {
        Gen.Byte.Array[0, 12].Sample(bytes =>
        {
            if (PppFrame.TryDecodeHeader(bytes, out _, out var length))
            {
                Assert.InRange(length, 1, Math.Min(4, bytes.Length));
            }

            if (PppControlPacket.TryParse(bytes, out _, out _, out var data))
            {
                Assert.True(data.Length <= bytes.Length - 4);
            }

            if (PppOptionReader.IsWellFormed(bytes))
            {
                var reader = new PppOptionReader(bytes);
                var total = 0;
                while (reader.TryRead(out _, out _, out var whole))
                {
                    total += whole.Length;
                }

                Assert.Equal(bytes.Length, total);
            }
        }, iter: 20_000);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0 }, false)]
    [InlineData(new byte[] { 1, 1, 0 }, false)]
    [InlineData(new byte[] { 1, 4, 0 }, false)]
    [InlineData(new byte[] { 1 }, false)]
    [InlineData(new byte[] { 1, 2, 7, 2 }, true)]
    [InlineData(new byte[] { }, true)]
    public void Option_lists_with_bad_lengths_are_refused(byte[] options, bool wellFormed)
    {
        Assert.Equal(wellFormed, PppOptionReader.IsWellFormed(options));
    }

    [Fact]
    public void Control_packet_length_field_is_enforced()
    {
        Assert.False(PppControlPacket.TryParse(new byte[] { 1, 1, 0, 9, 0, 0 }, out _, out _, out _));
        Assert.False(PppControlPacket.TryParse(new byte[] { 1, 1, 0, 3 }, out _, out _, out _));
        Assert.True(PppControlPacket.TryParse(new byte[] { 1, 1, 0, 5, 0xAA, 0xBB, 0xCC }, out var code, out var id, out var data));
        Assert.Equal(1, code);
        Assert.Equal(1, id);
        Assert.Equal(new byte[] { 0xAA }, data.ToArray());
    }
}
