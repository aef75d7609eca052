using System.Net;
using Firmware.Protocol.Pptp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Pptp;

public sealed class PptpControlConnectionTests
{
    [Fact]
    public void Client_and_server_establish_and_exchange_identities()
    {
        var pair = new BackToBack();
        pair.Establish();

        var request = Assert.IsType<StartControlConnectionRequest>(pair.ClientHost.Sent[0]);
        Assert.Equal(0x0100, request.ProtocolVersion);
        Assert.Equal("client", request.HostName);
        Assert.Equal("server", pair.Client.Peer!.HostName);
        Assert.Equal("client", pair.Server.Peer!.HostName);
        Assert.Equal(StartControlResult.Successful, pair.Client.PeerStartResult);
        Assert.Equal(["established"], pair.ClientHost.Events);
        Assert.Equal(["established"], pair.ServerHost.Events);
    }

    [Fact]
    public void Full_call_setup_and_teardown()
    {
        var pair = new BackToBack();
        pair.Establish();
        var call = pair.PlaceCall();

        var serverCall = Assert.Single(pair.Server.Calls);
        Assert.Equal(call.LocalCallId, serverCall.PeerCallId);
        Assert.Equal(serverCall.LocalCallId, call.PeerCallId);
        Assert.Equal(64, call.PeerReceiveWindow);
        Assert.Equal(64, serverCall.PeerReceiveWindow);
        Assert.Equal(100_000_000u, call.ConnectSpeed);
        Assert.Same(call, pair.Client.FindCall(call.LocalCallId));
        Assert.Same(serverCall, pair.Server.FindCall(serverCall.LocalCallId));

        // Set-Link-Info from the client is recorded on the server's call.
        pair.Client.SendSetLinkInfo(call, 0, 0x000A0000);
        pair.Pump();
        Assert.True(serverCall.LinkInfoReceived);
        Assert.Equal(0u, serverCall.SendAccm);
        Assert.Equal(0x000A0000u, serverCall.ReceiveAccm);

        pair.Client.ClearCall(call);
        Assert.Equal(PptpCallState.WaitDisconnect, call.State);
        Assert.Equal(call.LocalCallId, pair.ClientHost.LastSent<CallClearRequest>().CallId);
        pair.Pump();

        var notify = pair.ServerHost.LastSent<CallDisconnectNotify>();
        Assert.Equal(serverCall.LocalCallId, notify.CallId);
        Assert.Equal(CallDisconnectResult.Request, notify.ResultCode);
        Assert.Equal(PptpCallClearReason.ClearedLocally, call.ClearReason);
        Assert.Equal(PptpCallClearReason.ClearRequestedByPeer, serverCall.ClearReason);
        Assert.Empty(pair.Client.Calls);
        Assert.Empty(pair.Server.Calls);

        pair.Client.Stop(StopControlReason.StopLocalShutdown);
        Assert.Equal(PptpControlState.WaitStopReply, pair.Client.State);
        pair.Pump();
        Assert.Equal(PptpControlState.Closed, pair.Client.State);
        Assert.Equal(PptpControlState.Closed, pair.Server.State);
        Assert.Equal(PptpTeardownReason.LocalStop, pair.Client.TeardownReason);
        Assert.Equal(PptpTeardownReason.PeerStop, pair.Server.TeardownReason);
        Assert.Equal(StopControlReason.StopLocalShutdown, pair.Server.PeerStopReason);
    }

    [Fact]
    public void Stop_with_live_calls_clears_all_of_them_on_both_sides()
    {
        var pair = new BackToBack();
        pair.Establish();
        var first = pair.PlaceCall();
        var second = pair.PlaceCall();
        Assert.NotEqual(first.LocalCallId, second.LocalCallId);
        Assert.Equal(2, pair.Server.Calls.Count);

        pair.Server.Stop();
        Assert.Equal(2, pair.ServerHost.Cleared.Count);
        pair.Pump();
        Assert.All(pair.ClientHost.Cleared, c => Assert.Equal(PptpCallClearReason.ControlConnectionClosed, c.ClearReason));
        Assert.Equal(2, pair.ClientHost.Cleared.Count);
        Assert.Equal(PptpTeardownReason.PeerStop, pair.Client.TeardownReason);
        Assert.Equal(PptpTeardownReason.LocalStop, pair.Server.TeardownReason);
    }

    [Fact]
    public void Server_delegates_the_accept_decision_and_refuses_with_its_result_code()
    {
        var pair = new BackToBack();
        pair.ServerHost.Decide = _ => PptpCallDecision.NoResources;
        pair.Establish();
        Assert.True(pair.Client.TryPlaceCall(out var call));
        pair.Pump();

        var reply = pair.ServerHost.LastSent<OutgoingCallReply>();
        Assert.Equal(OutgoingCallResult.GeneralError, reply.ResultCode);
        Assert.Equal(PptpErrorCode.NoResource, reply.ErrorCode);
        Assert.Equal(call!.LocalCallId, reply.PeerCallId);
        Assert.Equal(PptpCallClearReason.RefusedByPeer, call.ClearReason);
        Assert.Equal(PptpErrorCode.NoResource, call.PeerErrorCode);
        Assert.Empty(pair.Server.Calls);
        Assert.Equal(PptpControlState.Established, pair.Client.State);
    }

    [Fact]
    public void Server_clearing_a_call_sends_admin_shutdown()
    {
        var pair = new BackToBack();
        pair.Establish();
        var call = pair.PlaceCall();
        pair.Server.ClearCall(pair.Server.Calls[0]);
        pair.Pump();
        Assert.Equal(CallDisconnectResult.AdminShutdown, pair.ServerHost.LastSent<CallDisconnectNotify>().ResultCode);
        Assert.Equal(PptpCallClearReason.DisconnectedByPeer, call.ClearReason);
        Assert.Equal(CallDisconnectResult.AdminShutdown, call.PeerDisconnectResult);
    }

    [Fact]
    public void Echo_keepalive_keeps_an_idle_connection_up()
    {
        var pair = new BackToBack();
        pair.Establish();
        for (var minute = 0; minute < 10; minute++)
        {
            pair.Time.Advance(TimeSpan.FromSeconds(60));
            pair.Pump();
        }
        Assert.Equal(PptpControlState.Established, pair.Client.State);
        Assert.Equal(PptpControlState.Established, pair.Server.State);
        Assert.Contains(pair.ClientHost.Sent, m => m is EchoRequest);
        Assert.Contains(pair.ServerHost.Sent, m => m is EchoReply);
    }

    [Fact]
    public void Echo_loss_tears_down_after_interval_plus_reply_timeout()
    {
        var pair = new BackToBack();
        pair.Establish();
        var call = pair.PlaceCall();
        pair.DropServerToClient = true;

        pair.Time.Advance(TimeSpan.FromSeconds(60));
        pair.Pump();
        Assert.IsType<EchoRequest>(pair.ClientHost.Sent[^1]);
        pair.Time.Advance(TimeSpan.FromSeconds(59));
        pair.Pump();
        Assert.Equal(PptpControlState.Established, pair.Client.State);
        pair.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(PptpControlState.Closed, pair.Client.State);
        Assert.Equal(PptpTeardownReason.EchoTimeout, pair.Client.TeardownReason);
        Assert.Equal(PptpCallClearReason.ControlConnectionClosed, call.ClearReason);
        Assert.True(pair.ClientHost.TransportClosed);
    }

    [Fact]
    public void Echo_interval_is_configurable()
    {
        var options = new PptpControlOptions { EchoInterval = TimeSpan.FromSeconds(5), EchoReplyTimeout = TimeSpan.FromSeconds(2), RandomFill = SeededRandom.Create(3) };
        var pair = new BackToBack(clientOptions: options);
        pair.Establish();
        pair.DropServerToClient = true;
        pair.Time.Advance(TimeSpan.FromSeconds(5));
        pair.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(PptpTeardownReason.EchoTimeout, pair.Client.TeardownReason);
    }

    [Fact]
    public void Client_without_a_reply_times_out()
    {
        var time = new FakeTimeProvider();
        var host = new RecordingHost();
        var client = new PptpControlConnection(PptpControlRole.Client, new PptpControlOptions { RandomFill = SeededRandom.Create(0) }, host, time);
        client.Start();
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(PptpTeardownReason.StartTimeout, client.TeardownReason);
        Assert.True(host.TransportClosed);
    }

    [Fact]
    public void Server_without_a_request_times_out()
    {
        var time = new FakeTimeProvider();
        var host = new RecordingHost();
        var server = new PptpControlConnection(PptpControlRole.Server, new PptpControlOptions { RandomFill = SeededRandom.Create(0) }, host, time);
        server.Start();
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(PptpTeardownReason.StartTimeout, server.TeardownReason);
    }

    [Fact]
    public void Outgoing_call_without_reply_times_out_and_is_cleared()
    {
        var pair = new BackToBack();
        pair.Establish();
        pair.DropServerToClient = true;
        Assert.True(pair.Client.TryPlaceCall(out var call));
        pair.Pump();
        // Keep the control connection alive: the server's echoes are lost, but only the call times out first.
        pair.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(PptpCallState.WaitReply, call!.State);
        pair.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(PptpCallClearReason.ReplyTimeout, call.ClearReason);
        Assert.Contains(pair.ClientHost.Sent, m => m is CallClearRequest clear && clear.CallId == call.LocalCallId);
    }

    [Fact]
    public void Stop_reply_timeout_closes_the_transport()
    {
        var time = new FakeTimeProvider();
        var host = new RecordingHost();
        var client = new PptpControlConnection(PptpControlRole.Client, new PptpControlOptions { RandomFill = SeededRandom.Create(0) }, host, time);
        client.Start();
        client.OnBytesReceived(PptpControlCodec.Encode(new StartControlConnectionReply()));
        client.Stop();
        Assert.Equal(PptpControlState.WaitStopReply, client.State);
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.False(host.TransportClosed);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(PptpTeardownReason.StopReplyTimeout, client.TeardownReason);
        Assert.True(host.TransportClosed);
    }

    [Fact]
    public void Peer_closing_tcp_clears_calls()
    {
        var pair = new BackToBack();
        pair.Establish();
        var call = pair.PlaceCall();
        pair.Client.OnTransportClosed();
        Assert.Equal(PptpTeardownReason.TransportClosed, pair.Client.TeardownReason);
        Assert.Equal(PptpCallClearReason.ControlConnectionClosed, call.ClearReason);
        Assert.DoesNotContain("close-transport", pair.ClientHost.Events);
    }

    [Fact]
    public void Incoming_call_request_is_refused_politely()
    {
        var pair = new BackToBack();
        pair.Establish();
        pair.Server.OnBytesReceived(PptpControlCodec.Encode(new IncomingCallRequest { CallId = 0x55 }));
        var reply = pair.ServerHost.LastSent<IncomingCallReply>();
        Assert.Equal(IncomingCallResult.DoNotAccept, reply.ResultCode);
        Assert.Equal(0x55, reply.PeerCallId);
        Assert.Equal(PptpControlState.Established, pair.Server.State);
        // Client side refuses likewise.
        pair.Client.OnBytesReceived(PptpControlCodec.Encode(new IncomingCallRequest { CallId = 0x56 }));
        Assert.Equal(IncomingCallResult.DoNotAccept, pair.ClientHost.LastSent<IncomingCallReply>().ResultCode);
    }

    [Fact]
    public void Client_refuses_an_outgoing_call_request()
    {
        var pair = new BackToBack();
        pair.Establish();
        pair.Client.OnBytesReceived(PptpControlCodec.Encode(new OutgoingCallRequest { CallId = 3 }));
        var reply = pair.ClientHost.LastSent<OutgoingCallReply>();
        Assert.Equal(OutgoingCallResult.DoNotAccept, reply.ResultCode);
        Assert.Equal(3, reply.PeerCallId);
        Assert.Empty(pair.Client.Calls);
    }

    [Fact]
    public void Duplicate_peer_call_id_is_refused_with_bad_call_id()
    {
        var pair = new BackToBack();
        pair.Establish();
        pair.Server.OnBytesReceived(PptpControlCodec.Encode(new OutgoingCallRequest { CallId = 3 }));
        pair.Server.OnBytesReceived(PptpControlCodec.Encode(new OutgoingCallRequest { CallId = 3 }));
        var reply = pair.ServerHost.LastSent<OutgoingCallReply>();
        Assert.Equal(OutgoingCallResult.GeneralError, reply.ResultCode);
        Assert.Equal(PptpErrorCode.BadCallId, reply.ErrorCode);
        Assert.Single(pair.Server.Calls);
    }

    [Fact]
    public void Unknown_call_ids_are_counted_drops()
    {
        var pair = new BackToBack();
        pair.Establish();
        var sentBefore = pair.ServerHost.Sent.Count;
        pair.Server.OnBytesReceived(PptpControlCodec.Encode(new CallClearRequest { CallId = 77 }));
        pair.Server.OnBytesReceived(PptpControlCodec.Encode(new SetLinkInfo { PeerCallId = 77 }));
        pair.Server.OnBytesReceived(PptpControlCodec.Encode(new WanErrorNotify { PeerCallId = 77 }));
        pair.Client.OnBytesReceived(PptpControlCodec.Encode(new CallDisconnectNotify { CallId = 77 }));
        pair.Client.OnBytesReceived(PptpControlCodec.Encode(new OutgoingCallReply { PeerCallId = 77 }));
        pair.Client.OnBytesReceived(PptpControlCodec.Encode(new IncomingCallConnected { PeerCallId = 77 }));
        Assert.Equal(3, pair.Server.Counters[PptpControlDropReason.UnknownCallId]);
        Assert.Equal(3, pair.Client.Counters[PptpControlDropReason.UnknownCallId]);
        Assert.Equal(sentBefore, pair.ServerHost.Sent.Count);
        Assert.Equal(PptpControlState.Established, pair.Server.State);
    }

    [Fact]
    public void Wan_error_notify_is_recorded()
    {
        var pair = new BackToBack();
        pair.Establish();
        var call = pair.PlaceCall();
        pair.Client.OnBytesReceived(PptpControlCodec.Encode(new WanErrorNotify { PeerCallId = call.LocalCallId, CrcErrors = 9 }));
        Assert.Equal(9u, call.LastWanError!.CrcErrors);
        Assert.Contains("wan-error", pair.ClientHost.Events);
    }

    [Fact]
    public void Messages_not_allowed_in_state_have_defined_outcomes()
    {
        // Server before SCCRQ: anything else is a protocol violation and closes the connection.
        var time = new FakeTimeProvider();
        var host = new RecordingHost();
        var server = new PptpControlConnection(PptpControlRole.Server, new PptpControlOptions { RandomFill = SeededRandom.Create(0) }, host, time);
        server.Start();
        server.OnBytesReceived(PptpControlCodec.Encode(new OutgoingCallRequest { CallId = 1 }));
        Assert.Equal(PptpTeardownReason.ProtocolViolation, server.TeardownReason);
        Assert.True(host.TransportClosed);
        Assert.Empty(host.Sent);

        // Established: SCCRQ / SCCRP / Stop-Reply are dropped and counted; wrong-role OCRP likewise.
        var pair = new BackToBack();
        pair.Establish();
        pair.Server.OnBytesReceived(PptpControlCodec.Encode(new StartControlConnectionRequest()));
        pair.Server.OnBytesReceived(PptpControlCodec.Encode(new StopControlConnectionReply()));
        pair.Client.OnBytesReceived(PptpControlCodec.Encode(new StartControlConnectionReply()));
        pair.Server.OnBytesReceived(PptpControlCodec.Encode(new OutgoingCallReply()));
        Assert.Equal(2, pair.Server.Counters[PptpControlDropReason.UnexpectedInState]);
        Assert.Equal(1, pair.Server.Counters[PptpControlDropReason.WrongRole]);
        Assert.Equal(1, pair.Client.Counters[PptpControlDropReason.UnexpectedInState]);
        Assert.Equal(PptpControlState.Established, pair.Server.State);

        // Client before SCCRP: an echo request is dropped, the wait goes on.
        var clientHost = new RecordingHost();
        var client = new PptpControlConnection(PptpControlRole.Client, new PptpControlOptions { RandomFill = SeededRandom.Create(0) }, clientHost, time);
        client.Start();
        client.OnBytesReceived(PptpControlCodec.Encode(new EchoRequest()));
        Assert.Equal(PptpControlState.WaitControlReply, client.State);
        Assert.Equal(1, client.Counters[PptpControlDropReason.UnexpectedInState]);
    }

    [Fact]
    public void Malformed_and_unknown_messages_are_dropped_but_framing_errors_are_fatal()
    {
        var pair = new BackToBack();
        pair.Establish();
        var unknown = PptpControlCodec.Encode(new EchoRequest());
        unknown[9] = 99;
        pair.Server.OnBytesReceived(unknown);
        var shortEcho = PptpControlCodec.Encode(new EchoReply()).AsSpan(0, 16).ToArray();
        shortEcho[1] = 16;
        pair.Server.OnBytesReceived(shortEcho);
        Assert.Equal(1, pair.Server.Counters[PptpControlDropReason.UnknownMessageType]);
        Assert.Equal(1, pair.Server.Counters[PptpControlDropReason.Malformed]);
        Assert.Equal(PptpControlState.Established, pair.Server.State);

        var badCookie = PptpControlCodec.Encode(new EchoRequest());
        badCookie[4] = 0;
        pair.Server.OnBytesReceived(badCookie);
        Assert.Equal(PptpTeardownReason.FramingError, pair.Server.TeardownReason);
        Assert.True(pair.ServerHost.TransportClosed);
    }

    [Fact]
    public void Old_protocol_version_is_refused_with_result_5()
    {
        var time = new FakeTimeProvider();
        var host = new RecordingHost();
        var server = new PptpControlConnection(PptpControlRole.Server, new PptpControlOptions { RandomFill = SeededRandom.Create(0) }, host, time);
        server.Start();
        server.OnBytesReceived(PptpControlCodec.Encode(new StartControlConnectionRequest { ProtocolVersion = 0x00FF }));
        Assert.Equal(StartControlResult.ProtocolVersionNotSupported, host.LastSent<StartControlConnectionReply>().ResultCode);
        Assert.Equal(PptpTeardownReason.VersionNotSupported, server.TeardownReason);

        // A newer version is answered with ours (RFC 2637 section 3.1.2).
        var host2 = new RecordingHost();
        var server2 = new PptpControlConnection(PptpControlRole.Server, new PptpControlOptions { RandomFill = SeededRandom.Create(0) }, host2, time);
        server2.OnBytesReceived(PptpControlCodec.Encode(new StartControlConnectionRequest { ProtocolVersion = 0x0200 }));
        Assert.Equal(0x0100, host2.LastSent<StartControlConnectionReply>().ProtocolVersion);
        Assert.Equal(PptpControlState.Established, server2.State);
    }

    [Fact]
    public void Client_seeing_an_old_version_in_the_reply_sends_stop_protocol()
    {
        var time = new FakeTimeProvider();
        var host = new RecordingHost();
        var client = new PptpControlConnection(PptpControlRole.Client, new PptpControlOptions { RandomFill = SeededRandom.Create(0) }, host, time);
        client.Start();
        client.OnBytesReceived(PptpControlCodec.Encode(new StartControlConnectionReply { ProtocolVersion = 0x0001 }));
        Assert.Equal(StopControlReason.StopProtocol, host.LastSent<StopControlConnectionRequest>().Reason);
        client.OnBytesReceived(PptpControlCodec.Encode(new StopControlConnectionReply()));
        Assert.Equal(PptpTeardownReason.VersionNotSupported, client.TeardownReason);
    }

    [Fact]
    public void Rejected_start_closes_with_the_peer_result()
    {
        var time = new FakeTimeProvider();
        var host = new RecordingHost();
        var client = new PptpControlConnection(PptpControlRole.Client, new PptpControlOptions { RandomFill = SeededRandom.Create(0) }, host, time);
        client.Start();
        client.OnBytesReceived(PptpControlCodec.Encode(new StartControlConnectionReply { ResultCode = StartControlResult.NotAuthorized }));
        Assert.Equal(PptpTeardownReason.StartRejected, client.TeardownReason);
        Assert.Equal(StartControlResult.NotAuthorized, client.PeerStartResult);
    }

    /// <summary>pptpd's quirks: capabilities 0, one channel, call ID 0, and TCP closed instead of a CDN.</summary>
    [Fact]
    public void Client_accepts_pptpd_behaviour()
    {
        var time = new FakeTimeProvider();
        var host = new RecordingHost();
        var client = new PptpControlConnection(PptpControlRole.Client, new PptpControlOptions { RandomFill = SeededRandom.Create(9) }, host, time);
        client.Start();
        client.OnBytesReceived(TestHex.Parse("""
            009c 0001 1a2b3c4d 0002 0000 0100 01 00 00000000 00000000 0001 0001
            """ + TestHex.Field("6c6f63616c", 64) + TestHex.Field("6c696e7578", 64)));
        Assert.Equal(PptpControlState.Established, client.State);
        Assert.Equal(new PptpPeerInfo(0x0100, 0, 0, 1, 1, "local", "linux"), client.Peer);

        Assert.True(client.TryPlaceCall(out var call));
        Assert.False(client.TryPlaceCall(out _)); // pptpd said one channel
        client.OnBytesReceived(PptpControlCodec.Encode(new OutgoingCallReply
        {
            CallId = 0,
            PeerCallId = call!.LocalCallId,
            ResultCode = OutgoingCallResult.Connected,
            ConnectSpeed = 100_000_000,
            PacketReceiveWindowSize = 64,
        }));
        Assert.Equal(PptpCallState.Established, call.State);
        Assert.Equal(0, call.PeerCallId);

        client.ClearCall(call);
        client.OnTransportClosed();
        Assert.Equal(PptpCallClearReason.ClearedLocally, call.ClearReason);
        Assert.Equal(PptpTeardownReason.TransportClosed, client.TeardownReason);
    }

    [Fact]
    public void Call_ids_come_from_the_injected_source_and_are_unique()
    {
        // A source that always yields the same two bytes: the second call must still get a distinct ID.
        var options = new PptpControlOptions { RandomFill = span => span.Fill(0x42) };
        var pair = new BackToBack(clientOptions: options);
        pair.Establish();
        var first = pair.PlaceCall();
        var second = pair.PlaceCall();
        Assert.Equal(0x4242, first.LocalCallId);
        Assert.NotEqual(first.LocalCallId, second.LocalCallId);
    }

    [Fact]
    public void Disconnect_timeout_clears_a_call_whose_cdn_never_comes()
    {
        var pair = new BackToBack();
        pair.Establish();
        var call = pair.PlaceCall();
        pair.DropServerToClient = true;
        pair.Client.ClearCall(call);
        pair.Pump();
        pair.Time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(PptpCallClearReason.DisconnectTimeout, call.ClearReason);
    }

    [Theory]
    [InlineData("192.33.45.89", "192.33.45.17", true)]
    [InlineData("192.33.45.17", "192.33.45.89", false)]
    [InlineData("10.0.0.1", "10.0.0.1", false)]
    [InlineData("200.0.0.1", "10.255.255.255", true)]
    [InlineData("::ffff:10.0.0.2", "10.0.0.1", true)]
    public void Collision_winner_is_the_higher_address(string local, string peer, bool localWins) =>
        Assert.Equal(localWins, PptpCollision.LocalWins(IPAddress.Parse(local), IPAddress.Parse(peer)));

    [Fact]
    public void Simultaneous_start_requests_leave_one_connection()
    {
        // Host A (10.0.0.2, the winner) and host B (10.0.0.1) dial each other at once: A1->B2 and B1->A2.
        var time = new FakeTimeProvider();
        var a = DeBackToBackPair(time, "10.0.0.2", "10.0.0.1", 11);
        var b = DeBackToBackPair(time, "10.0.0.1", "10.0.0.2", 12);
        a.ServerHost.Colliding = a.Client;
        b.ServerHost.Colliding = b.Client;

        a.Client.Start();
        b.Client.Start();
        a.Server.Start();
        b.Server.Start();
        PumpCross(a, b);

        Assert.Equal(PptpControlState.Established, a.Client.State);   // winner's own connection survives
        Assert.Equal(PptpControlState.Established, b.Server.State);   // loser answered it
        Assert.Equal(PptpTeardownReason.Collision, b.Client.TeardownReason);
        Assert.Equal(PptpTeardownReason.Collision, a.Server.TeardownReason);
        Assert.Empty(a.ServerHost.Sent); // the winner said nothing on the loser's connection
    }

    [Fact]
    public void Winner_stays_silent_until_the_loser_closes_or_the_start_timeout()
    {
        var time = new FakeTimeProvider();
        var a = DeBackToBackPair(time, "10.0.0.2", "10.0.0.1", 13);
        a.ServerHost.Colliding = a.Client;
        a.Client.Start();
        a.Server.Start();
        a.Server.OnBytesReceived(PptpControlCodec.Encode(new StartControlConnectionRequest()));
        Assert.Empty(a.ServerHost.Sent);
        a.Server.OnBytesReceived(PptpControlCodec.Encode(new EchoRequest()));
        Assert.Empty(a.ServerHost.Sent);
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(PptpTeardownReason.Collision, a.Server.TeardownReason);
    }

    [Fact]
    public void Second_connection_from_an_established_peer_gets_command_channel_exists()
    {
        var time = new FakeTimeProvider();
        var b = DeBackToBackPair(time, "10.0.0.1", "10.0.0.2", 14);
        b.Client.Start();
        b.Client.OnBytesReceived(PptpControlCodec.Encode(new StartControlConnectionReply()));
        b.ServerHost.Colliding = b.Client;
        b.Server.OnBytesReceived(PptpControlCodec.Encode(new StartControlConnectionRequest()));
        Assert.Equal(StartControlResult.CommandChannelExists, b.ServerHost.LastSent<StartControlConnectionReply>().ResultCode);
        Assert.Equal(PptpTeardownReason.Collision, b.Server.TeardownReason);
        Assert.Equal(PptpControlState.Established, b.Client.State);
    }

    private static (PptpControlConnection Client, RecordingHost ClientHost, PptpControlConnection Server, RecordingHost ServerHost)
        DeBackToBackPair(FakeTimeProvider time, string local, string peer, int seed)
    {
        var options = new PptpControlOptions
        {
            LocalAddress = IPAddress.Parse(local),
            PeerAddress = IPAddress.Parse(peer),
            RandomFill = SeededRandom.Create(seed),
        };
        var clientHost = new RecordingHost();
        var serverHost = new RecordingHost();
        var client = new PptpControlConnection(PptpControlRole.Client, options, clientHost, time);
        var server = new PptpControlConnection(PptpControlRole.Server, options, serverHost, time);
        return (client, clientHost, server, serverHost);
    }

    private static void PumpCross(
        (PptpControlConnection Client, RecordingHost ClientHost, PptpControlConnection Server, RecordingHost ServerHost) a,
        (PptpControlConnection Client, RecordingHost ClientHost, PptpControlConnection Server, RecordingHost ServerHost) b)
    {
        // Wires: a.Client <-> b.Server and b.Client <-> a.Server; a closed end is seen by the other end.
        var links = new[]
        {
            (FromHost: a.ClientHost, To: b.Server, ToHost: b.ServerHost),
            (FromHost: b.ServerHost, To: a.Client, ToHost: a.ClientHost),
            (FromHost: b.ClientHost, To: a.Server, ToHost: a.ServerHost),
            (FromHost: a.ServerHost, To: b.Client, ToHost: b.ClientHost),
        };
        for (var moved = true; moved;)
        {
            moved = false;
            foreach (var (fromHost, to, toHost) in links)
            {
                if (fromHost.Outbound.TryDequeue(out var bytes))
                {
                    to.OnBytesReceived(bytes);
                    moved = true;
                }
                else if (fromHost.TransportClosed && !toHost.TransportClosed)
                {
                    toHost.TransportClosed = true;
                    to.OnTransportClosed();
                    moved = true;
                }
            }
        }
    }
}
