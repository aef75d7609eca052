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
        time.Elapse(TimeSpan.FromSeconds(1));
        time.FireNow(); // the platform timer fires while the clock still reads before the deadline
        Assert.Equal(0, fired);
        Assert.True(timer.IsRunning);
        Assert.Equal(TimeSpan.FromSeconds(2), time.LastDueTime); // re-armed for what is left

        time.Elapse(TimeSpan.FromSeconds(2));
        time.FireNow();
        Assert.Equal(1, fired);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(+1)]
    public void A_wall_clock_step_neither_stalls_nor_hastens_a_timer(int hours)
    {
        // A Pi has no RTC: its wall clock steps when time sync arrives. An LCP restart timer armed before the
        // step must still expire after its 3 s of elapsed (monotonic) time, not an hour later or at once.
        var time = new EarlyTimerProvider();
        var fired = 0;
        using var timer = new ProtocolTimer(time, () => fired++);

        timer.Start(TimeSpan.FromSeconds(3));
        time.Elapse(TimeSpan.FromSeconds(1));
        time.StepWallClock(TimeSpan.FromHours(hours));
        time.FireNow();
        Assert.Equal(0, fired);
        Assert.Equal(TimeSpan.FromSeconds(2), time.LastDueTime);

        time.Elapse(TimeSpan.FromSeconds(2));
        time.FireNow();
        Assert.Equal(1, fired);
    }

    [Fact]
    public void A_timer_started_and_stopped_for_every_packet_leaves_the_platform_timer_alone()
    {
        // The GRE window's ack timer: started when a packet arrives, stopped when the ack rides on the next send.
        var time = new EarlyTimerProvider();
        var fired = 0;
        using var timer = new ProtocolTimer(time, () => fired++);

        for (var i = 0; i < 1000; i++)
        {
            timer.Start(TimeSpan.FromMilliseconds(100));
            time.Elapse(TimeSpan.FromTicks(100)); // 10 µs
            timer.Stop();
        }
        Assert.Equal(1, time.Changes);

        timer.Start(TimeSpan.FromMilliseconds(100)); // due at 110 ms; the platform timer fires at 100 ms
        time.Elapse(TimeSpan.FromMilliseconds(90));
        time.FireNow();
        Assert.Equal(0, fired);
        Assert.Equal(TimeSpan.FromMilliseconds(10), time.LastDueTime);
        time.Elapse(TimeSpan.FromMilliseconds(10));
        time.FireNow();
        Assert.Equal(1, fired);

        // A stopped timer's platform expiry does nothing; an earlier deadline than the armed one moves it.
        timer.Start(TimeSpan.FromSeconds(3));
        timer.Stop();
        time.FireNow();
        Assert.Equal(1, fired);
        timer.Start(TimeSpan.FromSeconds(3));
        timer.Start(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(1), time.LastDueTime);
        Assert.Equal(5, time.Changes);
    }

    /// <summary>
    /// A time provider whose one timer fires only when told, whatever the clock says; its wall clock can step
    /// apart from its monotonic one, as a board's does when time sync arrives.
    /// </summary>
    private sealed class EarlyTimerProvider : TimeProvider
    {
        private static readonly DateTimeOffset Boot = new(1970, 1, 1, 0, 0, 10, TimeSpan.Zero);
        private TimerCallback? _callback;
        private object? _state;
        private TimeSpan _monotonic = TimeSpan.FromSeconds(10);
        private TimeSpan _wallOffset;

        public TimeSpan LastDueTime { get; private set; }

        /// <summary>How often the platform timer was moved.</summary>
        public int Changes { get; private set; }

        public void Elapse(TimeSpan duration) => _monotonic += duration;

        public void StepWallClock(TimeSpan step) => _wallOffset += step;

        public override DateTimeOffset GetUtcNow() => Boot + _monotonic + _wallOffset;

        public override long GetTimestamp() => _monotonic.Ticks;

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
                owner.Changes++;
                return true;
            }

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
