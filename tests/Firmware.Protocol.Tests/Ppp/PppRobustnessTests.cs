using Firmware.Protocol.Auth;
using Firmware.Protocol.Ppp;
using Firmware.Protocol.Ppp.Ipcp;
using Firmware.Protocol.Ppp.Ipv6cp;
using Firmware.Protocol.Ppp.Lcp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Ppp;

public sealed class PppRobustnessTests
{
    private sealed class CountingOutput : IPppControlOutput
    {
        public int Sent { get; private set; }
        public int LargestPacket { get; private set; }

        public void SendControl(PppProtocol protocol, ReadOnlySpan<byte> packet)
        {
            Sent++;
            LargestPacket = Math.Max(LargestPacket, packet.Length);
        }
    }

    private static IEnumerable<ControlProtocol> EveryProtocol(IPppControlOutput output, TimeProvider time)
    {
        var random = new TestRandom(5);
        var automaton = new PppAutomatonSettings();
        yield return new LcpProtocol(new LcpSettings(), new AuthPolicy { Demand = [AuthMethod.MsChapV2], Accept = [AuthMethod.MsChapV2, AuthMethod.Pap] }, automaton, time, output, random.Fill);
        yield return new IpcpProtocol(PppSettings.Server().Ipcp!, automaton, time, output);
        yield return new IpcpProtocol(PppSettings.Client().Ipcp!, automaton, time, output);
        yield return new Ipv6cpProtocol(new Ipv6cpSettings(), automaton, time, output, random.Fill);
    }

    /// <summary>A random Configure-* packet built from plausible and implausible options.</summary>
    private static byte[] RandomConfigurePacket(Random random)
    {
        var options = new List<byte>();
        var count = random.Next(0, 6);
        for (var i = 0; i < count; i++)
        {
            var type = random.Next(4) == 0 ? (byte)random.Next(256) : (byte)random.Next(0, 9);
            if (random.Next(3) == 0)
            {
                type = (byte)(129 + random.Next(4));
            }

            var length = random.Next(10) == 0 ? random.Next(0, 3) : random.Next(2, 12);
            options.Add(type);
            options.Add((byte)length);
            for (var j = 2; j < length; j++)
            {
                options.Add((byte)random.Next(256));
            }
        }

        var code = (byte)random.Next(0, 16);
        var packet = new byte[4 + options.Count];
        packet[0] = code;
        packet[1] = (byte)random.Next(4);
        var declared = random.Next(8) == 0 ? random.Next(0, ushort.MaxValue) : packet.Length;
        packet[2] = (byte)(declared >> 8);
        packet[3] = (byte)declared;
        options.CopyTo(packet, 4);
        return packet;
    }

    [Fact]
    public void Random_and_mutated_packets_into_every_protocol_never_throw()
    {
        var random = new Random(1234);
        var time = new FakeTimeProvider();
        var output = new CountingOutput();
        foreach (var protocol in EveryProtocol(output, time))
        {
            using (protocol)
            {
                protocol.Automaton.Open();
                protocol.Automaton.Up();
                for (var i = 0; i < 20_000; i++)
                {
                    var packet = RandomConfigurePacket(random);
                    if (random.Next(4) == 0 && packet.Length > 0)
                    {
                        packet = packet[..random.Next(packet.Length)];
                    }

                    protocol.Receive(packet);
                    if (i % 500 == 0)
                    {
                        time.Advance(TimeSpan.FromSeconds(random.Next(0, 5)));
                    }

                    Assert.InRange((int)protocol.State, 0, 9);
                }

                Assert.True(protocol.Automaton.DroppedPackets > 0);
            }
        }

        Assert.InRange(output.LargestPacket, 4, PppAutomaton.MaxPacketLength);
    }

    [Fact]
    public void Ten_thousand_configure_requests_in_a_row_are_answered_and_Naks_turn_into_Rejects()
    {
        var time = new FakeTimeProvider();
        var output = new CountingOutput();
        using var lcp = new LcpProtocol(new LcpSettings { MinimumMru = 1000 }, new AuthPolicy(), new PppAutomatonSettings(), time, output, new TestRandom(9).Fill);
        lcp.Automaton.Open();
        lcp.Automaton.Up();
        var before = output.Sent;

        // MRU 100 is below our minimum: Nak'd five times (Max-Failure), then Rejected.
        for (var i = 0; i < 10_000; i++)
        {
            lcp.Receive(new byte[] { 1, (byte)i, 0, 8, 1, 4, 0, 100 });
        }

        Assert.Equal(10_000, output.Sent - before);
        Assert.Equal(10_000 - 5, lcp.Automaton.NaksConvertedToRejects);
        Assert.Equal(PppState.RequestSent, lcp.State);
    }

    [Theory]
    [InlineData(new byte[] { 1, 1, 0, 6, 1, 0 })]
    [InlineData(new byte[] { 1, 1, 0, 6, 1, 1 })]
    [InlineData(new byte[] { 1, 1, 0, 7, 1, 9, 0 })]
    [InlineData(new byte[] { 1, 1, 0, 9, 1, 4, 5, 0 })]
    public void Options_with_impossible_lengths_drop_the_packet(byte[] packet)
    {
        var time = new FakeTimeProvider();
        var output = new CountingOutput();
        using var lcp = new LcpProtocol(new LcpSettings(), new AuthPolicy(), new PppAutomatonSettings(), time, output, new TestRandom(9).Fill);
        lcp.Automaton.Open();
        lcp.Automaton.Up();
        var sent = output.Sent;

        lcp.Receive(packet);

        Assert.Equal(sent, output.Sent);
        Assert.Equal(1, lcp.Automaton.DroppedPackets);
    }

    [Fact]
    public void Known_options_with_wrong_lengths_and_unknown_options_are_Rejected()
    {
        var time = new FakeTimeProvider();
        var sent = new List<byte[]>();
        var output = new ListOutput(sent);
        using var lcp = new LcpProtocol(new LcpSettings(), new AuthPolicy(), new PppAutomatonSettings(), time, output, new TestRandom(9).Fill);
        lcp.Automaton.Open();
        lcp.Automaton.Up();

        // MRU with 3 value bytes, Quality-Protocol (4, unknown here), a fine Magic-Number.
        lcp.Receive(new byte[] { 1, 7, 0, 19, 1, 5, 5, 0, 0, 4, 4, 0xC0, 0x25, 5, 6, 1, 2, 3, 4 });

        var reject = sent[^1];
        Assert.Equal(new byte[] { 4, 7, 0, 13, 1, 5, 5, 0, 0, 4, 4, 0xC0, 0x25 }, reject);
    }

    [Fact]
    public void Stale_and_mismatched_Acks_are_ignored()
    {
        var time = new FakeTimeProvider();
        var sent = new List<byte[]>();
        using var lcp = new LcpProtocol(new LcpSettings(), new AuthPolicy(), new PppAutomatonSettings(), time, new ListOutput(sent), new TestRandom(9).Fill);
        lcp.Automaton.Open();
        lcp.Automaton.Up();
        var request = sent[^1];

        var wrongId = (byte[])request.Clone();
        wrongId[0] = 2;
        wrongId[1]++;
        lcp.Receive(wrongId);
        Assert.Equal(PppState.RequestSent, lcp.State);

        var changed = (byte[])request.Clone();
        changed[0] = 2;
        changed[^1] ^= 0xFF;
        lcp.Receive(changed);
        Assert.Equal(PppState.RequestSent, lcp.State);

        var ack = (byte[])request.Clone();
        ack[0] = 2;
        lcp.Receive(ack);
        Assert.Equal(PppState.AckReceived, lcp.State);

        // The same Ack again is a stale duplicate, not a crossed connection.
        lcp.Receive(ack);
        Assert.Equal(PppState.AckReceived, lcp.State);
        Assert.Equal(3, lcp.Automaton.DroppedPackets);
    }

    [Fact]
    public void Unknown_code_is_Code_Rejected_and_catastrophic_Code_Reject_finishes()
    {
        var time = new FakeTimeProvider();
        var sent = new List<byte[]>();
        using var ipcp = new IpcpProtocol(new IpcpSettings(), new PppAutomatonSettings(), time, new ListOutput(sent));
        ipcp.Automaton.Open();
        ipcp.Automaton.Up();

        ipcp.Receive(new byte[] { 9, 5, 0, 6, 1, 2 });
        Assert.Equal((byte)PppCode.CodeReject, sent[^1][0]);
        Assert.Equal(new byte[] { 9, 5, 0, 6, 1, 2 }, sent[^1][4..]);

        ipcp.Receive(new byte[] { 7, 1, 0, 8, 1, 1, 0, 4 });
        Assert.Equal(PppState.Stopped, ipcp.State);
    }

    [Fact]
    public void Random_frames_into_an_open_session_never_throw_and_stay_bounded()
    {
        using var link = new BackToBack(PppSettings.Server(), PppSettings.Client());
        link.StartBoth();
        Assert.Equal(PppPhase.Network, link.A.Phase);

        var random = new Random(99);
        ushort[] protocols = [0xC021, 0x8021, 0x8057, 0xC223, 0xC023, 0x0021, 0x0057, 0x00FD, 0x80FD, 0x1235];
        var captured = link.AOut.AllSent.Concat(link.BOut.AllSent).ToArray();
        for (var i = 0; i < 20_000; i++)
        {
            byte[] frame;
            if (random.Next(3) == 0)
            {
                // Mutate a real frame from the negotiation.
                frame = (byte[])captured[random.Next(captured.Length)].Clone();
                for (var m = random.Next(1, 4); m > 0 && frame.Length > 0; m--)
                {
                    frame[random.Next(frame.Length)] = (byte)random.Next(256);
                }

                if (random.Next(4) == 0)
                {
                    frame = frame[..random.Next(frame.Length + 1)];
                }
            }
            else
            {
                var body = RandomConfigurePacket(random);
                var protocol = protocols[random.Next(protocols.Length)];
                frame = [0xFF, 0x03, (byte)(protocol >> 8), (byte)protocol, .. body];
            }

            link.A.ReceiveFrame(frame);
            if (i % 100 == 0)
            {
                link.Time.Advance(TimeSpan.FromMilliseconds(500));
            }

            link.AOut.Sent.Clear();
            Assert.InRange((int)link.A.Phase, 0, 4);
        }

        Assert.True(link.A.DroppedFrames > 0);
        Assert.True(link.AOut.AllSent.All(f => f.Length <= PppAutomaton.MaxPacketLength + PppFrame.MaxHeaderLength));
    }
}
