using Firmware.Gateway.Runtime;

namespace Firmware.Gateway.Tests.Runtime;

public sealed class SessionLoopTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>What the loops reported failing (a test handler that throws on the loop's thread would take the test host down).</summary>
    private readonly List<Exception> _errors = [];

    public static TheoryData<string?> Modes => new() { null, "loop-test" };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Work_from_many_threads_is_handled_once_each_in_each_posters_order_never_two_at_a_time(string? thread)
    {
        var loop = new SessionLoop(thread);
        const int Posters = 4, Each = 5000;
        var last = new int[Posters];
        Array.Fill(last, -1);
        var inHandler = 0;
        var overlaps = 0;
        var handled = 0;
        var run = loop.RunAsync(work =>
        {
            if (work.Kind == SessionWorkKind.Action)
            {
                work.Action!();
                return;
            }
            if (Interlocked.Increment(ref inHandler) != 1)
            {
                overlaps++;
            }
            // Offset carries the poster, Length its sequence number.
            if (work.Length != last[work.Offset] + 1)
            {
                throw new InvalidOperationException($"poster {work.Offset}: {work.Length} after {last[work.Offset]}");
            }
            last[work.Offset] = work.Length;
            handled++;
            Interlocked.Decrement(ref inHandler);
        }, _errors.Add);

        var buffer = new byte[1];
        // Posters on threads of their own, as the TUN and GRE readers are: posters spinning on pool threads
        // would starve a pool-mode loop of the very pool it runs on, which is not what this test is about.
        var posters = Enumerable.Range(0, Posters).Select(p => new Thread(() =>
        {
            for (var i = 0; i < Each; i++)
            {
                while (!loop.PostPacket(SessionWorkKind.TunPacket, buffer, p, i))
                {
                    Thread.Sleep(1); // queue full: the loop catches up
                }
            }
        })).ToArray();
        foreach (var poster in posters)
        {
            poster.Start();
        }
        foreach (var poster in posters)
        {
            Assert.True(poster.Join(Limit), "a poster did not finish");
        }
        await loop.PingAsync().WaitAsync(Limit);
        loop.Complete();
        await run.WaitAsync(Limit);
        Assert.Empty(_errors);

        Assert.Empty(_errors);
        Assert.Equal(Posters * Each, handled);
        Assert.Equal(0, overlaps);
        Assert.All(last, l => Assert.Equal(Each - 1, l));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task The_batch_hook_runs_after_each_batch_of_at_most_MaxBatch_items(string? thread)
    {
        var loop = new SessionLoop(thread);
        var gate = new ManualResetEventSlim();
        var sinceHook = 0;
        var largest = 0;
        var hooks = 0;
        var handled = 0;
        var run = loop.RunAsync(
            work =>
            {
                if (work.Kind == SessionWorkKind.Action)
                {
                    work.Action!();
                    return;
                }
                sinceHook++;
                handled++;
            },
            _errors.Add,
            () =>
            {
                largest = Math.Max(largest, sinceHook);
                sinceHook = 0;
                hooks++;
            });

        // Hold the loop while 500 packets queue up, so it finds them waiting and must take them in batches.
        loop.Post(() => gate.Wait(Limit));
        for (var i = 0; i < 500; i++)
        {
            Assert.True(loop.PostPacket(SessionWorkKind.GrePacket, [], 0, i));
        }
        gate.Set();
        await loop.PingAsync().WaitAsync(Limit);
        loop.Complete();
        await run.WaitAsync(Limit);
        Assert.Empty(_errors);

        Assert.Equal(500, handled);
        Assert.Equal(SessionLoop.MaxBatch, largest);
        Assert.InRange(hooks, 500 / SessionLoop.MaxBatch, 500); // batched, and a hook after every batch
        Assert.Equal(0, sinceHook); // the last items were followed by a hook too
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task Complete_drains_what_was_accepted_and_refuses_the_rest(string? thread)
    {
        var loop = new SessionLoop(thread);
        var handled = new List<int>();
        var run = loop.RunAsync(work =>
        {
            if (work.Kind == SessionWorkKind.Action)
            {
                work.Action!();
            }
            else
            {
                handled.Add(work.Length);
            }
        }, _errors.Add);

        loop.Post(() => Thread.Sleep(20));
        for (var i = 0; i < 100; i++)
        {
            Assert.True(loop.PostPacket(SessionWorkKind.TunPacket, [], 0, i));
        }
        loop.Complete();
        Assert.False(loop.PostPacket(SessionWorkKind.TunPacket, [], 0, 100)); // the caller keeps its buffer
        Assert.False(loop.Post(() => { }));
        await run.WaitAsync(Limit);
        Assert.Empty(_errors);

        Assert.Equal(Enumerable.Range(0, 100), handled);
        await loop.PingAsync().WaitAsync(Limit); // a finished loop answers at once
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_throwing_handler_is_reported_and_the_loop_goes_on(string? thread)
    {
        var loop = new SessionLoop(thread);
        var errors = new List<string>();
        var ran = 0;
        var run = loop.RunAsync(work => work.Action!(), e => errors.Add(e.Message));

        loop.Post(() => throw new InvalidOperationException("bad packet"));
        loop.Post(() => ran++);
        await loop.PingAsync().WaitAsync(Limit);
        loop.Complete();
        await run.WaitAsync(Limit);
        Assert.Empty(_errors);

        Assert.Equal(["bad packet"], errors);
        Assert.Equal(1, ran);
    }

    [Fact]
    public async Task A_full_queue_refuses_packets_and_counts_them_but_never_control_work()
    {
        var loop = new SessionLoop("loop-test");
        var gate = new ManualResetEventSlim();
        var actions = 0;
        var run = loop.RunAsync(work =>
        {
            if (work.Kind == SessionWorkKind.Action)
            {
                work.Action!();
            }
        }, _errors.Add);

        loop.Post(() => gate.Wait(Limit));
        var accepted = 0;
        for (var i = 0; i < SessionLoop.MaxQueuedPackets + 10; i++)
        {
            accepted += loop.PostPacket(SessionWorkKind.TunPacket, [], 0, i) ? 1 : 0;
        }
        Assert.True(loop.Post(() => actions++));
        gate.Set();
        await loop.PingAsync().WaitAsync(Limit);
        loop.Complete();
        await run.WaitAsync(Limit);
        Assert.Empty(_errors);

        Assert.Equal(SessionLoop.MaxQueuedPackets, accepted);
        Assert.Equal(10, loop.OverflowDrops);
        Assert.Equal(1, actions);
    }
}
