using System.Buffers.Binary;
using Firmware.Protocol.Gre;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests.Gre;

/// <summary>
/// The reorder buffer's gap timeout and depth follow the link (issue 15 item 4). A simulated link on a fake
/// clock sends one packet every few milliseconds and holds some of them back; the window sees them in arrival
/// order, with the clock at each arrival, so timeouts fire exactly where they would.
/// </summary>
public sealed class GreWindowAdaptiveReorderTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly WindowHost _host = new();
    private int _nextBufferId;

    /// <summary>One packet sent at <paramref name="sentAtMs"/> that arrives <paramref name="delayMs"/> later
    /// (null: lost on the way).</summary>
    private readonly record struct Sent(uint Sequence, double SentAtMs, double? DelayMs);

    /// <summary>
    /// Plays <paramref name="packets"/> into <paramref name="window"/> in arrival order (ties in sending order),
    /// moving the clock to each arrival, then lets a second pass so every gap is settled.
    /// </summary>
    private void Play(GreWindow<TestBuffer> window, IEnumerable<Sent> packets)
    {
        var start = _time.GetUtcNow();
        foreach (var p in packets.Where(p => p.DelayMs is not null).OrderBy(p => p.SentAtMs + p.DelayMs!.Value).ThenBy(p => p.SentAtMs))
        {
            var at = start + TimeSpan.FromMilliseconds(p.SentAtMs + p.DelayMs!.Value);
            if (at > _time.GetUtcNow())
            {
                _time.Advance(at - _time.GetUtcNow());
            }
            Receive(window, p.Sequence);
        }
        _time.Advance(TimeSpan.FromSeconds(1));
    }

    private GreReceiveStatus Receive(GreWindow<TestBuffer> window, uint sequence)
    {
        var bytes = new byte[GreCodec.MaxHeaderLength + 4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(GreCodec.MaxHeaderLength), sequence);
        var start = GreCodec.WriteHeader(bytes, GreCodec.MaxHeaderLength, 4, 0x0011, true, sequence, false, 0);
        Assert.True(GreCodec.TryDecode(bytes.AsSpan(start), out var packet, out _));
        return window.OnPacket(packet with { PayloadOffset = packet.PayloadOffset + start }, new TestBuffer(_nextBufferId++, bytes));
    }

    /// <summary>
    /// Packets <paramref name="from"/> .. <paramref name="from"/> + count - 1, one every
    /// <paramref name="intervalMs"/>, starting at <paramref name="startMs"/>: every <paramref name="every"/>th one
    /// held back by a random 150-250 ms, the rest on time.
    /// </summary>
    private static IEnumerable<Sent> LateLink(Random random, uint from, int count, double startMs, double intervalMs, int every)
    {
        for (var i = 0; i < count; i++)
        {
            var late = i % every == every / 2;
            yield return new Sent(from + (uint)i, startMs + i * intervalMs, late ? 150 + random.NextDouble() * 100 : 1);
        }
    }

    private static uint[] Range(uint from, int count) => Enumerable.Range(0, count).Select(i => from + (uint)i).ToArray();

    /// <summary>
    /// A link whose reordered packets come 150-250 ms late (every 10th, one packet each 5 ms, so they are also
    /// 30-50 packets behind, deeper than the initial depth of 16). The first late packets teach the window;
    /// after that, ten seconds of traffic lose nothing: every packet delivered, in order, counted recovered.
    /// With the old fixed 100 ms timeout and depth 16, every late packet is lost (next test).
    /// </summary>
    [Fact]
    public void A_link_reordering_150_to_250_ms_late_loses_nothing_once_adapted()
    {
        using var window = new GreWindow<TestBuffer>(_host, 0x0033, new GreWindowOptions(), _time);
        var random = new Random(15);

        Play(window, LateLink(random, 0, 100, 0, 5, 10)); // warm-up: ten late packets, the first given up on
        Assert.True(window.Counters.LateAfterGiveUp > 0, "the warm-up should have been too short for the link");
        Assert.True(window.GapTimeout >= TimeSpan.FromMilliseconds(250), $"gap timeout {window.GapTimeout}");
        Assert.True(window.ReorderDepth >= 40, $"depth {window.ReorderDepth}");

        var lostBefore = window.Counters.Lost;
        var lateBefore = window.Counters.LateAfterGiveUp;
        var recoveredBefore = window.Counters.Recovered;
        var deliveredBefore = _host.DeliveredTags.Count;
        Play(window, LateLink(random, 100, 2000, 0, 5, 10));

        Assert.Equal(lostBefore, window.Counters.Lost);
        Assert.Equal(lateBefore, window.Counters.LateAfterGiveUp);
        Assert.Equal(Range(100, 2000), _host.DeliveredTags.Skip(deliveredBefore));
        Assert.Equal(200, window.Counters.Recovered - recoveredBefore);
        Assert.True(window.GapTimeout <= new GreWindowOptions().MaxReorderTimeout);
        Assert.Equal(0, window.BufferedCount);
    }

    /// <summary>The same link with the old fixed behaviour (100 ms, depth 16): every late packet is lost, and the
    /// counters say so. What the adaptive window is measured against.</summary>
    [Fact]
    public void The_fixed_100_ms_timeout_loses_every_packet_that_link_holds_back()
    {
        var options = new GreWindowOptions { AdaptiveReorder = false, ReorderCapacity = 16 };
        using var window = new GreWindow<TestBuffer>(_host, 0x0033, options, _time);
        var random = new Random(15);

        Play(window, LateLink(random, 0, 2100, 0, 5, 10));

        Assert.Equal(210, window.Counters.Lost);
        Assert.Equal(210, window.Counters.LateAfterGiveUp);
        Assert.Equal(0, window.Counters.Recovered);
        Assert.Equal(TimeSpan.FromMilliseconds(100), window.GapTimeout);
        Assert.Equal(16, window.ReorderDepth);
    }

    /// <summary>
    /// However late the link's packets come (here 2 s, and a forged late packet could claim as much), the gap
    /// timeout stops at the ceiling, so a real loss costs the packets behind it at most that long.
    /// </summary>
    [Fact]
    public void The_ceiling_bounds_what_a_real_loss_costs_after_any_lateness()
    {
        var options = new GreWindowOptions();
        using var window = new GreWindow<TestBuffer>(_host, 0x0033, options, _time);
        var random = new Random(2);
        // One packet each 50 ms, every 20th 2-2.5 s late (40-50 packets behind: within what the window remembers).
        Play(window, Enumerable.Range(0, 400).Select(i => new Sent((uint)i, i * 50, i % 20 == 10 ? 2000 + random.NextDouble() * 500 : 1)));
        Assert.Equal(20, window.Counters.LateAfterGiveUp);
        Assert.Equal(options.MaxReorderTimeout, window.GapTimeout);

        // Now a real loss: 400 never comes. 401 is held until the ceiling and not a moment longer.
        Assert.Equal(399u, _host.DeliveredTags[^1]);
        Assert.Equal(GreReceiveStatus.Buffered, Receive(window, 401));
        _time.Advance(options.MaxReorderTimeout - TimeSpan.FromMilliseconds(1));
        Assert.Equal(399u, _host.DeliveredTags[^1]);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(401u, _host.DeliveredTags[^1]);
        Assert.Equal(0, window.BufferedCount);
    }

    /// <summary>
    /// A link that reordered a little (10 ms) teaches a short timeout: a real loss then costs the packets behind
    /// it far less than the old fixed 100 ms. When the reordering stops, the estimate decays to the floor.
    /// </summary>
    [Fact]
    public void A_link_that_reorders_little_gets_a_short_timeout_and_it_decays_to_the_floor()
    {
        var options = new GreWindowOptions();
        using var window = new GreWindow<TestBuffer>(_host, 0x0033, options, _time);
        Assert.Equal(TimeSpan.FromMilliseconds(100), window.GapTimeout); // before the link has shown anything

        // netem's "reorder": every 20th packet goes at once, the others 10 ms later.
        Play(window, Enumerable.Range(0, 1000).Select(i => new Sent((uint)i, i * 2, i % 20 == 10 ? 0 : 10)));
        Assert.Equal(0, window.Counters.Lost);
        Assert.Equal(200, window.Counters.Recovered); // the four sent in the 10 ms before each early one
        Assert.True(window.GapTimeout <= TimeSpan.FromMilliseconds(25), $"gap timeout {window.GapTimeout}");
        Assert.Equal(options.MinReorderDepth, window.ReorderDepth);

        // A real loss now: 1000 never comes; 1001 waits the short timeout, not 100 ms.
        var timeout = window.GapTimeout;
        Assert.Equal(GreReceiveStatus.Buffered, Receive(window, 1001));
        _time.Advance(timeout - TimeSpan.FromMilliseconds(1));
        Assert.Equal(999u, _host.DeliveredTags[^1]);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1001u, _host.DeliveredTags[^1]);
        Assert.Equal(1, window.Counters.Lost);

        // No reordering for a while, only losses: each decay interval halves the estimate, down to the floor.
        _time.Advance(options.ReorderDecayInterval * 4);
        Assert.Equal(GreReceiveStatus.Buffered, Receive(window, 1003));
        Assert.Equal(options.MinReorderTimeout, window.GapTimeout);
        _time.Advance(options.MinReorderTimeout);
        Assert.Equal(1003u, _host.DeliveredTags[^1]);
    }

    /// <summary>
    /// Several holes at once (a burst of loss) cost one timeout: each held packet waits at most one timeout
    /// from its own arrival, and the next gap's wait counts from the oldest packet still held.
    /// </summary>
    [Fact]
    public void A_burst_of_holes_costs_one_timeout_and_a_younger_gap_gets_its_own()
    {
        using var window = new GreWindow<TestBuffer>(_host, 0x0033, new GreWindowOptions(), _time);
        Receive(window, 0);
        Receive(window, 2);
        Receive(window, 4);
        Receive(window, 6);
        _time.Advance(TimeSpan.FromMilliseconds(60));
        Receive(window, 8); // 7 missing too, but its gap is only visible from now
        _time.Advance(TimeSpan.FromMilliseconds(40));
        Assert.Equal([0u, 2u, 4u, 6u], _host.DeliveredTags); // 1, 3, 5 given up on together at 100 ms
        Assert.Equal(3, window.Counters.Lost);
        _time.Advance(TimeSpan.FromMilliseconds(59));
        Assert.Equal(6u, _host.DeliveredTags[^1]);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([0u, 2u, 4u, 6u, 8u], _host.DeliveredTags);
        Assert.Equal(4, window.Counters.Lost);
    }

    /// <summary>A reordering deeper than the current depth teaches the depth (up to the capacity), the timeout
    /// staying where it was if the packets were not late in time.</summary>
    [Fact]
    public void A_deep_reordering_grows_the_depth_up_to_the_capacity()
    {
        using var window = new GreWindow<TestBuffer>(_host, 0x0033, new GreWindowOptions(), _time);
        // 25 packets of a burst overtake the one before them (a second path, or a NIC's queues): 1 ms apart.
        Play(window, Enumerable.Range(0, 300).Select(i => new Sent((uint)i, i * 0.2, i % 100 == 50 ? 6 : 1)));
        Assert.True(window.Counters.Lost > 0, "the first deep overtaking should have been beyond depth 16");
        var lost = window.Counters.Lost;
        Assert.True(window.ReorderDepth > 25, $"depth {window.ReorderDepth}");
        Play(window, Enumerable.Range(300, 1000).Select(i => new Sent((uint)i, i * 0.2, i % 100 == 50 ? 6 : 1)));
        Assert.Equal(lost, window.Counters.Lost);
        Assert.True(window.ReorderDepth <= 64);
    }

    /// <summary>
    /// netem's shape on a fast stream (TCP's acks while the other way is busy): one packet goes at once and
    /// overtakes the 25 sent in the 5 ms before it, which then come in order, each a little less far behind the
    /// early one than the one before. The depth must hold the deepest of them, not drift back down with the
    /// shallower ones of the same burst (it did in the first interop run: lost 130, all of them came later).
    /// </summary>
    [Fact]
    public void Many_packets_overtaken_by_one_keep_the_depth_at_the_deepest()
    {
        using var window = new GreWindow<TestBuffer>(_host, 0x0033, new GreWindowOptions(), _time);
        Play(window, Enumerable.Range(0, 300).Select(i => new Sent((uint)i, i * 0.2, i % 100 == 50 ? 0 : 5)));
        Assert.True(window.ReorderDepth >= 48, $"depth {window.ReorderDepth}");
        var lost = window.Counters.Lost;
        Play(window, Enumerable.Range(300, 3000).Select(i => new Sent((uint)i, i * 0.2, i % 100 == 50 ? 0 : 5)));
        Assert.Equal(lost, window.Counters.Lost);
        Assert.Equal(0, window.BufferedCount);
    }

    /// <summary>Startup reordering (a packet from before the first one we saw) teaches nothing: its number was
    /// never ours to give up on.</summary>
    [Fact]
    public void A_packet_from_before_the_first_one_is_too_old_not_late()
    {
        using var window = new GreWindow<TestBuffer>(_host, 0x0033, new GreWindowOptions(), _time);
        Receive(window, 100);
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(GreReceiveStatus.TooOld, Receive(window, 99));
        Assert.Equal(0, window.Counters.LateAfterGiveUp);
        Assert.Equal(TimeSpan.FromMilliseconds(100), window.GapTimeout);
    }
}
