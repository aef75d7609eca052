using Firmware.Protocol.Ccp;
using Firmware.Protocol.Ppp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Ccp;

/// <summary>CCP on its own: the MPPE option codec, Nak/Reject handling, bad lengths, Reset-Request/Ack, fuzzing.</summary>
public sealed class CcpProtocolTests
{
    private sealed class Recorder : IPppControlOutput
    {
        public List<byte[]> Packets { get; } = [];

        public void SendControl(PppProtocol protocol, ReadOnlySpan<byte> packet)
        {
            Assert.Equal(PppProtocol.Ccp, protocol);
            Packets.Add(packet.ToArray());
        }

        public byte[] Last => Packets[^1];
    }

    private sealed class Harness : IDisposable
    {
        public Harness(MppeNegotiationPolicy? policy = null, bool isServer = true)
        {
            Ccp = new CcpProtocol(policy ?? MppeNegotiationPolicy.Default, isServer, new PppAutomatonSettings(), Time, Output);
        }

        public FakeTimeProvider Time { get; } = new();
        public Recorder Output { get; } = new();
        public CcpProtocol Ccp { get; }

        public void Start()
        {
            Ccp.Automaton.Up();
            Ccp.Automaton.Open();
        }

        /// <summary>Brings CCP to Opened: our request Acked, the peer's 128-bit stateless request Acked.</summary>
        public void Open()
        {
            Start();
            Ccp.Receive(Packet(2, Output.Packets[0][1], Output.Packets[0][4..]));
            Ccp.Receive(Packet(1, 0x33, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40));
            Assert.Equal(PppState.Opened, Ccp.State);
        }

        public void Dispose() => Ccp.Dispose();
    }

    private static byte[] Packet(byte code, byte identifier, params byte[] data)
    {
        var packet = new byte[4 + data.Length];
        PppControlPacket.Write(packet, code, identifier, data);
        return packet;
    }

    [Fact]
    public void Default_policy_requests_128_bit_stateless()
    {
        using var h = new Harness();
        h.Start();

        Assert.Equal(new byte[] { 0x01, 0x01, 0x00, 0x0A, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40 }, Assert.Single(h.Output.Packets));
    }

    [Fact]
    public void Policy_requests_every_allowed_key_length_and_no_H_when_stateful_is_preferred()
    {
        using var h = new Harness(new MppeNegotiationPolicy { Allow40 = true, Allow56 = true, PreferStateless = false });
        h.Start();

        Assert.Equal(new byte[] { 0x01, 0x01, 0x00, 0x0A, 0x12, 0x06, 0x00, 0x00, 0x00, 0xE0 }, h.Output.Last);
    }

    [Fact]
    public void Nak_is_adopted_when_allowed()
    {
        using var h = new Harness(MppeNegotiationPolicy.Default with { Allow40 = true });
        h.Start();
        Assert.Equal(new byte[] { 0x12, 0x06, 0x01, 0x00, 0x00, 0x60 }, h.Output.Last[4..]);

        // The peer wants 40-bit stateful (and MPPC, which we never take).
        h.Ccp.Receive(Packet(3, 1, 0x12, 0x06, 0x00, 0x00, 0x00, 0x21));
        Assert.Equal(new byte[] { 0x01, 0x02, 0x00, 0x0A, 0x12, 0x06, 0x00, 0x00, 0x00, 0x20 }, h.Output.Last);
    }

    [Fact]
    public void Nak_with_a_key_length_we_do_not_allow_fails_with_reason()
    {
        using var h = new Harness();
        h.Start();
        h.Ccp.Receive(Packet(3, 1, 0x12, 0x06, 0x01, 0x00, 0x00, 0x20));

        Assert.Equal(PppState.Closing, h.Ccp.State);
        Assert.Equal("peer offers only 40-bit MPPE, 128-bit required", h.Ccp.FailureReason);
        Assert.Equal((byte)PppCode.TerminateRequest, h.Output.Last[0]);
    }

    [Fact]
    public void Nak_with_a_mode_we_do_not_allow_is_tolerated_once_then_fails()
    {
        using var h = new Harness(MppeNegotiationPolicy.Default with { AllowStateful = false });
        h.Start();
        h.Ccp.Receive(Packet(3, 1, 0x12, 0x06, 0x00, 0x00, 0x00, 0x40));
        Assert.Equal(new byte[] { 0x01, 0x02, 0x00, 0x0A, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40 }, h.Output.Last);

        h.Ccp.Receive(Packet(3, 2, 0x12, 0x06, 0x00, 0x00, 0x00, 0x40));
        Assert.Equal("peer requires stateful MPPE, only stateless allowed", h.Ccp.FailureReason);
        Assert.Equal(PppState.Closing, h.Ccp.State);
    }

    [Fact]
    public void Reject_of_required_MPPE_fails_with_reason()
    {
        using var h = new Harness();
        h.Start();
        h.Ccp.Receive(Packet(4, 1, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40));

        Assert.Equal("peer refused MPPE (CCP Configure-Reject), encryption required", h.Ccp.FailureReason);
        Assert.Equal("peer refused MPPE (CCP Configure-Reject), encryption required", h.Ccp.Automaton.LastReason);
    }

    [Fact]
    public void Reject_of_optional_MPPE_stops_requesting_it()
    {
        using var h = new Harness(MppeNegotiationPolicy.Default with { Required = false });
        h.Start();
        h.Ccp.Receive(Packet(4, 1, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40));

        Assert.Equal(new byte[] { 0x01, 0x02, 0x00, 0x04 }, h.Output.Last);
        Assert.Equal(PppState.RequestSent, h.Ccp.State);
    }

    [Theory]
    [InlineData(new byte[] { 0x12, 0x06, 0x01, 0x00, 0x00, 0xE0 }, new byte[] { 0x03, 0x09, 0x00, 0x0A, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40 })] // all lengths: strongest
    [InlineData(new byte[] { 0x12, 0x06, 0x00, 0x00, 0x00, 0x41 }, new byte[] { 0x03, 0x09, 0x00, 0x0A, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40 })] // stateful + MPPC: server insists on H, C off
    [InlineData(new byte[] { 0x12, 0x06, 0x01, 0x00, 0x00, 0x40 }, new byte[] { 0x02, 0x09, 0x00, 0x0A, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40 })] // exactly ours: Ack
    [InlineData(new byte[] { 0x12, 0x06, 0x01, 0x00, 0x00, 0x00 }, new byte[] { 0x03, 0x09, 0x00, 0x0A, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40 })] // no key length: suggest ours
    [InlineData(new byte[] { 0x1A, 0x04, 0x78, 0x00, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40, 0x15, 0x03, 0x2F }, new byte[] { 0x04, 0x09, 0x00, 0x0B, 0x1A, 0x04, 0x78, 0x00, 0x15, 0x03, 0x2F })] // Deflate, BSD: Rejected
    [InlineData(new byte[] { 0x12, 0x05, 0x01, 0x00, 0x00 }, new byte[] { 0x04, 0x09, 0x00, 0x09, 0x12, 0x05, 0x01, 0x00, 0x00 })] // short MPPE option
    [InlineData(new byte[] { 0x12, 0x08, 0x01, 0x00, 0x00, 0x40, 0x00, 0x00 }, new byte[] { 0x04, 0x09, 0x00, 0x0C, 0x12, 0x08, 0x01, 0x00, 0x00, 0x40, 0x00, 0x00 })] // long MPPE option
    [InlineData(new byte[] { }, new byte[] { 0x03, 0x09, 0x00, 0x0A, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40 })] // missing: Nak'd in
    public void Server_judges_peer_requests(byte[] options, byte[] expected)
    {
        using var h = new Harness();
        h.Start();
        h.Ccp.Receive(Packet(1, 9, options));

        Assert.Equal(expected, h.Output.Last);
    }

    [Fact]
    public void Client_accepts_the_servers_allowed_mode()
    {
        using var h = new Harness(isServer: false);
        h.Start();
        h.Ccp.Receive(Packet(1, 4, 0x12, 0x06, 0x00, 0x00, 0x00, 0x40));

        Assert.Equal(new byte[] { 0x02, 0x04, 0x00, 0x0A, 0x12, 0x06, 0x00, 0x00, 0x00, 0x40 }, h.Output.Last);
    }

    [Fact]
    public void Peer_offering_only_weaker_keys_fails_the_judge_with_reason()
    {
        using var h = new Harness();
        h.Start();
        var before = h.Output.Packets.Count;
        h.Ccp.Receive(Packet(1, 9, 0x12, 0x06, 0x01, 0x00, 0x00, 0xA0));

        Assert.Equal("peer offers only 40/56-bit MPPE, 128-bit required", h.Ccp.FailureReason);
        Assert.Equal((byte)PppCode.TerminateRequest, h.Output.Packets[before][0]);
        Assert.Equal(PppState.Closing, h.Ccp.State);
    }

    [Theory]
    [InlineData(new byte[] { 0x12, 0x01 })]
    [InlineData(new byte[] { 0x12, 0x07, 0x01, 0x00, 0x00, 0x40 })]
    [InlineData(new byte[] { 0x12 })]
    public void Malformed_option_lists_are_dropped(byte[] options)
    {
        using var h = new Harness();
        h.Start();
        var before = h.Output.Packets.Count;
        h.Ccp.Receive(Packet(1, 9, options));
        h.Ccp.Receive(Packet(3, 1, options));

        Assert.Equal(before, h.Output.Packets.Count);
        Assert.Equal(2, h.Ccp.Automaton.DroppedPackets);
    }

    [Fact]
    public void Short_Nak_value_is_ignored_and_the_request_repeated()
    {
        using var h = new Harness();
        h.Start();
        h.Ccp.Receive(Packet(3, 1, 0x12, 0x04, 0x00, 0x20));

        Assert.Equal(new byte[] { 0x01, 0x02, 0x00, 0x0A, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40 }, h.Output.Last);
        Assert.Null(h.Ccp.FailureReason);
    }

    [Fact]
    public void Opened_with_the_agreement()
    {
        using var h = new Harness();
        MppeAgreement? seen = null;
        h.Ccp.MppeUp += c => seen = c.Agreement;
        h.Open();

        Assert.Equal(new MppeAgreement(Firmware.Protocol.Mppe.MppeKeyStrength.Bits128, true), seen);
        Assert.Equal("MPPE-128 stateless", seen!.ToString());
    }

    [Fact]
    public void Reset_Request_is_answered_with_Reset_Ack_of_the_same_identifier()
    {
        using var h = new Harness();
        var resets = 0;
        h.Ccp.ResetRequested += () => resets++;
        h.Open();
        h.Ccp.Receive(Packet(14, 0x77, 0xAA));

        Assert.Equal(new byte[] { 0x0F, 0x77, 0x00, 0x04 }, h.Output.Last);
        Assert.Equal(1, resets);
        Assert.Equal(1, h.Ccp.ResetRequestsReceived);
    }

    [Fact]
    public void Reset_Request_outside_Opened_is_ignored_not_Code_Rejected()
    {
        using var h = new Harness();
        var resets = 0;
        h.Ccp.ResetRequested += () => resets++;
        h.Start();
        var before = h.Output.Packets.Count;
        h.Ccp.Receive(Packet(14, 1));
        h.Ccp.Receive(Packet(15, 1));

        Assert.Equal(before, h.Output.Packets.Count);
        Assert.Equal(0, resets);
    }

    [Fact]
    public void Unknown_code_is_Code_Rejected()
    {
        using var h = new Harness();
        h.Open();
        h.Ccp.Receive(Packet(16, 3, 1, 2));

        Assert.Equal((byte)PppCode.CodeReject, h.Output.Last[0]);
    }

    private static void Advance(Harness h, TimeSpan duration)
    {
        for (var t = TimeSpan.Zero; t < duration; t += TimeSpan.FromSeconds(1))
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
        }
    }

    [Fact]
    public void Reset_Request_repeats_while_awaiting_flush_and_is_bounded()
    {
        using var h = new Harness();
        h.Open();
        var awaiting = true;
        var before = h.Output.Packets.Count;
        h.Ccp.SendResetRequest(() => awaiting);
        h.Ccp.SendResetRequest(() => awaiting);
        Assert.Equal(before + 1, h.Output.Packets.Count);
        var first = h.Output.Last;
        Assert.Equal(new byte[] { 0x0E, first[1], 0x00, 0x04 }, first);

        // A Reset-Ack does not stop the repeats while the flushed packet is still missing.
        h.Ccp.Receive(Packet(15, first[1]));
        Assert.Equal(1, h.Ccp.ResetAcksReceived);
        h.Time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(before + 2, h.Output.Packets.Count);
        Assert.Equal(14, h.Output.Last[0]);

        Advance(h, TimeSpan.FromSeconds(120));
        Assert.Equal(before + 1 + new PppAutomatonSettings().MaxConfigure, h.Output.Packets.Count);

        // Flushed: a new loss may send again; an in-sync receiver stops the timer quietly.
        awaiting = false;
        h.Ccp.SendResetRequest(() => awaiting);
        var count = h.Output.Packets.Count;
        Advance(h, TimeSpan.FromSeconds(30));
        Assert.Equal(count, h.Output.Packets.Count);
    }

    [Fact]
    public void Random_and_mutated_packets_never_throw()
    {
        var random = new Random(1962);
        byte[][] seeds =
        [
            Packet(1, 1, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40),
            Packet(2, 1, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40),
            Packet(3, 1, 0x12, 0x06, 0x01, 0x00, 0x00, 0xE1),
            Packet(4, 1, 0x12, 0x06, 0x01, 0x00, 0x00, 0x40),
            Packet(14, 1),
            Packet(15, 1),
            Packet(5, 1),
            Packet(1, 2, 0x1A, 0x04, 0x78, 0x00, 0x12, 0x06, 0x00, 0x00, 0x00, 0x20),
        ];
        for (var round = 0; round < 200; round++)
        {
            using var h = new Harness(round % 2 == 0 ? MppeNegotiationPolicy.Default : new MppeNegotiationPolicy { Allow40 = true, Allow56 = true, Required = false }, isServer: round % 3 == 0);
            h.Open();
            for (var i = 0; i < 50; i++)
            {
                byte[] packet;
                if (random.Next(4) == 0)
                {
                    packet = new byte[random.Next(0, 40)];
                    random.NextBytes(packet);
                }
                else
                {
                    packet = (byte[])seeds[random.Next(seeds.Length)].Clone();
                    for (var m = random.Next(1, 4); m > 0; m--)
                    {
                        packet[random.Next(packet.Length)] = (byte)random.Next(256);
                    }

                    if (random.Next(3) == 0)
                    {
                        packet = packet[..random.Next(packet.Length + 1)];
                    }
                }

                h.Ccp.Receive(packet);
                if (random.Next(10) == 0)
                {
                    h.Time.Advance(TimeSpan.FromSeconds(3));
                }
            }

            Assert.True(Enum.IsDefined(h.Ccp.State));
        }
    }
}
