using Firmware.Protocol.Auth;
using Firmware.Protocol.Ccp;
using Firmware.Protocol.Mppe;
using Firmware.Protocol.Ppp;
using Firmware.Protocol.Tests.Ppp;

namespace Firmware.Protocol.Tests.Ccp;

/// <summary>Two real sessions (MS-CHAP + CCP/MPPE) back to back: negotiation, data both ways, loss, policy failures.</summary>
public sealed class MppeSessionTests
{
    private static MppeNegotiationPolicy Only(int bits, bool stateless, bool required = true) => new()
    {
        Required = required,
        Allow40 = bits == 40,
        Allow56 = bits == 56,
        Allow128 = bits == 128,
        AllowStateless = stateless,
        AllowStateful = !stateless,
        PreferStateless = stateless,
    };

    private static void AssertTraffic(MppeLink link, int count, int firstIndex = 0)
    {
        var serverBefore = link.ServerOut.Delivered.Count;
        var clientBefore = link.ClientOut.Delivered.Count;
        for (var i = firstIndex; i < firstIndex + count; i++)
        {
            Assert.True(MppeLink.Send(link.Client, MppeLink.Packet(i, fromClient: true)));
            Assert.True(MppeLink.Send(link.Server, MppeLink.Packet(i, fromClient: false)));
        }

        link.Pump();
        Assert.Equal(count, link.ServerOut.Delivered.Count - serverBefore);
        Assert.Equal(count, link.ClientOut.Delivered.Count - clientBefore);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(MppeLink.Packet(firstIndex + i, fromClient: true), link.ServerOut.Delivered[serverBefore + i].Packet);
            Assert.Equal(MppeLink.Packet(firstIndex + i, fromClient: false), link.ClientOut.Delivered[clientBefore + i].Packet);
        }
    }

    /// <summary>The client sends packets <paramref name="first"/> onwards; the <paramref name="lost"/>th frame is lost, the rest reach the server.</summary>
    private static void ClientSendsLosingOne(MppeLink link, int first, int count, int lost)
    {
        for (var i = first; i < first + count; i++)
        {
            Assert.True(MppeLink.Send(link.Client, MppeLink.Packet(i, fromClient: true)));
        }

        var frames = MppeLink.Drain(link.ClientOut);
        frames.RemoveAt(lost);
        frames.ForEach(f => link.Server.ReceiveFrame(f));
    }

    private static void AssertEncryptedWire(MppeLink link)
    {
        // Frames are decrypted in place on delivery, so look at them while still queued.
        var plain = MppeLink.Packet(7, fromClient: true);
        Assert.True(MppeLink.Send(link.Client, plain));
        Assert.True(MppeLink.Send(link.Client, MppeLink.Packet(8, fromClient: true)));
        var frames = link.ClientOut.Sent.ToList();
        Assert.Equal(2, frames.Count);
        foreach (var frame in frames)
        {
            Assert.True(PppFrame.TryDecode(frame, out var protocol, out var payload));
            Assert.Equal(PppProtocol.CompressedDatagram, protocol);
            Assert.Equal(MppeHeader.EncryptedBit, MppeHeader.Bits(payload) & MppeHeader.EncryptedBit);
            Assert.False(payload.IndexOf(plain.AsSpan(6, 20)) >= 0, "plaintext visible on the wire");
        }
    }

    [Theory]
    [InlineData(40, true)]
    [InlineData(40, false)]
    [InlineData(56, true)]
    [InlineData(56, false)]
    [InlineData(128, true)]
    [InlineData(128, false)]
    public void Every_strength_and_mode_carries_IP_both_ways(int bits, bool stateless)
    {
        using var link = new MppeLink(Only(bits, stateless), Only(bits, stateless));
        link.Start();

        var expected = $"MPPE-{bits} {(stateless ? "stateless" : "stateful")}";
        Assert.Equal(expected, link.ServerLayer!.Description);
        Assert.Equal(expected, link.ClientLayer!.Description);
        Assert.Equal(expected, link.ServerOut.ReasonOf(PppSessionEventKind.EncryptionUp));
        Assert.Equal(expected, link.ClientOut.ReasonOf(PppSessionEventKind.EncryptionUp));
        Assert.True(link.Server.Negotiated.EncryptionUp);
        Assert.True(link.Client.Negotiated.Ipv4Up);

        AssertTraffic(link, 50);
        AssertEncryptedWire(link);
        link.Pump();
        Assert.Equal(50, link.ServerLayer.PacketsEncrypted);
        Assert.Equal(52, link.ServerLayer.PacketsDecrypted);
        Assert.Equal(0, link.ServerLayer.TotalDroppedPackets);
    }

    [Fact]
    public void Default_policies_agree_on_128_bit_stateless_before_IPCP()
    {
        using var link = new MppeLink(MppeNegotiationPolicy.Default, MppeNegotiationPolicy.Default);
        link.Start();

        Assert.Equal(new MppeAgreement(MppeKeyStrength.Bits128, true), link.ServerLayer!.Agreement);
        Assert.Equal(new MppeAgreement(MppeKeyStrength.Bits128, true), link.ClientLayer!.Agreement);
        var events = link.ClientOut.Events;
        var encryptionUp = events.FindIndex(e => e.Kind == PppSessionEventKind.EncryptionUp);
        var ipUp = events.FindIndex(e => e.Kind == PppSessionEventKind.NetworkUp && e.Protocol == PppProtocol.Ipcp);
        Assert.InRange(encryptionUp, 0, ipUp - 1);
        AssertTraffic(link, 5);
    }

    [Theory]
    [InlineData(true, false, false)]   // server prefers stateless, client allows only stateful: stateful
    [InlineData(false, true, false)]   // server prefers stateful, client prefers stateless, both allow both: the server decides
    [InlineData(true, true, true)]
    public void Mode_converges_to_one_value_both_ways(bool serverPrefersStateless, bool clientStateless, bool expectStateless)
    {
        var server = MppeNegotiationPolicy.Default with { PreferStateless = serverPrefersStateless };
        var client = serverPrefersStateless && !clientStateless
            ? MppeNegotiationPolicy.Default with { AllowStateless = false, PreferStateless = false }
            : MppeNegotiationPolicy.Default with { PreferStateless = clientStateless };
        using var link = new MppeLink(server, client);
        link.Start();

        Assert.Equal(expectStateless, link.ServerLayer!.Agreement!.Stateless);
        Assert.Equal(expectStateless, link.ClientLayer!.Agreement!.Stateless);
        AssertTraffic(link, 10);
    }

    [Fact]
    public void Key_length_is_the_strongest_both_allow()
    {
        var server = MppeNegotiationPolicy.Default with { Allow40 = true, Allow128 = true };
        var client = MppeNegotiationPolicy.Default with { Allow40 = true, Allow56 = true, Allow128 = false };
        using var link = new MppeLink(server, client);
        link.Start();

        Assert.Equal(MppeKeyStrength.Bits40, link.ServerLayer!.Agreement!.Strength);
        Assert.Equal(MppeKeyStrength.Bits40, link.ClientLayer!.Agreement!.Strength);
        AssertTraffic(link, 10);
    }

    [Fact]
    public void MsChapV1_with_MPPE_128_works_end_to_end()
    {
        using var link = new MppeLink(MppeNegotiationPolicy.Default, MppeNegotiationPolicy.Default, AuthMethod.MsChapV1);
        link.Start();

        Assert.Equal(AuthMethod.MsChapV1, link.Server.Negotiated.AuthenticatorMethod);
        Assert.Equal("MPPE-128 stateless", link.ServerLayer!.Description);
        AssertTraffic(link, 20);
    }

    [Fact]
    public void Stateless_survives_loss_and_reordering()
    {
        using var link = new MppeLink(Only(128, true), Only(128, true));
        link.Start();

        const int count = 300;
        for (var i = 0; i < count; i++)
        {
            Assert.True(MppeLink.Send(link.Client, MppeLink.Packet(i, fromClient: true)));
        }

        var frames = MppeLink.Drain(link.ClientOut);
        var random = new Random(7);
        var kept = frames.Where(_ => random.Next(5) != 0).ToList();
        for (var i = 0; i + 1 < kept.Count; i += 2 + random.Next(3))
        {
            // Swap neighbours, sometimes a few apart: well inside the 64-count reorder window.
            var j = Math.Min(kept.Count - 1, i + 1 + random.Next(6));
            (kept[i], kept[j]) = (kept[j], kept[i]);
        }

        foreach (var frame in kept)
        {
            link.Server.ReceiveFrame(frame);
        }

        link.Pump();
        Assert.Equal(kept.Count, link.ServerOut.Delivered.Count);
        var sent = Enumerable.Range(0, count).Select(i => MppeLink.Packet(i, fromClient: true)).ToList();
        Assert.All(link.ServerOut.Delivered, d => Assert.Contains(sent, s => s.AsSpan().SequenceEqual(d.Packet)));
        Assert.Equal(0, link.ServerLayer!.ResetRequestsSent);

        // A replayed frame is refused and counted.
        link.Server.ReceiveFrame(kept[^1]);
        Assert.Equal(kept.Count, link.ServerOut.Delivered.Count);
        Assert.Equal(1, link.ServerLayer.DroppedPackets(MppeDropReason.Replayed));
        AssertTraffic(link, 10, firstIndex: count);
    }

    [Fact]
    public void Stateful_loss_resynchronises_with_Reset_Request_and_Reset_Ack()
    {
        using var link = new MppeLink(Only(128, false), Only(128, false));
        link.Start();

        ClientSendsLosingOne(link, first: 0, count: 10, lost: 3);

        // 0..2 decrypt; 4 reveals the gap; the rest wait for the flush.
        Assert.Equal(3, link.ServerOut.Delivered.Count);
        Assert.Equal(1, link.ServerLayer!.DroppedPackets(MppeDropReason.PacketLoss));
        Assert.Equal(5, link.ServerLayer.DroppedPackets(MppeDropReason.AwaitingFlush));
        Assert.Equal(1, link.ServerLayer.ResetRequestsSent);
        var resetRequest = Assert.Single(link.ServerOut.Sent);
        Assert.True(PppFrame.TryDecode(resetRequest, out var protocol, out var payload));
        Assert.Equal(PppProtocol.Ccp, protocol);
        Assert.Equal((byte)PppCode.ResetRequest, payload[0]);

        link.Pump();
        Assert.Equal(1, link.ClientLayer!.ResetRequestsReceived);
        Assert.Equal(1, link.ServerLayer.Ccp.ResetAcksReceived);

        AssertTraffic(link, 20, firstIndex: 10);

        // The repeat timer finds the receiver in sync and stays quiet.
        link.Run(TimeSpan.FromSeconds(10));
        Assert.Equal(1, link.ServerLayer.ResetRequestsSent);
    }

    [Fact]
    public void Stateful_reordering_and_a_lost_Reset_Ack_recover()
    {
        using var link = new MppeLink(Only(56, false), Only(56, false));
        link.Start();

        for (var i = 0; i < 6; i++)
        {
            Assert.True(MppeLink.Send(link.Server, MppeLink.Packet(i, fromClient: false)));
        }

        var frames = MppeLink.Drain(link.ServerOut);
        (frames[2], frames[3]) = (frames[3], frames[2]);
        foreach (var frame in frames)
        {
            link.Client.ReceiveFrame(frame);
        }

        Assert.Equal(2, link.ClientOut.Delivered.Count);
        Assert.Equal(1, link.ClientLayer!.ResetRequestsSent);

        // Lose the Reset-Request: it is repeated (every second) while the client still waits for a flush.
        link.ClientOut.Sent.Clear();
        link.Run(TimeSpan.FromSeconds(4));
        Assert.True(link.ClientLayer.ResetRequestsSent >= 2);
        Assert.InRange(link.ServerLayer!.ResetRequestsReceived, 1, link.ClientLayer.ResetRequestsSent - 1);

        AssertTraffic(link, 10, firstIndex: 100);
    }

    [Fact]
    public void Stateful_the_lost_answer_to_a_Reset_Request_is_recovered_by_the_repeat_without_a_key_lost()
    {
        using var link = new MppeLink(Only(128, false), Only(128, false));
        link.Start();
        ClientSendsLosingOne(link, first: 0, count: 6, lost: 2);
        Assert.Equal(1, link.ServerLayer!.ResetRequestsSent);
        link.Pump(); // the Reset-Request reaches the client, its Reset-Ack comes back

        // The client's flushed answer (its next packet) is lost; what follows waits for a flush.
        ClientSendsLosingOne(link, first: 10, count: 5, lost: 0);
        Assert.Equal(2, link.ServerOut.Delivered.Count);

        // The repeated Reset-Request makes the client answer again. Both answers are flag packets, so the one we
        // lost is a missed flag packet we count: no key search is needed (a Linux sender needs one; see MppeCipherTests).
        link.Run(TimeSpan.FromSeconds(4));
        Assert.True(link.ServerLayer.ResetRequestsSent >= 2);
        AssertTraffic(link, 20, firstIndex: 100);
        Assert.Equal(0, link.ServerLayer.KeySearchRecoveries);
        Assert.Equal(0, link.ServerLayer.DroppedPackets(MppeDropReason.Undecryptable));
        Assert.Equal(PppPhase.Network, link.Server.Phase);
    }

    [Fact]
    public void Stateful_a_flush_lost_after_the_repeats_ran_out_is_asked_for_again_by_the_next_packet()
    {
        // What an interop run through 2 % loss showed (2026-12-03): the peer's TCP backed off for longer than our
        // repeats last, so every Reset-Request was acknowledged while it sent nothing; its flushed packet, when it
        // came, was lost; and every packet after it was dropped waiting for a flush nobody asked for any more.
        using var link = new MppeLink(Only(128, false), Only(128, false));
        link.Start();
        ClientSendsLosingOne(link, first: 0, count: 6, lost: 2);

        // The client is silent while the repeats run out (each answered with a Reset-Ack).
        link.Run(TimeSpan.FromSeconds(30));
        var sentWhileSilent = link.ServerLayer!.ResetRequestsSent;
        Assert.True(sentWhileSilent >= 2);
        link.Run(TimeSpan.FromSeconds(10));
        Assert.Equal(sentWhileSilent, link.ServerLayer.ResetRequestsSent);

        // Its flushed packet is lost; the next one finds the server still waiting and asks again at once.
        ClientSendsLosingOne(link, first: 10, count: 3, lost: 0);
        Assert.Equal(sentWhileSilent + 1, link.ServerLayer.ResetRequestsSent);

        link.Pump();
        AssertTraffic(link, 20, firstIndex: 100);
        Assert.Equal(PppPhase.Network, link.Server.Phase);
    }

    /// <summary>An LCP Protocol-Reject from the client of a protocol nobody sends: what pppd does with garbage.</summary>
    private static byte[] GarbageProtocolReject(byte identifier) =>
        [0xC0, 0x21, (byte)PppCode.ProtocolReject, identifier, 0, 10, 0x3A, 0x7C, 0xDE, 0xAD, 0xBE, 0xEF];

    [Fact]
    public void Stateful_a_peer_rejecting_garbage_gets_a_held_key_and_after_three_holds_in_a_row_the_link_ends()
    {
        using var link = new MppeLink(Only(128, false), Only(128, false));
        link.Start();
        AssertTraffic(link, 5);

        link.Server.ReceiveFrame(GarbageProtocolReject(1));
        Assert.Equal(1, link.ServerLayer!.KeyHoldsSent);
        // Rejects within a restart interval are for packets sent before the hold.
        link.Server.ReceiveFrame(GarbageProtocolReject(2));
        Assert.Equal(1, link.ServerLayer.KeyHoldsSent);

        // Our own client was not one key behind: it takes the held flag packet with the key it had (a sender's
        // hold is one of the keys it tries), and the traffic goes on.
        AssertTraffic(link, 10, firstIndex: 300);
        Assert.Equal(0, link.ClientLayer!.DroppedPackets(MppeDropReason.Undecryptable));

        // Rejects that keep coming with no Reset-Request from the peer in between (its resync would start a new
        // count): three holds in a row, then the link is given up with the reason.
        for (byte identifier = 3; identifier <= 4; identifier++)
        {
            link.Run(TimeSpan.FromSeconds(4));
            link.Server.ReceiveFrame(GarbageProtocolReject(identifier));
        }
        Assert.Equal(3, link.ServerLayer.KeyHoldsSent);
        Assert.Equal(PppPhase.Network, link.Server.Phase);
        link.Run(TimeSpan.FromSeconds(4));
        link.Server.ReceiveFrame(GarbageProtocolReject(5));
        link.Pump();
        Assert.Contains(link.ServerOut.Events, e => e.Kind == PppSessionEventKind.NetworkDown && (e.Reason ?? "").Contains("cannot decrypt our packets", StringComparison.Ordinal));
        Assert.NotEqual(PppPhase.Network, link.Server.Phase);
    }

    [Fact]
    public void Stateful_garbage_for_longer_than_four_restart_intervals_ends_the_link_with_a_reason()
    {
        using var link = new MppeLink(Only(128, false), Only(128, false));
        link.Start();
        AssertTraffic(link, 5);
        var random = new Random(3079);
        var count = 5;
        for (var second = 0; second < 15 && link.Server.Phase == PppPhase.Network; second++)
        {
            // Flushed frames with the next counts that decrypt to garbage with every key (what a peer sends
            // whose keys went their own way); the client sends no data, so no flush of its own resyncs us.
            var frame = new byte[2 + 2 + 40];
            random.NextBytes(frame);
            frame[0] = 0x00;
            frame[1] = 0xFD;
            MppeHeader.Write(frame.AsSpan(2), MppeHeader.EncryptedBit | MppeHeader.FlushedBit, count++ & 0x0FFF);
            link.Server.ReceiveFrame(frame);
            link.Run(TimeSpan.FromSeconds(1));
        }
        // The session reports the reason as the link goes down (what the log, the status and the LED show).
        Assert.Contains("stateful MPPE lost sync with the peer", link.ServerOut.ReasonOf(PppSessionEventKind.LinkDown) ?? "", StringComparison.Ordinal);
        Assert.NotEqual(PppPhase.Network, link.Server.Phase);
        Assert.True(link.ServerLayer!.ResetRequestsSent >= 2);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Coherency_count_wraps_in_both_directions(bool stateless)
    {
        using var link = new MppeLink(Only(128, stateless), Only(128, stateless));
        link.Start();

        AssertTraffic(link, 4096 + 300);
        Assert.Equal(4396, link.ClientLayer!.PacketsDecrypted);
        Assert.Equal(0, link.ClientLayer.TotalDroppedPackets);
        Assert.Equal(0, link.ServerLayer!.TotalDroppedPackets);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CCP_renegotiated_on_an_open_link_closes_it_instead_of_reusing_the_key_stream(bool stateless)
    {
        using var link = new MppeLink(Only(128, stateless), Only(128, stateless));
        link.Start();
        AssertTraffic(link, 5);

        // The client's CCP renegotiates (as pppd does when its CCP restarts): a new Configure-Request on an
        // open link. Start keys depend only on the authentication, so new ciphers would start over at count 0.
        link.ClientLayer!.Ccp.Automaton.Down();
        link.ClientLayer.Ccp.Automaton.Up();
        link.Run(TimeSpan.FromSeconds(5));
        for (var i = 0; i < 5; i++)
        {
            MppeLink.Send(link.Client, MppeLink.Packet(100 + i, fromClient: true));
            MppeLink.Send(link.Server, MppeLink.Packet(100 + i, fromClient: false));
        }
        link.Pump();

        // No two encrypted frames of one sender ever share a coherency count (same count, same key stream).
        foreach (var output in new[] { link.ClientOut, link.ServerOut })
        {
            var counts = output.AllSent
                .Where(f => PppFrame.TryDecode(f, out var protocol, out _) && protocol == PppProtocol.CompressedDatagram)
                .Select(f => PppFrame.TryDecode(f, out _, out var payload) ? MppeHeader.CoherencyCount(payload) : -1)
                .ToList();
            Assert.NotEmpty(counts);
            Assert.Equal(counts.Count, counts.Distinct().Count());
        }
        Assert.Contains("reuse its key stream", link.ClientOut.ReasonOf(PppSessionEventKind.LinkDown) ?? link.Client.LastReason ?? "", StringComparison.Ordinal);
        Assert.NotEqual(PppPhase.Network, link.Client.Phase);
        Assert.NotEqual(PppPhase.Network, link.Server.Phase);
    }

    [Fact]
    public void Plain_IP_is_dropped_once_MPPE_is_up_even_when_not_required()
    {
        var policy = MppeNegotiationPolicy.Default with { Required = false };
        using var link = new MppeLink(policy, policy);
        link.Start();
        Assert.Equal("MPPE-128 stateless", link.ServerLayer!.Description);

        var dropsBefore = link.Server.DroppedFrames;
        link.Server.ReceiveFrame([0x00, 0x21, .. MppeLink.Packet(1, fromClient: true)]);
        Assert.Empty(link.ServerOut.Delivered);
        Assert.Equal(dropsBefore + 1, link.Server.DroppedFrames);
        AssertTraffic(link, 3);
    }

    [Fact]
    public void Server_requiring_128_and_client_allowing_only_40_both_fail_with_reasons()
    {
        using var link = new MppeLink(Only(128, true), Only(40, true));
        link.Start();
        link.Run(TimeSpan.FromSeconds(30));

        const string serverReason = "peer offers only 40-bit MPPE, 128-bit required";
        const string clientReason = "peer offers only 128-bit MPPE, 40-bit required";
        Assert.Equal(serverReason, link.ServerLayer!.FailureReason);
        Assert.Equal(clientReason, link.ClientLayer!.FailureReason);
        Assert.Contains(link.ServerOut.Events, e => e.Kind == PppSessionEventKind.NetworkDown && e.Reason == serverReason);
        Assert.Contains(link.ClientOut.Events, e => e.Kind == PppSessionEventKind.NetworkDown && e.Reason == clientReason);
        Assert.Equal(PppPhase.Dead, link.Server.Phase);
        Assert.Equal(PppPhase.Dead, link.Client.Phase);
        Assert.DoesNotContain(link.ServerOut.Events, e => e.Kind == PppSessionEventKind.EncryptionUp);
        Assert.False(link.Server.Negotiated.Ipv4Up);
        Assert.False(MppeLink.Send(link.Client, MppeLink.Packet(1, fromClient: true)));
    }

    [Fact]
    public void Stateless_only_against_stateful_only_fails_on_both_sides()
    {
        using var link = new MppeLink(Only(128, true), Only(128, false));
        link.Start();
        link.Run(TimeSpan.FromSeconds(30));

        Assert.Equal("peer requires stateful MPPE, only stateless allowed", link.ServerLayer!.FailureReason);
        Assert.Equal("peer requires stateless MPPE, only stateful allowed", link.ClientLayer!.FailureReason);
        Assert.Equal(PppPhase.Dead, link.Server.Phase);
        Assert.Equal(PppPhase.Dead, link.Client.Phase);
        Assert.False(link.Client.Negotiated.Ipv4Up);
    }

    [Fact]
    public void Client_requiring_MPPE_against_a_server_without_CCP_fails()
    {
        using var link = new MppeLink(serverPolicy: null, MppeNegotiationPolicy.Default);
        link.Start();
        link.Run(TimeSpan.FromSeconds(30));

        Assert.Equal("peer does not support CCP (Protocol-Reject); MPPE required", link.ClientLayer!.FailureReason);
        Assert.Contains(link.ClientOut.Events, e => e.Reason == link.ClientLayer.FailureReason);
        Assert.Equal(PppPhase.Dead, link.Client.Phase);
        Assert.Equal(PppPhase.Dead, link.Server.Phase);
        Assert.False(link.Server.Negotiated.Ipv4Up);
    }

    [Fact]
    public void Client_not_requiring_MPPE_against_a_server_without_CCP_runs_unencrypted()
    {
        using var link = new MppeLink(serverPolicy: null, MppeNegotiationPolicy.Default with { Required = false });
        link.Start();

        Assert.True(link.Client.Negotiated.Ipv4Up);
        Assert.False(link.Client.Negotiated.EncryptionUp);
        Assert.Null(link.ClientLayer!.Transform);
        Assert.True(MppeLink.Send(link.Client, MppeLink.Packet(1, fromClient: true)));
        link.Pump();
        Assert.Single(link.ServerOut.Delivered);
    }

    [Fact]
    public void PAP_with_required_MPPE_fails_with_a_clear_reason()
    {
        using var link = new MppeLink(MppeNegotiationPolicy.Default, MppeNegotiationPolicy.Default, AuthMethod.Pap);
        link.Start();
        link.Run(TimeSpan.FromSeconds(30));

        const string reason = "MPPE requires MS-CHAP authentication (negotiated PAP)";
        Assert.Equal(reason, link.ServerLayer!.FailureReason);
        Assert.Equal(reason, link.ClientLayer!.FailureReason);
        Assert.Contains(link.ServerOut.Events, e => e.Kind == PppSessionEventKind.NetworkDown && e.Reason == reason);
        Assert.Equal(PppPhase.Dead, link.Server.Phase);
        Assert.False(link.Server.Negotiated.Ipv4Up);
    }

    [Fact]
    public void PAP_with_optional_MPPE_runs_unencrypted_with_a_note()
    {
        var policy = MppeNegotiationPolicy.Default with { Required = false };
        using var link = new MppeLink(policy, policy, AuthMethod.Pap);
        link.Start();

        Assert.True(link.Server.Negotiated.Ipv4Up);
        Assert.False(link.Server.Negotiated.EncryptionUp);
        Assert.Equal("unencrypted: MPPE requires MS-CHAP authentication (negotiated PAP)", link.ServerLayer!.Description);
        Assert.Equal(link.ServerLayer.Description, link.ServerOut.ReasonOf(PppSessionEventKind.EncryptionUp));
        Assert.True(MppeLink.Send(link.Client, MppeLink.Packet(1, fromClient: true)));
        link.Pump();
        Assert.Equal(MppeLink.Packet(1, fromClient: true), Assert.Single(link.ServerOut.Delivered).Packet);
    }
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Random_compressed_datagrams_are_dropped_without_exceptions(bool stateless)
    {
        using var link = new MppeLink(Only(128, stateless), Only(128, stateless));
        link.Start();
        var random = new Random(3078);
        for (var i = 0; i < 2000; i++)
        {
            var frame = new byte[2 + random.Next(0, 80)];
            random.NextBytes(frame);
            frame[0] = 0x00;
            frame[1] = 0xFD;
            link.Server.ReceiveFrame(frame);
        }

        Assert.True(link.ServerLayer!.TotalDroppedPackets > 0);
        link.Run(TimeSpan.FromSeconds(5));
        Assert.Equal(PppState.Opened, link.ServerLayer.Ccp.State);
    }
}
