using Firmware.Protocol.Gre;
using Firmware.Protocol.Tests.Gre;
using Firmware.Protocol.Tests.Pptp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Traces;

/// <summary>
/// The Linux kernel's PPTP data path (pptp.ko, used by pppd's pptp.so plugin and accel-ppp) as its GRE shows
/// in captures: sequence numbers start at 1, not 0, and acknowledgments only ever ride on data packets; it
/// sends no ack-only packets (issue 15, item 6). The window options are the gateway's own
/// (TunnelSessionOptions.GreWindow: the send window is not enforced).
/// </summary>
public sealed class LinuxKernelPptpTraceTests
{
    private const ushort OurCallId = 0x0011;
    private static readonly GreWindowOptions GatewayWindow = new() { EnforceSendWindow = false };

    private readonly FakeTimeProvider _time = new();
    private readonly WindowHost _host = new();
    private int _nextBufferId;

    /// <summary>
    /// A GRE packet as pptp.ko writes it: flags 0x3001 (K, S, version 1), or 0x3081 with A when it has an
    /// acknowledgment due; protocol 0x880b; payload length; our call ID; sequence; acknowledgment. The 4-byte
    /// payload stands in for the PPP frame (the test host reads it as a tag).
    /// </summary>
    private static byte[] KernelPacket(uint sequence, uint? ack, uint tag) => TestHex.Parse(ack is { } a
        ? $"3081 880b 0004 {OurCallId:x4} {sequence:x8} {a:x8} {tag:x8}"
        : $"3001 880b 0004 {OurCallId:x4} {sequence:x8} {tag:x8}");

    private GreReceiveStatus Receive(GreWindow<TestBuffer> window, byte[] datagram)
    {
        Assert.True(GreCodec.TryDecode(datagram, out var packet, out _));
        return window.OnPacket(packet, new TestBuffer(_nextBufferId++, datagram));
    }

    private static GrePacket Send(GreWindow<TestBuffer> window)
    {
        var buffer = new byte[16 + 4];
        Assert.Equal(GreSendStatus.Ready, window.TryPrepareSend(buffer, 16, 4, out var offset, out var length));
        Assert.True(GreCodec.TryDecode(buffer.AsSpan(offset, length), out var packet, out _));
        return packet;
    }

    [Fact]
    public void First_sequence_number_1_is_delivered_at_once_and_nothing_is_counted_lost()
    {
        using var window = new GreWindow<TestBuffer>(_host, peerCallId: 0x0022, GatewayWindow, _time);

        Assert.Equal(GreReceiveStatus.Delivered, Receive(window, KernelPacket(1, null, 1)));
        Assert.Equal(GreReceiveStatus.Delivered, Receive(window, KernelPacket(2, null, 2)));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal([1u, 2u], _host.DeliveredTags);
        Assert.Equal(0, window.Counters.Lost);
        Assert.Equal(0, window.BufferedCount);
        // Our acknowledgment names 2, the kernel's last, not a number below its first.
        var ack = Assert.Single(_host.AckOnly);
        Assert.True(GreCodec.TryDecode(ack, out var ackPacket, out _));
        Assert.Equal(2u, ackPacket.AcknowledgmentNumber);
    }

    [Fact]
    public void A_peer_that_never_sends_ack_only_does_not_stall_our_sending()
    {
        using var window = new GreWindow<TestBuffer>(_host, peerCallId: 0x0022, GatewayWindow, _time);
        Receive(window, KernelPacket(1, null, 1));

        // A download towards the kernel peer: far more than its 64-packet window, and it stays silent because
        // it has nothing to send, so no acknowledgment comes at all.
        for (var i = 0; i < 1000; i++)
        {
            Send(window);
        }
        Assert.Equal(1000u, window.InFlight);
        Assert.Equal(0, window.Counters.WindowFull);

        // Its next data packet acknowledges everything at once.
        Assert.Equal(GreReceiveStatus.Delivered, Receive(window, KernelPacket(2, 999, 2)));
        Assert.Equal(0u, window.InFlight);
        Assert.Equal(0, window.Counters.StaleAck);
    }
}
