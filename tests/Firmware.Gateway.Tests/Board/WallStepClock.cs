using Microsoft.Extensions.Time.Testing;

namespace Firmware.Gateway.Tests.Board;

/// <summary>
/// A fake clock whose wall time can be stepped on its own, as a Raspberry Pi's is when time sync arrives after boot:
/// <see cref="StepWall"/> moves <see cref="GetUtcNow"/> only, while timestamps and timers (monotonic) go on as
/// before. <see cref="Advance"/> moves both, like real time passing.
/// </summary>
internal sealed class WallStepClock : TimeProvider
{
    private TimeSpan _wallOffset;

    public FakeTimeProvider Monotonic { get; } = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public override DateTimeOffset GetUtcNow() => Monotonic.GetUtcNow() + _wallOffset;

    public override long GetTimestamp() => Monotonic.GetTimestamp();

    public override long TimestampFrequency => Monotonic.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        Monotonic.CreateTimer(callback, state, dueTime, period);

    /// <summary>Steps the wall clock (only) by <paramref name="step"/>.</summary>
    public void StepWall(TimeSpan step) => _wallOffset += step;

    /// <summary>Lets <paramref name="span"/> pass in 1 ms steps, so timers fire at their due times.</summary>
    public void Advance(TimeSpan span)
    {
        for (var left = span; left > TimeSpan.Zero; left -= TimeSpan.FromMilliseconds(1))
        {
            Monotonic.Advance(left < TimeSpan.FromMilliseconds(1) ? left : TimeSpan.FromMilliseconds(1));
        }
    }
}
