using Firmware.Protocol.Pptp;
using Firmware.Protocol.Tests.Pptp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Traces;

/// <summary>
/// Android's built-in PPTP client (mtpd, Android up to 11) as captures of it show: a plain SCCRQ and OCRQ, any
/// result code it does not know as an error but 0 read as success, and no Stop-Control-Connection-Request or
/// Call-Clear-Request on disconnect: it closes the TCP connection (issue 15, item 6). Host name, vendor and
/// call ID are stand-ins of the same shape.
/// </summary>
public sealed class AndroidMtpdTraceTests
{
    /// <summary>mtpd's SCCRQ: version 1.0, framing and bearer capabilities 1, no host name or vendor.</summary>
    private static readonly byte[] AndroidStartRequest = TestHex.Parse("""
        009c 0001 1a2b3c4d 0001 0000
        0100 0000 00000001 00000001 0000 0000
        """ + TestHex.Zeros(64) + TestHex.Zeros(64));

    /// <summary>mtpd's OCRQ: a random call ID, 1000 bps to 100 Mbit/s, any bearer and framing, window 64.</summary>
    private static readonly byte[] AndroidOutgoingCallRequest = TestHex.Parse("""
        00a8 0001 1a2b3c4d 0007 0000
        4a3f 0000 000003e8 05f5e100 00000003 00000003 0040 0000 0000 0000
        """ + TestHex.Zeros(64) + TestHex.Zeros(64));

    [Fact]
    public void Tcp_close_without_stop_request_ends_the_connection_and_its_call_cleanly()
    {
        var time = new FakeTimeProvider();
        var host = new RecordingHost();
        var server = new PptpControlConnection(PptpControlRole.Server,
            new PptpControlOptions { HostName = "server", RandomFill = SeededRandom.Create(16) }, host, time);
        host.Connection = server;
        server.Start();

        server.OnBytesReceived(AndroidStartRequest);
        // Result Code at offset 14 of the SCCRP and 16 of the OCRP: success is 1, never the 0 mtpd would also take as success.
        Assert.Equal(0x01, host.Outbound.Last()[14]);
        server.OnBytesReceived(AndroidOutgoingCallRequest);
        Assert.Equal(0x01, host.Outbound.Last()[16]);
        var call = Assert.Single(server.Calls);
        Assert.Equal(0x4a3f, call.PeerCallId);
        var sentBeforeClose = host.Outbound.Count;

        // The user taps "disconnect": mtpd closes the socket, nothing else.
        server.OnTransportClosed();

        Assert.Equal(PptpControlState.Closed, server.State);
        Assert.Equal(PptpTeardownReason.TransportClosed, server.TeardownReason);
        Assert.Equal(PptpTeardownReason.TransportClosed, host.ClosedReason);
        Assert.Equal(PptpCallClearReason.ControlConnectionClosed, call.ClearReason);
        Assert.Equal([call], host.Cleared);
        Assert.Empty(server.Calls);
        Assert.DoesNotContain("close-transport", host.Events); // already closed: nothing to close twice

        // No timer is left to fire into the dead connection (echo, call or stop timers), and late bytes are ignored.
        time.Advance(TimeSpan.FromHours(1));
        server.OnBytesReceived(AndroidOutgoingCallRequest);
        server.OnTransportClosed();
        Assert.Equal(sentBeforeClose, host.Outbound.Count);
        Assert.Single(host.Events, e => e.StartsWith("closed:", StringComparison.Ordinal));
    }
}
