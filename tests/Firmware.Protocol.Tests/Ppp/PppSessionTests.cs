using System.Net;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Ppp;
using Firmware.Protocol.Ppp.Ipv6cp;
using Firmware.Protocol.Ppp.Lcp;

namespace Firmware.Protocol.Tests.Ppp;

public sealed class PppSessionTests
{
    private static byte[] IcmpLikePacket(int length)
    {
        var packet = new byte[length];
        packet[0] = 0x45;
        for (var i = 1; i < length; i++)
        {
            packet[i] = (byte)i;
        }

        return packet;
    }

    private static bool Send(PppSession session, PppProtocol protocol, byte[] packet)
    {
        var room = session.RequiredHeaderRoom + 16;
        var buffer = new byte[room + packet.Length];
        packet.CopyTo(buffer, room);
        return session.TrySendPacket(protocol, buffer, room, packet.Length);
    }

    [Fact]
    public void Server_and_client_reach_Network_with_MsChapV2_address_and_DNS()
    {
        var serverAuth = new FakeAuthFactory("server");
        var clientAuth = new FakeAuthFactory("alice");
        using var link = new BackToBack(PppSettings.Server(), PppSettings.Client(), serverAuth, clientAuth);

        link.StartBoth();

        Assert.Equal(PppPhase.Network, link.A.Phase);
        Assert.Equal(PppPhase.Network, link.B.Phase);
        Assert.Equal([(AuthMethod.MsChapV2, AuthRole.Authenticator)], serverAuth.Created);
        Assert.Equal([(AuthMethod.MsChapV2, AuthRole.Peer)], clientAuth.Created);

        var server = link.A.Negotiated;
        var client = link.B.Negotiated;
        Assert.True(server.Ipv4Up && client.Ipv4Up);
        Assert.Equal(AuthMethod.MsChapV2, server.AuthenticatorMethod);
        Assert.Equal(AuthMethod.MsChapV2, client.PeerMethod);
        Assert.Equal("alice", server.UserName);
        Assert.Equal(IPAddress.Parse("10.0.0.2"), client.LocalAddress);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), client.PeerAddress);
        Assert.Equal(IPAddress.Parse("10.0.0.2"), server.PeerAddress);
        Assert.Equal(IPAddress.Parse("192.0.2.53"), client.PrimaryDns);
        Assert.Equal(IPAddress.Parse("192.0.2.54"), client.SecondaryDns);
        Assert.True(server.Ipv6Up && client.Ipv6Up);
        Assert.Equal(server.LocalInterfaceId, client.PeerInterfaceId);
        Assert.Contains(link.AOut.Events, e => e.Kind == PppSessionEventKind.Authenticated);
        Assert.Contains(link.BOut.Events, e => e.Kind == PppSessionEventKind.NetworkUp && e.Protocol == PppProtocol.Ipcp);

        var packet = IcmpLikePacket(60);
        Assert.True(Send(link.A, PppProtocol.Ipv4, packet));
        link.Pump();
        var delivered = Assert.Single(link.BOut.Delivered);
        Assert.Equal(PppProtocol.Ipv4, delivered.Protocol);
        Assert.Equal(packet, delivered.Packet);
    }

    [Fact]
    public void Ip_packets_are_refused_before_IPCP_is_open()
    {
        using var link = new BackToBack(PppSettings.Server(), PppSettings.Client());
        Assert.False(Send(link.A, PppProtocol.Ipv4, IcmpLikePacket(40)));
        link.A.Start();
        Assert.False(Send(link.A, PppProtocol.Ipv4, IcmpLikePacket(40)));
        Assert.Equal(2, link.A.DroppedOutboundPackets);
    }

    [Fact]
    public void Different_MRUs_are_each_acknowledged()
    {
        using var link = new BackToBack(
            PppSettings.Server(o => o with { Lcp = new LcpSettings { Mru = 1400 } }),
            PppSettings.Client(o => o with { Lcp = new LcpSettings { Mru = 1200 } }));
        link.StartBoth();

        Assert.Equal(1200, link.A.Lcp.PeerMru);
        Assert.Equal(1400, link.A.Lcp.LocalMru);
        Assert.Equal(1400, link.B.Lcp.PeerMru);
        Assert.Equal(1200, link.B.Lcp.LocalMru);
    }

    [Fact]
    public void Too_small_MRU_is_Naked_up_to_the_minimum()
    {
        using var link = new BackToBack(
            PppSettings.Server(o => o with { Lcp = new LcpSettings { MinimumMru = 1200 } }),
            PppSettings.Client(o => o with { Lcp = new LcpSettings { Mru = 1000, MinimumMru = 500 } }));
        link.StartBoth();

        Assert.Equal(PppPhase.Network, link.A.Phase);
        Assert.Equal(1200, link.A.Lcp.PeerMru);
        Assert.Equal(1200, link.B.Lcp.LocalMru);
        Assert.Contains(link.BOut.AllSent.Concat(link.AOut.AllSent), f => IsLcpCode(f, PppCode.ConfigureNak));
    }

    [Fact]
    public void Peer_rejecting_PFC_leaves_protocol_fields_full_one_way_only()
    {
        using var link = new BackToBack(
            PppSettings.Server(),
            PppSettings.Client(o => o with { Lcp = new LcpSettings { AllowProtocolCompression = false } }));
        link.StartBoth();

        Assert.Equal(PppPhase.Network, link.A.Phase);
        Assert.False(link.B.Lcp.TransmitFraming.CompressProtocol);
        Assert.False(link.A.Lcp.ReceiveFraming.CompressProtocol);
        Assert.True(link.A.Lcp.TransmitFraming.CompressProtocol);
        Assert.True(link.A.Lcp.TransmitFraming.CompressAddressControl);
        Assert.Contains(link.BOut.AllSent, f => IsLcpCode(f, PppCode.ConfigureReject));

        var aCount = link.AOut.AllSent.Count;
        var bCount = link.BOut.AllSent.Count;
        Assert.True(Send(link.A, PppProtocol.Ipv4, IcmpLikePacket(40)));
        Assert.True(Send(link.B, PppProtocol.Ipv4, IcmpLikePacket(40)));
        Assert.Equal([0x21, 0x45], link.AOut.AllSent[aCount][..2]);
        Assert.Equal([0x00, 0x21, 0x45], link.BOut.AllSent[bCount][..3]);
        link.Pump();
        Assert.Single(link.AOut.Delivered);
        Assert.Single(link.BOut.Delivered);
    }

    [Fact]
    public void Magic_number_collision_is_resolved_with_new_numbers()
    {
        byte[] same = [0xDE, 0xAD, 0xBE, 0xEF];
        using var link = new BackToBack(
            PppSettings.Server(), PppSettings.Client(),
            aRandom: new TestRandom(10, same), bRandom: new TestRandom(20, same));
        link.StartBoth();

        Assert.Equal(PppPhase.Network, link.A.Phase);
        Assert.NotEqual(0xDEADBEEFu, link.A.Lcp.LocalMagic);
        Assert.NotEqual(link.A.Lcp.LocalMagic, link.B.Lcp.LocalMagic);
        Assert.Equal(link.A.Lcp.LocalMagic, link.B.Lcp.PeerMagic);
    }

    [Fact]
    public void Looped_back_link_is_detected_and_closed()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var output = new RecordingOutput();
        // Without auth: a server's own auth demand would otherwise be rejected by itself first.
        using var session = new PppSession(PppSettings.Server(o => o with { Auth = new AuthPolicy() }), output, null, time, new TestRandom(3).Fill);
        session.Start();
        for (var i = 0; i < 200 && output.Sent.Count > 0; i++)
        {
            session.ReceiveFrame(output.Sent.Dequeue());
        }

        Assert.Contains("looped back", output.ReasonOf(PppSessionEventKind.Finished) ?? string.Join(" | ", output.Events), StringComparison.Ordinal);
        Assert.True(output.AllSent.Count < 40, string.Join("\n", output.Events));
        Assert.Equal(PppPhase.Dead, session.Phase);
    }

    [Fact]
    public void Missing_echo_replies_take_the_link_down_with_reason()
    {
        using var link = new BackToBack(
            PppSettings.Server(o => o with { Lcp = new LcpSettings { EchoInterval = TimeSpan.FromSeconds(5), EchoFailureLimit = 3 } }),
            PppSettings.Client(o => o with { Lcp = new LcpSettings { EchoInterval = TimeSpan.Zero } }));
        link.StartBoth();
        Assert.Equal(PppPhase.Network, link.A.Phase);

        link.Run(TimeSpan.FromSeconds(30));
        Assert.Equal(PppPhase.Network, link.A.Phase);
        Assert.Equal(0, link.A.Lcp.EchoOutstanding);

        link.BOut.DropOutbound = _ => true;
        link.Run(TimeSpan.FromSeconds(40));

        Assert.Equal(PppPhase.Dead, link.A.Phase);
        Assert.Equal("peer did not answer LCP echo 3 times", link.AOut.ReasonOf(PppSessionEventKind.LinkDown));
        Assert.Equal("peer did not answer LCP echo 3 times", link.AOut.ReasonOf(PppSessionEventKind.Finished));
    }

    [Fact]
    public void Terminate_then_reopen_renegotiates_everything()
    {
        var serverAuth = new FakeAuthFactory("server");
        using var link = new BackToBack(PppSettings.Server(), PppSettings.Client(), serverAuth);
        link.StartBoth();
        Assert.Equal(PppPhase.Network, link.B.Phase);

        link.A.Close("administrator request");
        link.Run(TimeSpan.FromSeconds(10));

        Assert.Equal(PppPhase.Dead, link.A.Phase);
        Assert.Equal(PppPhase.Dead, link.B.Phase);
        Assert.Equal("administrator request", link.AOut.ReasonOf(PppSessionEventKind.Finished));
        Assert.Equal("peer closed the link: administrator request", link.BOut.ReasonOf(PppSessionEventKind.LinkDown));
        Assert.Equal(PppState.Closed, link.A.Lcp.State);
        Assert.Equal(PppState.Stopped, link.B.Lcp.State);

        link.A.Open();
        link.Run(TimeSpan.FromSeconds(2));

        Assert.Equal(PppPhase.Network, link.A.Phase);
        Assert.Equal(PppPhase.Network, link.B.Phase);
        Assert.True(link.B.Negotiated.Ipv4Up);
        Assert.Equal(2, serverAuth.Created.Count);
    }

    [Fact]
    public void Interface_identifier_collision_is_resolved()
    {
        const ulong same = 0x0211_22FF_FE33_4455;
        using var link = new BackToBack(
            PppSettings.Server(o => o with { Ipv6cp = new Ipv6cpSettings { InterfaceId = same } }),
            PppSettings.Client(o => o with { Ipv6cp = new Ipv6cpSettings { InterfaceId = same } }));
        link.StartBoth();

        var a = link.A.Negotiated;
        var b = link.B.Negotiated;
        Assert.True(a.Ipv6Up && b.Ipv6Up);
        Assert.NotEqual(a.LocalInterfaceId, a.PeerInterfaceId);
        Assert.Equal(a.LocalInterfaceId, b.PeerInterfaceId);
        Assert.Equal(b.LocalInterfaceId, a.PeerInterfaceId);
        Assert.Contains(link.AOut.AllSent, f => PppFrame.TryDecode(f, out var p, out var payload) && p == PppProtocol.Ipv6cp && payload[0] == (byte)PppCode.ConfigureNak);
    }

    [Fact]
    public void Auth_policy_mismatch_fails_on_both_sides_with_reasons()
    {
        using var link = new BackToBack(
            PppSettings.Server(),
            PppSettings.Client(o => o with { Auth = new AuthPolicy { Accept = [AuthMethod.Pap] } }));
        link.StartBoth();
        link.Run(TimeSpan.FromSeconds(10));

        Assert.Equal(PppPhase.Dead, link.A.Phase);
        Assert.Equal(PppPhase.Dead, link.B.Phase);
        Assert.Equal("peer refused MS-CHAPv2 (it offered PAP)", link.AOut.ReasonOf(PppSessionEventKind.Finished));
        Assert.Equal("peer demands MS-CHAPv2 but local policy accepts only PAP", link.BOut.ReasonOf(PppSessionEventKind.Finished));
    }

    [Fact]
    public void Authenticator_takes_the_peers_suggestion_when_policy_allows_it()
    {
        var serverAuth = new FakeAuthFactory("server");
        using var link = new BackToBack(
            PppSettings.Server(o => o with { Auth = new AuthPolicy { Demand = [AuthMethod.MsChapV2, AuthMethod.ChapMd5, AuthMethod.Pap] } }),
            PppSettings.Client(o => o with { Auth = new AuthPolicy { Accept = [AuthMethod.Pap] } }),
            serverAuth);
        link.StartBoth();

        Assert.Equal(PppPhase.Network, link.A.Phase);
        Assert.Equal([(AuthMethod.Pap, AuthRole.Authenticator)], serverAuth.Created);
    }

    [Fact]
    public void Failed_authentication_closes_the_link_with_the_user_name()
    {
        using var link = new BackToBack(
            PppSettings.Server(), PppSettings.Client(),
            new FakeAuthFactory("server", user => user == "alice"),
            new FakeAuthFactory("mallory"));
        link.StartBoth();
        link.Run(TimeSpan.FromSeconds(10));

        Assert.Equal("authentication failed for user 'mallory'", link.AOut.ReasonOf(PppSessionEventKind.AuthenticationFailed));
        Assert.Equal("peer rejected the credentials for user 'mallory'", link.BOut.ReasonOf(PppSessionEventKind.AuthenticationFailed));
        Assert.Equal(PppPhase.Dead, link.A.Phase);
        Assert.False(link.B.Negotiated.Ipv4Up);
        Assert.DoesNotContain(link.BOut.Events, e => e.Kind == PppSessionEventKind.NetworkUp);
    }

    [Fact]
    public void Without_authentication_NCPs_start_right_after_LCP()
    {
        var none = new AuthPolicy();
        using var link = new BackToBack(
            PppSettings.Server(o => o with { Auth = none }),
            PppSettings.Client(o => o with { Auth = none }),
            aAuth: null, bAuth: null);
        link.StartBoth();

        Assert.Equal(PppPhase.Network, link.A.Phase);
        Assert.True(link.B.Negotiated.Ipv4Up);
        Assert.DoesNotContain(link.AOut.Events, e => e.Phase == PppPhase.Authenticate);
    }

    [Fact]
    public void Peer_without_IPv6_Protocol_Rejects_IPv6CP_and_IPv4_stays_up()
    {
        using var link = new BackToBack(
            PppSettings.Server(),
            PppSettings.Client(o => o with { Ipv6cp = new Ipv6cpSettings { Enabled = false } }));
        link.StartBoth();

        Assert.True(link.A.Negotiated.Ipv4Up);
        Assert.False(link.A.Negotiated.Ipv6Up);
        Assert.Equal(PppState.Stopped, link.A.Ipv6cp!.State);
        Assert.True(link.B.ProtocolRejectsSent > 0);
        Assert.Equal(PppPhase.Network, link.A.Phase);
    }

    [Fact]
    public void Unknown_protocol_is_Protocol_Rejected_once_LCP_is_open()
    {
        using var link = new BackToBack(PppSettings.Server(), PppSettings.Client());
        link.A.ReceiveFrame(new byte[] { 0xFF, 0x03, 0x80, 0x2B, 1, 1, 0, 4 });
        Assert.Equal(0, link.A.ProtocolRejectsSent);

        link.StartBoth();
        var before = link.AOut.AllSent.Count;
        link.A.ReceiveFrame(new byte[] { 0xFF, 0x03, 0x80, 0x2B, 1, 1, 0, 4 });

        Assert.Equal(1, link.A.ProtocolRejectsSent);
        var reject = link.AOut.AllSent[before];
        Assert.Equal(new byte[] { 0xFF, 0x03, 0xC0, 0x21, (byte)PppCode.ProtocolReject }, reject[..5]);
        Assert.Equal(new byte[] { 0x80, 0x2B, 1, 1, 0, 4 }, reject[8..]);
    }

    [Fact]
    public void Echo_request_is_answered_with_our_magic()
    {
        using var link = new BackToBack(PppSettings.Server(), PppSettings.Client());
        link.StartBoth();
        var before = link.AOut.AllSent.Count;
        link.A.ReceiveFrame(new byte[] { 0xFF, 0x03, 0xC0, 0x21, 9, 42, 0, 12, 1, 2, 3, 4, 0xAA, 0xBB, 0xCC, 0xDD });

        var reply = link.AOut.AllSent[before];
        Assert.Equal((byte)PppCode.EchoReply, reply[4]);
        Assert.Equal(42, reply[5]);
        Assert.Equal(link.A.Lcp.LocalMagic, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(8)));
        Assert.Equal(new byte[] { 0xAA, 0xBB, 0xCC, 0xDD }, reply[12..]);
    }

    private static bool IsLcpCode(byte[] frame, PppCode code) =>
        frame.Length > 4 && frame[0] == 0xFF && frame[2] == 0xC0 && frame[3] == 0x21 && frame[4] == (byte)code;
}
