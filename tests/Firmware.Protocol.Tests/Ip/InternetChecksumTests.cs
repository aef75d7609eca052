using Firmware.Protocol.Ip;

namespace Firmware.Protocol.Tests.Ip;

public sealed class InternetChecksumTests
{
    [Fact]
    public void The_numerical_example_of_rfc_1071_sums_to_ddf2()
    {
        byte[] data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];

        Assert.Equal(0xddf2u, InternetChecksum.Sum(data));
    }

    [Fact]
    public void Every_length_and_alignment_sums_as_the_word_by_word_reference_does()
    {
        var random = new Random(1071);
        var data = new byte[2100];
        random.NextBytes(data);
        for (var length = 0; length <= 200; length++)
        {
            for (var start = 0; start < 8; start++)
            {
                var slice = data.AsSpan(start, length);
                Assert.Equal(TcpPackets.ReferenceSum(slice), (ushort)InternetChecksum.Sum(slice));
            }
        }
        // All ones, the case where end-around carries pile up.
        var ones = Enumerable.Repeat((byte)0xff, 2048).ToArray();
        Assert.Equal(TcpPackets.ReferenceSum(ones), (ushort)InternetChecksum.Sum(ones));
        Assert.Equal(TcpPackets.ReferenceSum(data), (ushort)InternetChecksum.Sum(data));
    }

    [Fact]
    public void Sums_of_pieces_add_up_to_the_sum_of_the_whole()
    {
        var random = new Random(7);
        var data = new byte[1500];
        random.NextBytes(data);
        // Even split points only: the ones'-complement sum is of 16-bit words.
        for (var split = 0; split <= data.Length; split += 62)
        {
            var sum = InternetChecksum.Add(InternetChecksum.Sum(data.AsSpan(0, split)), InternetChecksum.Sum(data.AsSpan(split)));
            Assert.Equal(TcpPackets.ReferenceChecksum(data), InternetChecksum.Finish(sum));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_tcp_checksum_from_the_pseudo_header_and_the_segment_matches_the_reference(bool ipv6)
    {
        var packet = TcpPackets.Segment(ipv6, TcpPackets.Ack, TcpPackets.Timestamps, payload: 999);
        var ipLength = TcpPackets.IpHeaderLength(packet);
        var tcp = packet.AsSpan(ipLength);

        var sum = InternetChecksum.Add(InternetChecksum.PseudoHeader(packet, 6, tcp.Length), InternetChecksum.Sum(tcp));

        Assert.Equal(0, InternetChecksum.Finish(sum)); // a segment with a right checksum sums to all ones
    }
}
