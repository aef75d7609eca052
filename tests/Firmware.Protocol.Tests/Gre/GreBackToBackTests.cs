using System.Buffers.Binary;
using Firmware.Protocol.Gre;
using Firmware.Protocol.Pptp;
using Firmware.Protocol.Tests.Pptp;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Gre;

/// <summary>
/// A whole call end to end on one fake clock: control connections set the call up, then two GRE windows keyed
/// by the negotiated call IDs exchange data over a channel that reorders and loses packets.
/// </summary>
public sealed class GreBackToBackTests
{
    private sealed class Endpoint(string name) : IGreWindowHost<TestBuffer>
    {
        public string Name { get; } = name;
        public List<uint> Delivered { get; } = [];
        public int Returned { get; private set; }
        public Queue<byte[]> Wire { get; } = new();
        public GreWindow<TestBuffer> Window { get; set; } = null!;
        public ushort LocalCallId { get; set; }

        public void Deliver(TestBuffer buffer, int offset, int length)
        {
            Returned++;
            Delivered.Add(BinaryPrimitives.ReadUInt32BigEndian(buffer.Bytes.AsSpan(offset, length)));
        }

        public void Release(TestBuffer buffer) => Returned++;

        public void SendAckOnly(ReadOnlySpan<byte> packet) => Wire.Enqueue(packet.ToArray());
    }

    [Fact]
    public void Data_flows_in_order_through_reordering_and_loss_and_acks_open_the_window()
    {
        var pair = new BackToBack();
        pair.Establish();
        var clientCall = pair.PlaceCall();
        var serverCall = pair.Server.Calls[0];

        var time = pair.Time;
        var client = new Endpoint("client") { LocalCallId = clientCall.LocalCallId };
        var server = new Endpoint("server") { LocalCallId = serverCall.LocalCallId };
        client.Window = new GreWindow<TestBuffer>(client, clientCall.PeerCallId,
            new GreWindowOptions { PeerReceiveWindow = clientCall.PeerReceiveWindow }, time);
        server.Window = new GreWindow<TestBuffer>(server, serverCall.PeerCallId,
            new GreWindowOptions { PeerReceiveWindow = serverCall.PeerReceiveWindow }, time);

        var random = new Random(5);
        var drops = new GreDropCounters();
        var nextId = 0;
        var lostThisBurst = 0;
        var sentByClient = 0u;

        void Transmit(Endpoint from, Endpoint to)
        {
            // Reorder: deliver in a shuffled order within small bursts; lose about 2 %.
            lostThisBurst = 0;
            var burst = new List<byte[]>();
            while (from.Wire.TryDequeue(out var datagram))
            {
                burst.Add(datagram);
            }
            for (var i = burst.Count - 1; i > 0; i--)
            {
                var j = Math.Max(0, i - random.Next(0, 3));
                (burst[i], burst[j]) = (burst[j], burst[i]);
            }
            foreach (var datagram in burst)
            {
                if (random.Next(100) < 2)
                {
                    lostThisBurst++;
                    continue;
                }
                if (!GreCodec.TryDecode(datagram, out var packet, out var reason))
                {
                    drops.Increment(reason);
                    continue;
                }
                if (packet.CallId != to.LocalCallId)
                {
                    drops.Increment(GreDropReason.UnknownCallId);
                    continue;
                }
                to.Window.OnPacket(packet, new TestBuffer(nextId++, datagram));
            }
        }

        for (var tick = 0; tick < 400; tick++)
        {
            for (var burst = 0; burst < 8; burst++)
            {
                var buffer = new byte[GreCodec.MaxHeaderLength + 4];
                BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(GreCodec.MaxHeaderLength), sentByClient);
                var status = client.Window.TryPrepareSend(buffer, GreCodec.MaxHeaderLength, 4, out var offset, out var length);
                if (status != GreSendStatus.Ready)
                {
                    Assert.Equal(GreSendStatus.WindowFull, status);
                    break;
                }
                sentByClient++;
                client.Wire.Enqueue(buffer.AsSpan(offset, length).ToArray());
            }
            Transmit(client, server);
            Transmit(server, client);
            time.Advance(TimeSpan.FromMilliseconds(50));
            Transmit(server, client);
        }
        time.Advance(TimeSpan.FromSeconds(1));
        Transmit(server, client);

        Assert.True(sentByClient > 1000, $"only {sentByClient} sent: the window never reopened");
        Assert.True(server.Delivered.Count > sentByClient * 0.9);
        for (var i = 1; i < server.Delivered.Count; i++)
        {
            Assert.True(server.Delivered[i] > server.Delivered[i - 1]);
        }
        var counters = server.Window.Counters;
        Assert.True(counters.Reordered > 0);
        // Every sequence number is delivered or counted lost, except losses at the very tail that no later
        // packet revealed.
        Assert.InRange(counters.Delivered + counters.Lost, sentByClient - 8, sentByClient);
        Assert.True(client.Window.Counters.StaleAck == 0);
        Assert.True(server.Window.Counters.AckOnlySent > 0);
        Assert.Equal(0, drops.Total);

        // The GRE demultiplexer's rule: a wrong call ID is dropped and counted.
        var foreign = new byte[20];
        var start = GreCodec.WriteHeader(foreign, 16, 4, (ushort)(server.LocalCallId + 1), true, 0, false, 0);
        for (var i = 0; i < 10; i++)
        {
            client.Wire.Enqueue(foreign[start..]);
        }
        var deliveredBefore = server.Delivered.Count;
        Transmit(client, server);
        Assert.InRange(drops[GreDropReason.UnknownCallId], 10 - lostThisBurst, 10);
        Assert.Equal(deliveredBefore, server.Delivered.Count);

        client.Window.Dispose();
        server.Window.Dispose();
        Assert.Equal(nextId, client.Returned + server.Returned);
    }
}
