using Firmware.Protocol;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Protocol.Tests;

public sealed class ProtocolTimerTests
{
    [Fact]
    public void Fires_once_when_due_and_not_before()
    {
        var time = new FakeTimeProvider();
        var fired = 0;
        using var timer = new ProtocolTimer(time, () => fired++);

        timer.Start(TimeSpan.FromSeconds(3));
        time.Advance(TimeSpan.FromMilliseconds(2999));
        Assert.Equal(0, fired);
        Assert.True(timer.IsRunning);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, fired);
        Assert.False(timer.IsRunning);

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void Restart_moves_the_deadline()
    {
        var time = new FakeTimeProvider();
        var fired = 0;
        using var timer = new ProtocolTimer(time, () => fired++);

        timer.Start(TimeSpan.FromSeconds(3));
        time.Advance(TimeSpan.FromSeconds(2));
        timer.Start(TimeSpan.FromSeconds(3));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(0, fired);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, fired);
    }

    [Fact]
    public void Expiry_posted_before_stop_is_discarded()
    {
        var time = new FakeTimeProvider();
        var posted = new Queue<Action>();
        var fired = 0;
        using var timer = new ProtocolTimer(time, () => fired++, posted.Enqueue);

        timer.Start(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Single(posted);

        timer.Stop();
        posted.Dequeue()();
        Assert.Equal(0, fired);

        timer.Start(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));
        posted.Dequeue()();
        Assert.Equal(1, fired);
    }

    [Fact]
    public void An_expiry_that_comes_early_by_the_clock_is_rearmed_not_lost()
    {
        var time = new EarlyTimerProvider();
        var fired = 0;
        using var timer = new ProtocolTimer(time, () => fired++);

        timer.Start(TimeSpan.FromSeconds(3));
        time.Now += TimeSpan.FromSeconds(1);
        time.FireNow(); // the platform timer fires while the clock still reads before the deadline
        Assert.Equal(0, fired);
        Assert.True(timer.IsRunning);
        Assert.Equal(TimeSpan.FromSeconds(2), time.LastDueTime); // re-armed for what is left

        time.Now += TimeSpan.FromSeconds(2);
        time.FireNow();
        Assert.Equal(1, fired);
    }

    /// <summary>A time provider whose one timer fires only when told, whatever the clock says.</summary>
    private sealed class EarlyTimerProvider : TimeProvider
    {
        private TimerCallback? _callback;
        private object? _state;

        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public TimeSpan LastDueTime { get; private set; }

        public override DateTimeOffset GetUtcNow() => Now;

        // The timer measures on timestamps (monotonic); here they follow the same hand-moved clock.
        public override long GetTimestamp() => Now.UtcTicks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public void FireNow() => _callback!(_state);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _callback = callback;
            _state = state;
            return new Timer(this);
        }

        private sealed class Timer(EarlyTimerProvider owner) : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                owner.LastDueTime = dueTime;
                return true;
            }

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
