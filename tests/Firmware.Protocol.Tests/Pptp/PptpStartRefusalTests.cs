using Firmware.Protocol.Pptp;

namespace Firmware.Protocol.Tests.Pptp;

public sealed class PptpStartRefusalTests
{
    private static readonly PptpControlOptions Identity = new()
    {
        HostName = "gateway",
        VendorString = "pptp-gateway",
        FirmwareRevision = 0x0102,
        MaximumChannels = 64,
        RandomFill = SeededRandom.Create(3),
    };

    private static byte[] Sccrq() => PptpControlCodec.Encode(new StartControlConnectionRequest { HostName = "client" });

    [Fact]
    public void A_full_server_answers_SCCRQ_with_general_error_no_resource_and_our_identity()
    {
        var refusal = new PptpStartRefusal(StartControlResult.GeneralError, PptpErrorCode.NoResource, Identity);
        var reply = new byte[PptpStartRefusal.ReplyLength];

        Assert.Equal(PptpRefusalStep.SendReplyAndClose, refusal.OnBytesReceived(Sccrq(), reply, out var length));

        Assert.Equal(156, length);
        Assert.Equal(PptpDecodeStatus.Ok, PptpControlCodec.TryDecode(reply.AsSpan(0, length), out var message));
        var sccrp = Assert.IsType<StartControlConnectionReply>(message);
        Assert.Equal(StartControlResult.GeneralError, sccrp.ResultCode);
        Assert.Equal(PptpErrorCode.NoResource, sccrp.ErrorCode);
        Assert.Equal("gateway", sccrp.HostName);
        Assert.Equal(64, sccrp.MaximumChannels);
        Assert.Equal(0x0102, sccrp.FirmwareRevision);
        // Result and error code right after the 12-byte header and the 2-byte version, as RFC 2637 lays them out.
        Assert.Equal([0x02, 0x04], reply[14..16]);
    }

    [Fact]
    public void A_request_split_into_single_bytes_is_answered_once_it_is_whole()
    {
        var refusal = new PptpStartRefusal(StartControlResult.NotAuthorized, PptpErrorCode.NoResource, Identity);
        var reply = new byte[PptpStartRefusal.ReplyLength];
        var request = Sccrq();
        for (var i = 0; i < request.Length - 1; i++)
        {
            Assert.Equal(PptpRefusalStep.NeedMoreData, refusal.OnBytesReceived(request.AsSpan(i, 1), reply, out _));
        }

        Assert.Equal(PptpRefusalStep.SendReplyAndClose, refusal.OnBytesReceived(request.AsSpan(^1), reply, out var length));

        PptpControlCodec.TryDecode(reply.AsSpan(0, length), out var message);
        var sccrp = Assert.IsType<StartControlConnectionReply>(message);
        Assert.Equal(StartControlResult.NotAuthorized, sccrp.ResultCode);
        // The error code only means something with a general error.
        Assert.Equal(PptpErrorCode.None, sccrp.ErrorCode);
        Assert.Equal(PptpRefusalStep.Close, refusal.OnBytesReceived(request, reply, out _));
    }

    [Theory]
    [InlineData("not pptp")]
    [InlineData("another message first")]
    [InlineData("lying length")]
    public void Anything_but_an_SCCRQ_is_closed_without_a_reply(string input)
    {
        var bytes = input switch
        {
            "not pptp" => "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(),
            "another message first" => PptpControlCodec.Encode(new EchoRequest { Identifier = 1 }),
            _ => [0xff, 0xff, 0x00, 0x01, 0x1a, 0x2b, 0x3c, 0x4d, 0x00, 0x01],
        };
        var refusal = new PptpStartRefusal(StartControlResult.GeneralError, PptpErrorCode.NoResource, Identity);
        var reply = new byte[PptpStartRefusal.ReplyLength];

        Assert.Equal(PptpRefusalStep.Close, refusal.OnBytesReceived(bytes, reply, out var length));
        Assert.Equal(0, length);
    }

    [Fact]
    public void A_successful_refusal_is_a_programming_error()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new PptpStartRefusal(StartControlResult.Successful, PptpErrorCode.None, Identity));
}
