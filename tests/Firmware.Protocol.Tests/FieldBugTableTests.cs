using System.Buffers.Binary;
using System.Net;
using System.Text;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Gre;
using Firmware.Protocol.Mppe;
using Firmware.Protocol.Ppp;
using Firmware.Protocol.Ppp.Ipcp;
using Firmware.Protocol.Ppp.Lcp;
using Firmware.Protocol.Pptp;
using Firmware.Protocol.Tests.Auth;
using Firmware.Protocol.Tests.Gre;
using Firmware.Protocol.Tests.Ppp;
using Firmware.Protocol.Tests.Pptp;
using Microsoft.Extensions.Time.Testing;
using PppLink = Firmware.Protocol.Tests.Ppp.BackToBack;
using PptpPair = Firmware.Protocol.Tests.Pptp.BackToBack;

namespace Firmware.Protocol.Tests;

/// <summary>
/// The bad-input table from the field (issue 12, item 9): one test per bug class our peers (pptpd, pppd,
/// Linux, FreeBSD) shipped, each feeding that input shape to our code through its public entry points and
/// asserting the one safe outcome: dropped and counted, a specific answer, or a clean teardown with a
/// reason; and, where the link survives, that good input still works afterwards.
/// </summary>
public sealed class FieldBugTableTests
{
    // ---- PPTP control connection ---------------------------------------------------------------------

    private static (PptpControlConnection Server, RecordingHost Host) IdleServer()
    {
        var host = new RecordingHost();
        var server = new PptpControlConnection(PptpControlRole.Server,
            new PptpControlOptions { HostName = "server", RandomFill = SeededRandom.Create(2) }, host, new FakeTimeProvider());
        host.Connection = server;
        server.Start();
        return (server, host);
    }

    /// <summary>A control message header with the given Length field and type, zero-padded to <paramref name="bytes"/>.</summary>
    private static byte[] ControlHeader(int lengthField, PptpControlMessageType type, int bytes)
    {
        var message = new byte[bytes];
        BinaryPrimitives.WriteUInt16BigEndian(message, (ushort)lengthField);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), PptpControlCodec.ControlMessage);
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), PptpControlCodec.MagicCookie);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(8), (ushort)type);
        return message;
    }

    private static byte[] GoodStartRequest() => PptpControlCodec.Encode(new StartControlConnectionRequest
    {
        HostName = "client",
        VendorString = "field-table",
    });

    private static void Feed(PptpControlConnection connection, byte[] bytes, bool oneByteAtATime)
    {
        if (!oneByteAtATime)
        {
            connection.OnBytesReceived(bytes);
            return;
        }

        foreach (var b in bytes)
        {
            connection.OnBytesReceived([b]);
        }
    }

    /// <summary>
    /// CVE-2003-0213 (PoPToP: a Length below the header made the size left to read negative, a heap
    /// overflow) and FreeBSD D57383 (a Length not checked against the fixed header). Shape: a
    /// control message whose Length field is 0, 1, 8 or 11, i.e. below the 12-byte fixed header, with a
    /// full-size SCCRQ's worth of bytes behind it. Outcome: the stream cannot be resynchronised, so the
    /// connection closes with FramingError at that message: nothing is answered, decoded or skipped over.
    /// </summary>
    [Theory]
    [InlineData(0, false)]
    [InlineData(0, true)]
    [InlineData(1, false)]
    [InlineData(8, false)]
    [InlineData(8, true)]
    [InlineData(11, false)]
    [InlineData(11, true)]
    public void Pptp_length_below_the_fixed_header_closes_with_a_framing_error_CVE_2003_0213(int lengthField, bool oneByteAtATime)
    {
        var (server, host) = IdleServer();
        var bytes = ControlHeader(lengthField, PptpControlMessageType.StartControlConnectionRequest,
            PptpControlCodec.FixedLength(PptpControlMessageType.StartControlConnectionRequest));

        Feed(server, [.. bytes, .. GoodStartRequest()], oneByteAtATime);

        Assert.Equal(PptpControlState.Closed, server.State);
        Assert.Equal(PptpTeardownReason.FramingError, server.TeardownReason);
        Assert.Equal(PptpTeardownReason.FramingError, host.ClosedReason);
        Assert.True(host.TransportClosed);
        Assert.Empty(host.Sent);
        Assert.Equal(0, server.Counters.Received);
        Assert.Equal(0, server.Counters[PptpControlDropReason.Malformed]);
    }

    /// <summary>
    /// Same class, per message (CVE-2003-0213, FreeBSD D57383): a well-framed message of every control type
    /// 1..15 whose Length is the bare 12-byte header or one octet short of that type's fixed size, so a
    /// decoder that trusted the type would read its fields past the message. Outcome: each is dropped and
    /// counted as Malformed, the stream stays in sync (the framing held), and the SCCRQ behind them
    /// establishes the connection.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Pptp_length_below_a_message_types_fixed_size_is_dropped_and_the_stream_stays_in_sync(bool oneByteAtATime)
    {
        var (server, host) = IdleServer();
        var stream = new List<byte>();
        var shortMessages = 0;
        for (var type = (PptpControlMessageType)1; type <= (PptpControlMessageType)15; type++)
        {
            var fixedLength = PptpControlCodec.FixedLength(type);
            Assert.True(fixedLength > PptpControlCodec.HeaderLength);
            foreach (var length in new[] { PptpControlCodec.HeaderLength, fixedLength - 1 })
            {
                stream.AddRange(ControlHeader(length, type, length));
                shortMessages++;
            }
        }

        stream.AddRange(GoodStartRequest());
        Feed(server, [.. stream], oneByteAtATime);

        Assert.Equal(30, shortMessages);
        Assert.Equal(shortMessages, server.Counters[PptpControlDropReason.Malformed]);
        Assert.Equal(1, server.Counters.Received);
        Assert.Equal(PptpControlState.Established, server.State);
        Assert.Equal(StartControlResult.Successful, host.LastSent<StartControlConnectionReply>().ResultCode);
        Assert.False(host.TransportClosed);
    }

    /// <summary>
    /// Peer call ID 0: RFC 2637 gives Call ID 0 no special meaning and real pptpd peers use it; a gateway
    /// that treats 0 as "no call" refuses them. Shape: an Outgoing-Call-Request with Call ID 0 and an
    /// Outgoing-Call-Reply with Call ID 0 (both ends' random sources return zeros). Outcome: the call is
    /// placed and connected on both sides, Set-Link-Info and the clear exchange find it, nothing is refused.
    /// </summary>
    [Fact]
    public void Peer_call_id_0_in_Outgoing_Call_Request_and_Reply_works()
    {
        var pair = new PptpPair(
            new PptpControlOptions { HostName = "client", RandomFill = span => span.Clear() },
            new PptpControlOptions { HostName = "server", MaximumChannels = 0, RandomFill = span => span.Clear() });
        pair.Establish();

        var call = pair.PlaceCall();
        var serverCall = Assert.Single(pair.Server.Calls);
        Assert.Equal(0, pair.ClientHost.LastSent<OutgoingCallRequest>().CallId);
        var reply = pair.ServerHost.LastSent<OutgoingCallReply>();
        Assert.Equal(OutgoingCallResult.Connected, reply.ResultCode);
        Assert.Equal(0, reply.CallId);
        Assert.Equal(0, reply.PeerCallId);
        Assert.Equal(0, call.PeerCallId);
        Assert.Equal(0, serverCall.PeerCallId);
        Assert.Equal(PptpCallState.Established, serverCall.State);
        Assert.Same(serverCall, Assert.Single(pair.ServerHost.Connected));

        pair.Client.SendSetLinkInfo(call, 0xFFFFFFFF, 0);
        pair.Pump();
        Assert.True(serverCall.LinkInfoReceived);

        pair.Client.ClearCall(call);
        pair.Pump();
        Assert.Equal(PptpCallClearReason.ClearedLocally, call.ClearReason);
        Assert.Equal(PptpCallClearReason.ClearRequestedByPeer, serverCall.ClearReason);
        Assert.Equal(0, pair.Server.Counters[PptpControlDropReason.UnknownCallId]);
        Assert.Equal(0, pair.Client.Counters[PptpControlDropReason.UnknownCallId]);
        Assert.Equal(PptpControlState.Established, pair.Server.State);
    }

    // ---- PPP: LCP ------------------------------------------------------------------------------------

    private static readonly byte[] LcpHeader = [0xFF, 0x03, 0xC0, 0x21];

    /// <summary>An LCP frame with full header: code, identifier, a correct Length, data.</summary>
    private static byte[] LcpFrame(PppCode code, byte identifier, params byte[] data)
    {
        var length = PppControlPacket.HeaderLength + data.Length;
        return [.. LcpHeader, (byte)code, identifier, (byte)(length >> 8), (byte)length, .. data];
    }

    /// <summary>The LCP packets a session sent, from index <paramref name="from"/> on (header stripped).</summary>
    private static List<byte[]> LcpSent(RecordingOutput output, int from = 0) =>
        output.AllSent.Skip(from).Where(f => f.AsSpan().StartsWith(LcpHeader)).Select(f => f[LcpHeader.Length..]).ToList();

    private static byte[] Magic(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>
    /// Linux CVE-2024-41044 (ppp: LCP frames without a body beyond the protocol field were trusted). Shape:
    /// LCP frames with 0, 1 and 3 bytes after the protocol field, a Length field of 0 and of 3, a Length
    /// larger than the frame, and a compressed-header LCP frame with one byte. Outcome on an open link: every
    /// one is dropped and counted by LCP, nothing is sent, the link stays open, and an Echo-Request right
    /// after is answered.
    /// </summary>
    [Fact]
    public void Lcp_frames_shorter_than_the_header_or_with_a_bad_Length_are_dropped_CVE_2024_41044()
    {
        using var link = new PppLink(PppSettings.Server(), PppSettings.Client());
        link.StartBoth();
        Assert.Equal(PppPhase.Network, link.A.Phase);
        var peerMagic = Magic(link.B.Lcp.LocalMagic);
        byte[][] bad =
        [
            [.. LcpHeader],
            [.. LcpHeader, 0x09],
            [.. LcpHeader, 0x09, 0x01, 0x00],
            [.. LcpHeader, 0x09, 0x01, 0x00, 0x00, .. peerMagic],
            [.. LcpHeader, 0x09, 0x01, 0x00, 0x03, .. peerMagic],
            [.. LcpHeader, 0x09, 0x01, 0x01, 0x00, .. peerMagic],
            [0xC0, 0x21, 0x09],
        ];
        var dropped = link.A.Lcp.Automaton.DroppedPackets;
        var sent = link.AOut.AllSent.Count;

        foreach (var frame in bad)
        {
            link.A.ReceiveFrame(frame);
        }

        Assert.Equal(dropped + bad.Length, link.A.Lcp.Automaton.DroppedPackets);
        Assert.Equal(sent, link.AOut.AllSent.Count);
        Assert.Equal(PppState.Opened, link.A.Lcp.State);
        Assert.Equal(PppPhase.Network, link.A.Phase);

        link.A.ReceiveFrame(LcpFrame(PppCode.EchoRequest, 0x42, peerMagic));
        var echoReply = Assert.Single(LcpSent(link.AOut, sent));
        Assert.Equal((byte[])[(byte)PppCode.EchoReply, 0x42, 0, 8, .. Magic(link.A.Lcp.LocalMagic)], echoReply);
    }

    /// <summary>
    /// CVE-2025-38574 (Linux pptp_xmit read the protocol field and LCP code of a frame shorter than 3 bytes;
    /// the fix drops such frames, i.e. a 2-byte protocol with no information; ppp_sync_txmunge had the
    /// same bug). Shape: on a link with both header compressions on, an IP packet of 0 bytes (it would go
    /// out as a 1-byte frame: the compressed protocol alone), of 1 byte (a 2-byte frame), one with no header
    /// room before it, and one whose length runs past the buffer. Outcome: the empty and the impossible ones
    /// are refused and counted with nothing sent; the 1-byte one goes out as exactly protocol + byte,
    /// written in front of the payload without reading or touching anything else in the buffer.
    /// </summary>
    [Fact]
    public void Transmit_of_a_frame_shorter_than_3_bytes_is_refused_or_framed_exactly_CVE_2025_38574()
    {
        using var link = new PppLink(PppSettings.Server(), PppSettings.Client());
        link.StartBoth();
        Assert.True(link.A.Negotiated.Ipv4Up);
        Assert.Equal(new PppFraming(true, true), link.A.Negotiated.TransmitFraming);
        var sent = link.AOut.AllSent.Count;
        var room = link.A.RequiredHeaderRoom;

        var buffer = Enumerable.Repeat((byte)0xEE, room + 8).ToArray();
        Assert.False(link.A.TrySendPacket(PppProtocol.Ipv4, buffer, room, 0));
        Assert.False(link.A.TrySendPacket(PppProtocol.Ipv6, buffer, room, 0));
        Assert.False(link.A.TrySendPacket(PppProtocol.Ipv4, buffer, 0, 1));
        Assert.False(link.A.TrySendPacket(PppProtocol.Ipv4, buffer, room, 9));
        Assert.False(link.A.TrySendPacket(PppProtocol.Ipv4, buffer, room, -1));
        Assert.Equal(5, link.A.DroppedOutboundPackets);
        Assert.Equal(sent, link.AOut.AllSent.Count);
        Assert.All(buffer, b => Assert.Equal(0xEE, b));

        buffer[room] = 0x45;
        Assert.True(link.A.TrySendPacket(PppProtocol.Ipv4, buffer, room, 1));
        Assert.Equal(new byte[] { 0x21, 0x45 }, link.AOut.AllSent[^1]);
        Assert.All(buffer.AsSpan(0, room - 1).ToArray(), b => Assert.Equal(0xEE, b));
        Assert.All(buffer.AsSpan(room + 1).ToArray(), b => Assert.Equal(0xEE, b));
        Assert.Equal(5, link.A.DroppedOutboundPackets);
    }

    /// <summary>
    /// FreeBSD CVE-2026-58095/58096 (an Endpoint Discriminator option, LCP type 19, shorter than its
    /// minimum was read as if it held its class and address). Shape: a
    /// Configure-Request with type 19 of Length 2 (no class) and Length 3 with class 1 (no address), then
    /// type 19 with Length 0, 1, and one running past the packet. Outcome: the first two are answered with a
    /// Configure-Reject listing exactly that option (we do not negotiate it); the malformed ones drop the
    /// packet, counted, with no answer; a good request afterwards is acknowledged.
    /// </summary>
    [Fact]
    public void Endpoint_Discriminator_shorter_than_its_minimum_is_rejected_and_malformed_options_drop_the_packet_CVE_2026_58095()
    {
        using var link = new PppLink(PppSettings.Server(), PppSettings.Client());
        link.A.Start();
        var sent = link.AOut.AllSent.Count;
        byte[] mru = [1, 4, 0x05, 0xDC];
        byte[] magic = [5, 6, 0x11, 0x22, 0x33, 0x44];

        link.A.ReceiveFrame(LcpFrame(PppCode.ConfigureRequest, 1, [.. mru, 19, 2, .. magic]));
        link.A.ReceiveFrame(LcpFrame(PppCode.ConfigureRequest, 2, [.. mru, 19, 3, 1, .. magic]));
        var answers = LcpSent(link.AOut, sent);
        Assert.Equal(2, answers.Count);
        Assert.Equal(new byte[] { (byte)PppCode.ConfigureReject, 1, 0, 6, 19, 2 }, answers[0]);
        Assert.Equal(new byte[] { (byte)PppCode.ConfigureReject, 2, 0, 7, 19, 3, 1 }, answers[1]);

        sent = link.AOut.AllSent.Count;
        var dropped = link.A.Lcp.Automaton.DroppedPackets;
        link.A.ReceiveFrame(LcpFrame(PppCode.ConfigureRequest, 3, [.. mru, 19, 0, .. magic]));
        link.A.ReceiveFrame(LcpFrame(PppCode.ConfigureRequest, 4, [.. mru, 19, 1, .. magic]));
        link.A.ReceiveFrame(LcpFrame(PppCode.ConfigureRequest, 5, [.. mru, .. magic, 19, 9, 1, 2, 3]));
        Assert.Equal(dropped + 3, link.A.Lcp.Automaton.DroppedPackets);
        Assert.Equal(sent, link.AOut.AllSent.Count);
        Assert.Equal(PppState.RequestSent, link.A.Lcp.State);

        link.A.ReceiveFrame(LcpFrame(PppCode.ConfigureRequest, 6, [.. mru, .. magic]));
        Assert.Equal((byte[])[(byte)PppCode.ConfigureAck, 6, 0, 14, .. mru, .. magic], Assert.Single(LcpSent(link.AOut, sent)));
        Assert.Equal(PppState.AckSent, link.A.Lcp.State);
    }

    /// <summary>
    /// pppd 2.5.3's outpacket overrun (a negotiated peer MRU above the output buffer let pppd build a
    /// packet past it). Shape: the
    /// peer asks for MRU 65535 (and, in its own packets, MRU 1,000,000 as a 4-byte value, and MRU 0), then on
    /// the open link sends an Echo-Request with 4000 bytes of data and a 5000-byte frame of an unknown
    /// protocol. Outcome: 65535 is acknowledged (it only bounds what we send), the 4-byte MRU is rejected,
    /// MRU 0 is Nak'd with our minimum; and the Echo-Reply and the Protocol-Reject we build are cut to our
    /// 1500-byte packet buffer: no frame we send is larger than it.
    /// </summary>
    [Fact]
    public void Peer_MRU_above_our_buffer_never_makes_us_build_a_packet_beyond_it_pppd_outpacket_overrun()
    {
        using (var alone = new PppLink(PppSettings.Server(), PppSettings.Client()))
        {
            alone.A.Start();
            var sent = alone.AOut.AllSent.Count;
            alone.A.ReceiveFrame(LcpFrame(PppCode.ConfigureRequest, 1, 1, 4, 0xFF, 0xFF));
            alone.A.ReceiveFrame(LcpFrame(PppCode.ConfigureRequest, 2, 1, 6, 0x00, 0x0F, 0x42, 0x40));
            alone.A.ReceiveFrame(LcpFrame(PppCode.ConfigureRequest, 3, 1, 4, 0x00, 0x00));
            var answers = LcpSent(alone.AOut, sent);
            Assert.Equal(3, answers.Count);
            Assert.Equal(new byte[] { (byte)PppCode.ConfigureAck, 1, 0, 8, 1, 4, 0xFF, 0xFF }, answers[0]);
            Assert.Equal(new byte[] { (byte)PppCode.ConfigureReject, 2, 0, 10, 1, 6, 0x00, 0x0F, 0x42, 0x40 }, answers[1]);
            Assert.Equal(new byte[] { (byte)PppCode.ConfigureNak, 3, 0, 8, 1, 4, 0, 128 }, answers[2]);
        }

        using var link = new PppLink(PppSettings.Server(), PppSettings.Client(o => o with { Lcp = new LcpSettings { Mru = ushort.MaxValue } }));
        link.StartBoth();
        Assert.Equal(PppPhase.Network, link.A.Phase);
        Assert.Equal(ushort.MaxValue, link.A.Negotiated.PeerMru);
        var before = link.AOut.AllSent.Count;

        var echoData = new byte[4000];
        Magic(link.B.Lcp.LocalMagic).CopyTo(echoData, 0);
        link.A.ReceiveFrame(LcpFrame(PppCode.EchoRequest, 7, echoData));
        var unknown = new byte[5000];
        unknown[0] = 0x12;
        unknown[1] = 0x35;
        link.A.ReceiveFrame(unknown);

        var answersOnLink = LcpSent(link.AOut, before);
        Assert.Equal(2, answersOnLink.Count);
        Assert.Equal((byte)PppCode.EchoReply, answersOnLink[0][0]);
        Assert.Equal(PppAutomaton.MaxPacketLength, answersOnLink[0].Length);
        Assert.Equal(PppAutomaton.MaxPacketLength, BinaryPrimitives.ReadUInt16BigEndian(answersOnLink[0].AsSpan(2)));
        Assert.Equal((byte)PppCode.ProtocolReject, answersOnLink[1][0]);
        Assert.Equal(PppAutomaton.MaxPacketLength, answersOnLink[1].Length);
        Assert.Equal(0x1235, BinaryPrimitives.ReadUInt16BigEndian(answersOnLink[1].AsSpan(4)));
        Assert.All(link.AOut.AllSent, f => Assert.InRange(f.Length, 1, PppAutomaton.MaxPacketLength + PppFrame.MaxHeaderLength));
        Assert.Equal(PppState.Opened, link.A.Lcp.State);
    }

    // ---- PPP: IPCP -----------------------------------------------------------------------------------

    /// <summary>
    /// IPCP Nak appending addresses past the packet (a Nak's address options read without checking that
    /// they fit, or unrequested ones appended to the next request). Shape: to a client asking
    /// for an address and DNS, a Nak whose DNS option runs past its Length, a Nak whose Length exceeds the
    /// datagram, then a Nak that suggests our options plus 200 NBNS and unknown address options filling the
    /// packet. Outcome: the first two are dropped and counted with nothing sent; after the third, the next
    /// Configure-Request holds exactly our three options with the suggested values, and its Ack opens IPCP
    /// with those addresses.
    /// </summary>
    [Fact]
    public void Ipcp_Nak_with_addresses_past_the_packet_is_dropped_and_extra_options_are_not_appended()
    {
        var sent = new List<byte[]>();
        using var ipcp = new IpcpProtocol(new IpcpSettings { RequestDns = true }, new PppAutomatonSettings(), new FakeTimeProvider(), new ListOutput(sent));
        ipcp.Automaton.Open();
        ipcp.Automaton.Up();
        var request = Assert.Single(sent);
        var id = request[1];
        Assert.Equal(new byte[] { 1, id, 0, 22, 3, 6, 0, 0, 0, 0, 129, 6, 0, 0, 0, 0, 131, 6, 0, 0, 0, 0 }, request);

        byte[] address = [3, 6, 10, 0, 0, 2];
        ipcp.Receive([3, id, 0, 14, .. address, 129, 6, 192, 0]);
        ipcp.Receive([3, id, 0, 40, .. address, 129, 6, 192, 0, 2, 53]);
        Assert.Equal(2, ipcp.Automaton.DroppedPackets);
        Assert.Single(sent);
        Assert.Equal(PppState.RequestSent, ipcp.State);

        var nak = new List<byte> { 3, id, 0, 0 };
        nak.AddRange([.. address, 129, 6, 192, 0, 2, 53, 131, 6, 192, 0, 2, 54]);
        for (var i = 0; i < 200; i++)
        {
            nak.AddRange([(byte)(i % 3 == 0 ? 130 : i % 3 == 1 ? 132 : 200), 6, 198, 51, 100, (byte)i]);
        }

        var nakPacket = nak.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(nakPacket.AsSpan(2), (ushort)nakPacket.Length);
        Assert.InRange(nakPacket.Length, 1200, PppAutomaton.MaxPacketLength);
        ipcp.Receive(nakPacket);

        Assert.Equal(2, sent.Count);
        var next = sent[1];
        Assert.Equal((byte[])[1, next[1], 0, 22, .. address, 129, 6, 192, 0, 2, 53, 131, 6, 192, 0, 2, 54], next);

        ipcp.Receive([2, next[1], .. next[2..]]);
        Assert.Equal(PppState.AckReceived, ipcp.State);
        ipcp.Receive([1, 9, 0, 10, 3, 6, 10, 0, 0, 1]);
        Assert.Equal(PppState.Opened, ipcp.State);
        Assert.Equal(IPAddress.Parse("10.0.0.2"), ipcp.LocalAddress);
        Assert.Equal(IPAddress.Parse("192.0.2.53"), ipcp.PrimaryDns);
        Assert.Equal(IPAddress.Parse("192.0.2.54"), ipcp.SecondaryDns);
        Assert.Null(ipcp.PrimaryNbns);
        Assert.Null(ipcp.SecondaryNbns);
        Assert.Equal(2, ipcp.Automaton.DroppedPackets);
    }

    // ---- EAP -----------------------------------------------------------------------------------------

    /// <summary>
    /// CVE-2020-8597 (pppd eap.c: the EAP name/response copied into a fixed buffer without a length check).
    /// We implement no EAP, so the input shapes are: an LCP Authentication-Protocol option demanding EAP
    /// (0xC227) to a client and to a server, a Nak suggesting EAP to our server's MS-CHAPv2 demand, and EAP
    /// Response/Identity packets with a 3000-byte name (one with a Length that lies) before and after LCP
    /// is open. Outcome: the client Naks with MS-CHAPv2, the server Rejects the option, the server closes
    /// LCP with a reason naming 0xc227, EAP before LCP is open is dropped and counted, and on the open link
    /// each EAP packet is Protocol-Rejected, counted, cut to our packet buffer, and the link stays up.
    /// </summary>
    [Fact]
    public void Eap_is_refused_in_LCP_and_EAP_packets_are_Protocol_Rejected_CVE_2020_8597()
    {
        byte[] demandEap = [3, 4, 0xC2, 0x27];
        var longName = Enumerable.Repeat((byte)'a', 3000).ToArray();
        var eapLength = 5 + longName.Length;
        byte[] eapIdentity = [0xFF, 0x03, 0xC2, 0x27, 2, 1, (byte)(eapLength >> 8), (byte)eapLength, 1, .. longName];
        byte[] eapLying = [0xFF, 0x03, 0xC2, 0x27, 2, 2, 0xFF, 0xFF, 1, .. longName];

        using (var alone = new PppLink(PppSettings.Server(), PppSettings.Client()))
        {
            alone.B.Start();
            var sent = alone.BOut.AllSent.Count;
            alone.B.ReceiveFrame(LcpFrame(PppCode.ConfigureRequest, 1, demandEap));
            Assert.Equal(new byte[] { (byte)PppCode.ConfigureNak, 1, 0, 9, 3, 5, 0xC2, 0x23, 0x81 }, Assert.Single(LcpSent(alone.BOut, sent)));

            alone.A.Start();
            var serverRequest = Assert.Single(LcpSent(alone.AOut));
            sent = alone.AOut.AllSent.Count;
            alone.A.ReceiveFrame(LcpFrame(PppCode.ConfigureRequest, 1, demandEap));
            Assert.Equal((byte[])[(byte)PppCode.ConfigureReject, 1, 0, 8, .. demandEap], Assert.Single(LcpSent(alone.AOut, sent)));

            var dropped = alone.A.DroppedFrames;
            alone.A.ReceiveFrame(eapIdentity);
            Assert.Equal(dropped + 1, alone.A.DroppedFrames);
            Assert.Equal(0, alone.A.ProtocolRejectsSent);

            alone.A.ReceiveFrame(LcpFrame(PppCode.ConfigureNak, serverRequest[1], demandEap));
            Assert.Equal(PppState.Closing, alone.A.Lcp.State);
            Assert.Contains("0xc227", alone.A.Lcp.Automaton.LastReason, StringComparison.Ordinal);
            Assert.Equal((byte)PppCode.TerminateRequest, LcpSent(alone.AOut, sent)[^1][0]);
        }

        using var link = new PppLink(PppSettings.Server(), PppSettings.Client());
        link.StartBoth();
        Assert.Equal(PppPhase.Network, link.A.Phase);
        var before = link.AOut.AllSent.Count;

        link.A.ReceiveFrame(eapIdentity);
        link.A.ReceiveFrame(eapLying);

        Assert.Equal(2, link.A.ProtocolRejectsSent);
        var rejects = LcpSent(link.AOut, before);
        Assert.Equal(2, rejects.Count);
        Assert.All(rejects, r =>
        {
            Assert.Equal((byte)PppCode.ProtocolReject, r[0]);
            Assert.Equal(0xC227, BinaryPrimitives.ReadUInt16BigEndian(r.AsSpan(4)));
            Assert.Equal(PppAutomaton.MaxPacketLength, r.Length);
        });
        Assert.Equal(PppPhase.Network, link.A.Phase);
        Assert.Equal(AuthMethod.MsChapV2, link.A.Negotiated.AuthenticatorMethod);
    }

    // ---- MS-CHAP -------------------------------------------------------------------------------------

    private sealed class AuthCapture : IAuthOutput
    {
        public List<byte[]> Packets { get; } = [];

        public void Send(PppProtocol protocol, ReadOnlySpan<byte> packet) => Packets.Add(packet.ToArray());
    }

    private static (IAuthProtocol Authenticator, AuthCapture Output) StartedMsChap(AuthMethod method, int retries)
    {
        var environment = new AuthEnvironment
        {
            Time = new FakeTimeProvider(),
            Random = new Random(17).NextBytes,
            Options = new AuthOptions { MsChapAuthenticatorRetries = retries },
        };
        var authenticator = AuthProtocolFactory.CreateAuthenticator(method, AuthParserTests.Users(), environment);
        var output = new AuthCapture();
        authenticator.Start(output);
        return (authenticator, output);
    }

    private static string MessageOf(byte[] packet) => Encoding.ASCII.GetString(packet, 4, packet.Length - 4);

    /// <summary>The Response value a real peer sends for "alice" / "s3cret!" to <paramref name="challenge"/>.</summary>
    private static byte[] CorrectResponse(AuthMethod method, byte[] challenge)
    {
        var hash = MsChapCrypto.NtPasswordHash("s3cret!");
        var value = new byte[49];
        if (method == AuthMethod.MsChapV1)
        {
            MsChapCrypto.ChallengeResponse(challenge, hash, value.AsSpan(24, 24));
            value[48] = 1;
        }
        else
        {
            new Random(3).NextBytes(value.AsSpan(0, 16));
            MsChapCrypto.GenerateNtResponse(challenge, value.AsSpan(0, 16), "alice"u8, hash, value.AsSpan(24, 24));
        }

        return value;
    }

    private static byte[] Response(byte identifier, int valueSize, byte[] value) =>
        AuthParserTests.Packet(2, identifier, 4 + 1 + value.Length + 5, [(byte)valueSize], value, "alice"u8.ToArray());

    private static void AssertSucceedsWith(IAuthProtocol authenticator, AuthCapture output, byte identifier, byte[] challenge, AuthMethod method)
    {
        authenticator.Receive(Response(identifier, 49, CorrectResponse(method, challenge)));
        Assert.Equal(AuthStatus.Succeeded, authenticator.Status);
        Assert.Equal(3, output.Packets[^1][0]);
        Assert.Equal(identifier, output.Packets[^1][1]);
        Assert.NotNull(authenticator.KeyMaterial);
        Assert.Equal("alice", authenticator.UserName);
    }

    /// <summary>
    /// MS-CHAP with a zero-length NT-Response (the class of verifiers that read the 49-byte response
    /// without checking what arrived). Shape, for MS-CHAPv1 and v2: a Response whose Value-Size
    /// claims 49 bytes but whose Length ends after 10, one whose Length stops right after the Value-Size
    /// (no NT-Response at all), and one with Value-Size 0. Outcome: each is dropped and counted, nothing is
    /// answered, the exchange stays in progress; the correct Response after them succeeds.
    /// </summary>
    [Theory]
    [InlineData(AuthMethod.MsChapV1)]
    [InlineData(AuthMethod.MsChapV2)]
    public void MsChap_Response_with_a_zero_length_NT_Response_is_dropped_and_a_correct_one_still_works(AuthMethod method)
    {
        var (authenticator, output) = StartedMsChap(method, retries: 0);
        using (authenticator)
        {
            var challengePacket = output.Packets[0];
            var id = challengePacket[1];
            var challenge = challengePacket.AsSpan(5, challengePacket[4]).ToArray();

            authenticator.Receive(AuthParserTests.Packet(2, id, 4 + 1 + 49 + 5, [49], new byte[10]));
            authenticator.Receive(AuthParserTests.Packet(2, id, 4 + 1, [49]));
            authenticator.Receive(Response(id, 0, []));

            Assert.Equal(3, authenticator.DroppedPackets);
            Assert.Equal(AuthStatus.InProgress, authenticator.Status);
            Assert.Single(output.Packets);
            AssertSucceedsWith(authenticator, output, id, challenge, method);
        }
    }

    /// <summary>
    /// MS-CHAP with a truncated NT-Response (same class). Shape, for v1 and v2: a well-formed Response from
    /// "alice" whose Value is 1, 24 or 48 bytes instead of 49 (the NT-Response cut short or missing its
    /// flags). Outcome: refused at once with a Failure "E=691 R=0", the exchange fails with a reason naming
    /// the length, and no keys are derived.
    /// </summary>
    [Theory]
    [InlineData(AuthMethod.MsChapV1, 1)]
    [InlineData(AuthMethod.MsChapV1, 24)]
    [InlineData(AuthMethod.MsChapV1, 48)]
    [InlineData(AuthMethod.MsChapV2, 1)]
    [InlineData(AuthMethod.MsChapV2, 24)]
    [InlineData(AuthMethod.MsChapV2, 48)]
    public void MsChap_Response_with_a_truncated_NT_Response_is_refused_with_E691(AuthMethod method, int valueLength)
    {
        var (authenticator, output) = StartedMsChap(method, retries: 1);
        using (authenticator)
        {
            var id = output.Packets[0][1];
            var value = CorrectResponse(method, output.Packets[0].AsSpan(5, output.Packets[0][4]).ToArray())[..valueLength];

            authenticator.Receive(Response(id, valueLength, value));

            Assert.Equal(AuthStatus.Failed, authenticator.Status);
            Assert.Contains($"{valueLength}-byte value", authenticator.FailureReason, StringComparison.Ordinal);
            Assert.Null(authenticator.KeyMaterial);
            var failure = output.Packets[^1];
            Assert.Equal(4, failure[0]);
            Assert.Equal(id, failure[1]);
            Assert.StartsWith("E=691 R=0", MessageOf(failure), StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// MS-CHAP with an all-zero NT-Response (what a peer whose NT hash failed sends; a verifier comparing
    /// against an uninitialised or zeroed expected value accepts it). Shape, for v1 (LM part zero too,
    /// use-NT flag 1) and v2 (peer challenge zero too): a 49-byte Response of zeros for "alice". Outcome: a
    /// Failure "E=691 R=1 C=..." offering a retry, no keys; the retry with the right NT-Response for the new
    /// challenge then succeeds: the bad Response left no state behind.
    /// </summary>
    [Theory]
    [InlineData(AuthMethod.MsChapV1)]
    [InlineData(AuthMethod.MsChapV2)]
    public void MsChap_Response_with_an_all_zero_NT_Response_fails_and_a_correct_retry_succeeds(AuthMethod method)
    {
        var (authenticator, output) = StartedMsChap(method, retries: 1);
        using (authenticator)
        {
            var id = output.Packets[0][1];
            var zeros = new byte[49];
            if (method == AuthMethod.MsChapV1)
            {
                zeros[48] = 1;
            }

            authenticator.Receive(Response(id, 49, zeros));

            Assert.Equal(AuthStatus.InProgress, authenticator.Status);
            Assert.Null(authenticator.KeyMaterial);
            var failure = output.Packets[^1];
            Assert.Equal(4, failure[0]);
            var text = MessageOf(failure);
            Assert.StartsWith("E=691 R=1 C=", text, StringComparison.Ordinal);
            var challenge = Convert.FromHexString(text.Split(' ').Single(f => f.StartsWith("C=", StringComparison.Ordinal))[2..]);
            AssertSucceedsWith(authenticator, output, (byte)(id + 1), challenge, method);
        }
    }

    // ---- MPPE and GRE: far-ahead counts (issue 12 item 4) --------------------------------------------

    private static readonly byte[] MppeStartKey = Convert.FromHexString("8B7CDC149B993A1BA118CB153F56DCCB");

    /// <summary>Encrypts <paramref name="count"/> frames (MPPE header room, protocol 0021, 12 payload bytes); returns cipher and plain.</summary>
    private static (List<byte[]> Cipher, List<byte[]> Plain) MppeFrames(bool stateless, int count)
    {
        var random = new Random(99);
        using var encryptor = new MppeEncryptor(MppeStartKey, MppeKeyStrength.Bits128, stateless);
        var cipher = new List<byte[]>();
        var plain = new List<byte[]>();
        for (var n = 0; n < count; n++)
        {
            var frame = new byte[MppeHeader.Length + 2 + 20];
            frame[3] = 0x21;
            random.NextBytes(frame.AsSpan(4));
            frame[4] = 0x45; // an IPv4 header of total length 20: stateful MPPE checks what it decrypts
            frame[6] = 0;
            frame[7] = 20;
            plain.Add((byte[])frame.Clone());
            Assert.True(encryptor.Encrypt(frame));
            cipher.Add(frame);
        }

        return (cipher, plain);
    }

    private static void AssertDecrypts(MppeDecryptor decryptor, byte[] cipher, byte[] plain)
    {
        var frame = (byte[])cipher.Clone();
        Assert.Equal(MppeDecryptStatus.Ok, decryptor.Decrypt(frame));
        Assert.Equal(plain.AsSpan(2).ToArray(), frame.AsSpan(2).ToArray());
    }

    /// <summary>
    /// Far-ahead stateless MPPE coherency count (the Linux ppp_mppe bound: a count more than half the
    /// 4096-count space ahead is a late packet, never a reason to rekey that far). Shape: after count 0, a
    /// stateless frame with count 2049 and one with 3000 (genuine ciphertext from the same key stream).
    /// Outcome: both are dropped and counted, the decryptor's count stays at 0, and frame 1 still decrypts to
    /// its plaintext.
    /// </summary>
    [Fact]
    public void Mppe_stateless_coherency_count_far_ahead_is_dropped_and_counted()
    {
        var (cipher, plain) = MppeFrames(stateless: true, 3001);
        using var decryptor = new MppeDecryptor(MppeStartKey, MppeKeyStrength.Bits128, stateless: true);
        AssertDecrypts(decryptor, cipher[0], plain[0]);

        Assert.Equal(MppeDecryptStatus.Dropped, decryptor.Decrypt((byte[])cipher[2049].Clone()));
        Assert.Equal(MppeDecryptStatus.Dropped, decryptor.Decrypt((byte[])cipher[3000].Clone()));

        Assert.Equal(2, decryptor.TotalDroppedPackets);
        Assert.NotEqual(MppeDropReason.None, decryptor.LastDropReason);
        Assert.Equal(0, decryptor.CoherencyCount);
        AssertDecrypts(decryptor, cipher[1], plain[1]);
        Assert.Equal(2, decryptor.PacketsDecrypted);
    }

    /// <summary>
    /// Far-ahead stateful MPPE coherency count (Linux ppp_mppe drops a stateful packet whose count is more
    /// than half the count space ahead as late, without losing sync). Shape: after counts 0 and 1, a
    /// stateful frame with count 3000 and a flag frame (count 0xAFF, flushed) from far ahead. Outcome: each is
    /// dropped and counted without asking for a reset or waiting for a flush, and frame 2 still decrypts.
    /// May fail until the lead's MppeDecryptor bound (issue 12 item 4) is merged.
    /// </summary>
    [Fact]
    public void Mppe_stateful_coherency_count_far_ahead_is_dropped_and_counted_without_losing_sync()
    {
        var (cipher, plain) = MppeFrames(stateless: false, 3001);
        using var decryptor = new MppeDecryptor(MppeStartKey, MppeKeyStrength.Bits128, stateless: false);
        AssertDecrypts(decryptor, cipher[0], plain[0]);
        AssertDecrypts(decryptor, cipher[1], plain[1]);
        Assert.NotEqual(0, MppeHeader.Bits(cipher[0xAFF]) & MppeHeader.FlushedBit);

        Assert.Equal(MppeDecryptStatus.Dropped, decryptor.Decrypt((byte[])cipher[3000].Clone()));
        Assert.Equal(MppeDecryptStatus.Dropped, decryptor.Decrypt((byte[])cipher[0xAFF].Clone()));

        Assert.Equal(2, decryptor.TotalDroppedPackets);
        Assert.False(decryptor.AwaitingFlush);
        Assert.Equal(1, decryptor.CoherencyCount);
        AssertDecrypts(decryptor, cipher[2], plain[2]);
        Assert.Equal(3, decryptor.PacketsDecrypted);
    }

    /// <summary>Inbound drops the window counts, whatever the counter is named (Lost is not one: it counts
    /// holes given up on, which is what adopting a far-ahead number does).</summary>
    private static long GreInboundDrops(GreWindowCounters counters)
    {
        string[] notDrops = ["Sent", "WindowFull", "AckOnlySent", "Received", "Delivered", "Reordered", "Lost", "StaleAck", "Recovered"];
        return typeof(GreWindowCounters).GetProperties()
            .Where(p => p.PropertyType == typeof(long) && !notDrops.Contains(p.Name))
            .Sum(p => (long)p.GetValue(counters)!);
    }

    /// <summary>
    /// A GRE sequence number far outside the receive window (the class of receivers, Linux pptp among them,
    /// that adopt any later sequence number, so one spoofed packet makes every genuine one "too old").
    /// Shape: after 0..2 in order, data packets with sequence 3 + 1,000,000 and 3 + 0x7FFF0000. Outcome:
    /// neither is delivered or adopted (expected stays 3, nothing counted lost), each buffer is released
    /// and the drop counted, and packet 3 is then delivered. May fail until the lead's GreWindow bound
    /// (issue 12 item 4) is merged.
    /// </summary>
    [Fact]
    public void Gre_sequence_number_far_outside_the_receive_window_is_dropped_and_counted_not_adopted()
    {
        var host = new WindowHost();
        using var window = new GreWindow<TestBuffer>(host, 0x0033, new GreWindowOptions(), new FakeTimeProvider());
        var nextId = 0;
        GreReceiveStatus Receive(uint sequence)
        {
            var bytes = new byte[GreCodec.MaxHeaderLength + 4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(GreCodec.MaxHeaderLength), sequence);
            var start = GreCodec.WriteHeader(bytes, GreCodec.MaxHeaderLength, 4, 0x0011, true, sequence, false, 0);
            Assert.True(GreCodec.TryDecode(bytes.AsSpan(start), out var packet, out _));
            return window.OnPacket(packet with { PayloadOffset = packet.PayloadOffset + start }, new TestBuffer(nextId++, bytes));
        }

        for (var sequence = 0u; sequence < 3; sequence++)
        {
            Assert.Equal(GreReceiveStatus.Delivered, Receive(sequence));
        }

        var drops = GreInboundDrops(window.Counters);
        foreach (var farAhead in new[] { 3u + 1_000_000, 3u + 0x7FFF_0000 })
        {
            var status = Receive(farAhead);
            Assert.NotEqual(GreReceiveStatus.Delivered, status);
            Assert.NotEqual(GreReceiveStatus.Buffered, status);
        }

        Assert.Equal([0u, 1u, 2u], host.DeliveredTags);
        Assert.Equal([3, 4], host.Released);
        Assert.Equal(3u, window.ExpectedSequence);
        Assert.Equal(0, window.Counters.Lost);
        Assert.Equal(0, window.BufferedCount);
        Assert.Equal(drops + 2, GreInboundDrops(window.Counters));

        Assert.Equal(GreReceiveStatus.Delivered, Receive(3));
        Assert.Equal([0u, 1u, 2u, 3u], host.DeliveredTags);
    }
}
