using Firmware.Gateway.Runtime;

namespace Firmware.Gateway.Tests.Runtime;

public sealed class HeapTrimPolicyTests
{
    private const long MiB = 1 << 20;
    private static readonly TimeSpan Step = HeapTrimmer.SampleInterval;

    // Feeds samples of a heap allocating `perSample` bytes between samples and committing `committed` (a trim
    // brings it down to `afterTrim`, and it grows by `growth` per sample); returns the sample numbers (1-based)
    // at which the policy trimmed.
    private static List<int> Run(HeapTrimPolicy policy, ref long allocated, ref TimeSpan now, int samples, long perSample, long committed, long afterTrim, long growth = 0)
    {
        var trims = new List<int>();
        for (var n = 1; n <= samples; n++)
        {
            allocated += perSample;
            now += Step;
            committed += growth;
            if (policy.ShouldTrim(allocated, committed, now))
            {
                trims.Add(n);
                committed = afterTrim;
                policy.Trimmed(committed, now);
            }
        }
        return trims;
    }

    // A policy after its first sample: 8 MiB committed at start, which is not slack.
    private static HeapTrimPolicy AtBaseline(out long allocated, out TimeSpan now)
    {
        var policy = new HeapTrimPolicy();
        allocated = 0;
        now = TimeSpan.Zero;
        Assert.False(policy.ShouldTrim(allocated, 8 * MiB, now));
        return policy;
    }

    [Fact]
    public void A_grown_heap_is_trimmed_once_after_the_allocation_stops()
    {
        var policy = AtBaseline(out var allocated, out var now);

        // Sessions coming up: the heap grows while the gateway allocates; no trim in the middle of it.
        Assert.Empty(Run(policy, ref allocated, ref now, 10, perSample: 20 * MiB, committed: 30 * MiB, afterTrim: 18 * MiB));
        // Then quiet: a trim after two quiet samples, and none after that while nothing grows.
        Assert.Equal([2], Run(policy, ref allocated, ref now, 60, perSample: 300_000, committed: 30 * MiB, afterTrim: 18 * MiB));
    }

    [Fact]
    public void A_heap_that_did_not_grow_is_left_alone()
    {
        var policy = AtBaseline(out var allocated, out var now);
        Assert.Empty(Run(policy, ref allocated, ref now, 100, perSample: 0, committed: 8 * MiB + (MiB / 2), afterTrim: 8 * MiB));
    }

    [Fact]
    public void A_gateway_that_keeps_allocating_is_not_paused()
    {
        var policy = AtBaseline(out var allocated, out var now);
        Assert.Empty(Run(policy, ref allocated, ref now, 100, perSample: HeapTrimPolicy.QuietAllocationBytes, committed: 40 * MiB, afterTrim: 8 * MiB));
    }

    [Fact]
    public void Trims_are_at_least_the_minimum_interval_apart()
    {
        var policy = AtBaseline(out var allocated, out var now);

        // A heap that keeps growing (live data, sessions arriving slowly) is not collected every few seconds.
        var trims = Run(policy, ref allocated, ref now, 60, perSample: 0, committed: 20 * MiB, afterTrim: 8 * MiB, growth: 3 * MiB);
        Assert.True(trims.Count >= 2, $"trims at samples {string.Join(", ", trims)}");
        for (var i = 1; i < trims.Count; i++)
        {
            Assert.True((trims[i] - trims[i - 1]) * Step >= HeapTrimPolicy.MinimumInterval, $"trims at samples {string.Join(", ", trims)}");
        }
    }
}
