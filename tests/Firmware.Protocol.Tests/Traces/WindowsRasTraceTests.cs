using System.Net;
using Firmware.Protocol.Auth;
using Firmware.Protocol.Ccp;
using Firmware.Protocol.Ppp;
using Firmware.Protocol.Ppp.Ipcp;
using Firmware.Protocol.Ppp.Lcp;
using Firmware.Protocol.Pptp;
using Firmware.Protocol.Tests.Ppp;
using Firmware.Protocol.Tests.Pptp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Traces;

/// <summary>
/// The Windows RAS PPTP client (Windows 7 to 11 behave alike here) as published packet captures show it, fed
/// byte for byte into our server-side protocol objects (issue 15, item 6). The hex is written from the
/// captures' field values and the RFC layouts; values that differ per machine (magic numbers, the endpoint
/// discriminator, host names) are stand-ins of the same shape and length.
/// </summary>
public sealed class WindowsRasTraceTests
{
    // ---- LCP ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Windows RAS client, first LCP Configure-Request: MRU 1400, Magic-Number, PFC, ACFC, then the four
    /// options it always offers a RAS server: Callback (13, operation 6 = decided by CBCP), Multilink MRRU
    /// (17, 1614), Multilink Endpoint Discriminator (19, class 1 "locally assigned", 20 octets) and the BACP
    /// Link Discriminator (23).
    /// </summary>
    private static readonly byte[] WindowsLcpRequest = TestHex.Parse("""
        01 00 0034                     // Configure-Request, id 0, length 52
        01 04 0578                     // MRU 1400
        05 06 5e9b2147                 // Magic-Number
        07 02                          // Protocol-Field-Compression
        08 02                          // Address-and-Control-Field-Compression
        0d 03 06                       // Callback, operation 6 (location determined during CBCP)
        11 04 064e                     // Multilink MRRU 1614
        13 17 01 e15c9d5a3c444d1b9f3e7a2041086bd200000000 // Endpoint Discriminator, class 1, 20 octets
        17 04 002c                     // Link Discriminator for BACP
        """);

    /// <summary>Windows' second Configure-Request after our Reject: the same minus what we rejected, next id.</summary>
    private static readonly byte[] WindowsLcpRequestAfterReject = TestHex.Parse("""
        01 01 0012 01 04 0578 05 06 5e9b2147 07 02 08 02
        """);

    /// <summary>LCP Identification (RFC 1570), as Windows sends them right after its Configure-Ack: its RAS version, then "MSRAS-0-" + the machine name.</summary>
    private static readonly byte[] WindowsIdentificationVersion = TestHex.Parse("0c 02 0012 5e9b2147" + Convert.ToHexString("MSRASV5.20"u8));

    private static readonly byte[] WindowsIdentificationHost = TestHex.Parse("0c 03 0018 5e9b2147" + Convert.ToHexString("MSRAS-0-DESKTOP1"u8));

    /// <summary>LCP Time-Remaining (RFC 1570 1.2): magic, seconds remaining (here 0), no message.</summary>
    private static readonly byte[] WindowsTimeRemaining = TestHex.Parse("0d 04 000c 5e9b2147 00000000");

    private readonly FakeTimeProvider _time = new();
    private readonly List<byte[]> _sent = [];

    /// <summary>The protocol, Up and Open: our Configure-Request is the last packet sent.</summary>
    private static T Started<T>(T protocol) where T : ControlProtocol
    {
        protocol.Automaton.Up();
        protocol.Automaton.Open();
        return protocol;
    }

    /// <summary>The Configure-Ack of <paramref name="request"/>: the same packet with code 2 (RFC 1661 5.2).</summary>
    private static byte[] AckOf(byte[] request)
    {
        var ack = (byte[])request.Clone();
        ack[0] = (byte)PppCode.ConfigureAck;
        return ack;
    }

    private LcpProtocol ServerLcp() => Started(new LcpProtocol(new LcpSettings(), new AuthPolicy { Demand = [AuthMethod.MsChapV2], Accept = [] },
        new PppAutomatonSettings(), _time, new ListOutput(_sent), new TestRandom(15).Fill));

    [Fact]
    public void Lcp_callback_mrru_endpoint_and_bacp_are_rejected_and_the_link_comes_up_on_the_rest()
    {
        using var lcp = ServerLcp();
        var ours = _sent[^1];

        lcp.Receive(WindowsLcpRequest);

        // Exactly the four options, in the order Windows sent them, values unchanged (RFC 1661 5.4).
        Assert.Equal(TestHex.Parse("""
            04 00 0026
            0d 03 06
            11 04 064e
            13 17 01 e15c9d5a3c444d1b9f3e7a2041086bd200000000
            17 04 002c
            """), _sent[^1]);

        lcp.Receive(WindowsLcpRequestAfterReject);
        Assert.Equal(AckOf(WindowsLcpRequestAfterReject), _sent[^1]);

        // Windows acks our request as it stands.
        lcp.Receive(AckOf(ours));

        Assert.Equal(PppState.Opened, lcp.State);
        Assert.Equal(1400, lcp.PeerMru);
        Assert.Equal(0x5e9b2147u, lcp.PeerMagic);
        Assert.Equal(AuthMethod.MsChapV2, lcp.AuthenticatorMethod);
    }

    [Fact]
    public void Lcp_identification_and_time_remaining_are_accepted_without_a_code_reject()
    {
        using var lcp = ServerLcp();
        var ours = _sent[^1];
        lcp.Receive(WindowsLcpRequestAfterReject);

        // Windows sends Identification straight after its Configure-Ack, so it can arrive before Opened too.
        lcp.Receive(WindowsIdentificationVersion);
        lcp.Receive(AckOf(ours));
        Assert.Equal(PppState.Opened, lcp.State);
        var before = _sent.Count;

        lcp.Receive(WindowsIdentificationHost);
        lcp.Receive(WindowsTimeRemaining);
        lcp.Receive(WindowsIdentificationVersion);

        Assert.Equal(before, _sent.Count);
        Assert.DoesNotContain(_sent, p => p[0] == (byte)PppCode.CodeReject);
        Assert.Equal(PppState.Opened, lcp.State);
        Assert.Equal(0, lcp.Automaton.DroppedPackets);
    }

    // ---- CCP ---------------------------------------------------------------------------------------------

    /// <summary>Windows' CCP Configure-Request: one MPPE/MPPC option with every bit it knows, +H +M +S +L +C.</summary>
    private static readonly byte[] WindowsCcpRequest = TestHex.Parse("01 06 000a 12 06 010000e1");

    [Fact]
    public void Ccp_all_bits_offer_is_naked_down_to_the_default_policy_then_acked()
    {
        using var ccp = Started(new CcpProtocol(MppeNegotiationPolicy.Default, isServer: true, new PppAutomatonSettings(), _time, new ListOutput(_sent)));

        ccp.Receive(WindowsCcpRequest);

        // Stateless 128-bit only: H and S kept, M, L and MPPC (C) cleared.
        Assert.Equal(TestHex.Parse("03 06 000a 12 06 01000040"), _sent[^1]);

        ccp.Receive(TestHex.Parse("01 07 000a 12 06 01000040"));
        Assert.Equal(TestHex.Parse("02 07 000a 12 06 01000040"), _sent[^1]);
    }

    [Fact]
    public void Ccp_all_bits_offer_is_naked_to_the_strongest_key_a_permissive_policy_allows()
    {
        var policy = new MppeNegotiationPolicy { Allow40 = true, Allow56 = true, PreferStateless = false };
        using var ccp = Started(new CcpProtocol(policy, isServer: true, new PppAutomatonSettings(), _time, new ListOutput(_sent)));

        ccp.Receive(WindowsCcpRequest);

        // One key length and one mode (RFC 3078 2.1): 128-bit, stateful preferred so no H; MPPC never.
        Assert.Equal(TestHex.Parse("03 06 000a 12 06 00000040"), _sent[^1]);
    }

    // ---- IPCP --------------------------------------------------------------------------------------------

    /// <summary>
    /// Windows' IPCP Configure-Request: Van Jacobson compression (02, 0x002d, 15 slots, slot-id compression),
    /// IP-Address 0.0.0.0, and 0.0.0.0 for primary DNS (129), primary WINS (130), secondary DNS (131) and
    /// secondary WINS (132), in that order (RFC 1332, RFC 1877).
    /// </summary>
    private static readonly byte[] WindowsIpcpRequest = TestHex.Parse("""
        01 05 0028
        02 06 002d 0f 01
        03 06 00000000
        81 06 00000000
        82 06 00000000
        83 06 00000000
        84 06 00000000
        """);

    private static IpcpSettings ServerIpcp(bool wins) => PppSettings.Server().Ipcp! with
    {
        PrimaryNbns = wins ? IPAddress.Parse("192.0.2.137") : null,
        SecondaryNbns = wins ? IPAddress.Parse("192.0.2.138") : null,
    };

    [Fact]
    public void Ipcp_address_dns_and_wins_request_is_naked_with_our_values()
    {
        using var ipcp = Started(new IpcpProtocol(ServerIpcp(wins: true), new PppAutomatonSettings(), _time, new ListOutput(_sent)));
        var ours = _sent[^1];

        ipcp.Receive(WindowsIpcpRequest);
        // A Reject goes first and alone (RFC 1661 5.3): only VJ compression, which we do not do.
        Assert.Equal(TestHex.Parse("04 05 000a 02 06 002d 0f 01"), _sent[^1]);

        ipcp.Receive(TestHex.Parse("01 06 0022 03 06 00000000 81 06 00000000 82 06 00000000 83 06 00000000 84 06 00000000"));
        Assert.Equal(TestHex.Parse("""
            03 06 0022
            03 06 0a000002 // 10.0.0.2, the address we assign
            81 06 c0000235 // 192.0.2.53
            82 06 c0000289 // 192.0.2.137
            83 06 c0000236 // 192.0.2.54
            84 06 c000028a // 192.0.2.138
            """), _sent[^1]);

        var accepted = TestHex.Parse("01 07 0022 03 06 0a000002 81 06 c0000235 82 06 c0000289 83 06 c0000236 84 06 c000028a");
        ipcp.Receive(accepted);
        Assert.Equal(AckOf(accepted), _sent[^1]);

        ipcp.Receive(AckOf(ours));
        Assert.Equal(PppState.Opened, ipcp.State);
        Assert.Equal(IPAddress.Parse("10.0.0.2"), ipcp.PeerAddress);
    }

    [Fact]
    public void Ipcp_wins_is_rejected_when_none_is_configured_and_the_rest_naked()
    {
        using var ipcp = Started(new IpcpProtocol(ServerIpcp(wins: false), new PppAutomatonSettings(), _time, new ListOutput(_sent)));

        ipcp.Receive(WindowsIpcpRequest);
        Assert.Equal(TestHex.Parse("04 05 0016 02 06 002d 0f 01 82 06 00000000 84 06 00000000"), _sent[^1]);

        ipcp.Receive(TestHex.Parse("01 06 0016 03 06 00000000 81 06 00000000 83 06 00000000"));
        Assert.Equal(TestHex.Parse("03 06 0016 03 06 0a000002 81 06 c0000235 83 06 c0000236"), _sent[^1]);
    }

    // ---- PPTP control ------------------------------------------------------------------------------------

    /// <summary>Windows' Start-Control-Connection-Request: version 1.0, async framing, analog bearer, no host name, vendor "Microsoft".</summary>
    private static readonly byte[] WindowsStartRequest = TestHex.Parse("""
        009c 0001 1a2b3c4d 0001 0000
        0100 0000 00000001 00000001 0000 0a28
        """ + TestHex.Zeros(64) + TestHex.Field(Convert.ToHexString("Microsoft"u8), 64));

    /// <summary>
    /// Windows' Outgoing-Call-Request: call ID 0 and serial 0 on the first call after boot, 300 bps to
    /// 100 Mbit/s, any bearer and framing (3), receive window 64, no phone number.
    /// </summary>
    private static readonly byte[] WindowsOutgoingCallRequest = TestHex.Parse("""
        00a8 0001 1a2b3c4d 0007 0000
        0000 0000 0000012c 05f5e100 00000003 00000003 0040 0000 0000 0000
        """ + TestHex.Zeros(64) + TestHex.Zeros(64));

    /// <summary>Windows' Set-Link-Info: first with both ACCMs 0xffffffff (before LCP), then with the negotiated 0.</summary>
    private static byte[] WindowsSetLinkInfo(ushort ourCallId, uint accm) =>
        TestHex.Parse($"0018 0001 1a2b3c4d 000f 0000 {ourCallId:x4} 0000 {accm:x8} {accm:x8}");

    [Fact]
    public void Pptp_call_id_0_is_served_and_set_link_info_with_real_accms_is_recorded()
    {
        var host = new RecordingHost();
        var server = new PptpControlConnection(PptpControlRole.Server,
            new PptpControlOptions { HostName = "server", RandomFill = SeededRandom.Create(15) }, host, new FakeTimeProvider());
        host.Connection = server;
        server.Start();

        server.OnBytesReceived(WindowsStartRequest);
        Assert.Equal(PptpControlState.Established, server.State);
        Assert.Equal("Microsoft", server.Peer!.VendorString);
        var startReply = host.Outbound.Last();
        Assert.Equal(0x01, startReply[14]); // Result Code 1: Windows, like Android, must see success as 1

        server.OnBytesReceived(WindowsOutgoingCallRequest);
        var call = Assert.Single(server.Calls);
        Assert.Equal(0, call.PeerCallId);
        var reply = host.LastSent<OutgoingCallReply>();
        Assert.Equal(0, reply.PeerCallId);
        Assert.Equal(OutgoingCallResult.Connected, reply.ResultCode);
        Assert.Equal(call.LocalCallId, reply.CallId);
        Assert.Equal(PptpCallState.Established, call.State);

        server.OnBytesReceived(WindowsSetLinkInfo(call.LocalCallId, 0xFFFFFFFF));
        Assert.True(call.LinkInfoReceived);
        Assert.Equal(0xFFFFFFFFu, call.SendAccm);
        Assert.Equal(0xFFFFFFFFu, call.ReceiveAccm);

        server.OnBytesReceived(WindowsSetLinkInfo(call.LocalCallId, 0));
        Assert.Equal(0u, call.SendAccm);
        Assert.Equal(0u, call.ReceiveAccm);
        Assert.Equal(PptpCallState.Established, call.State);
        Assert.Equal(PptpControlState.Established, server.State);
    }
}
