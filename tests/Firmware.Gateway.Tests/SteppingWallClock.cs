using Microsoft.Extensions.Time.Testing;

namespace Firmware.Gateway.Tests;

/// <summary>
/// A fake clock whose wall clock can step apart from its monotonic one, as a Raspberry Pi's does when time
/// sync arrives after boot (it has no RTC). Timers and timestamps follow <see cref="Monotonic"/>;
/// <see cref="StepWallClock"/> moves only <see cref="GetUtcNow"/>.
/// </summary>
internal sealed class SteppingWallClock : TimeProvider
{
    private TimeSpan _wallOffset;

    public FakeTimeProvider Monotonic { get; } = new(new DateTimeOffset(1970, 1, 1, 0, 0, 30, TimeSpan.Zero));

    public void Advance(TimeSpan duration) => Monotonic.Advance(duration);

    public void StepWallClock(TimeSpan step) => _wallOffset += step;

    public override DateTimeOffset GetUtcNow() => Monotonic.GetUtcNow() + _wallOffset;

    public override long GetTimestamp() => Monotonic.GetTimestamp();

    public override long TimestampFrequency => Monotonic.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        => Monotonic.CreateTimer(callback, state, dueTime, period);
}
