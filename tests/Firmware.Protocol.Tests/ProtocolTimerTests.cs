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
}
