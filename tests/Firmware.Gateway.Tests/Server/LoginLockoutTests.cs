using Firmware.Gateway.Server;
using Microsoft.Extensions.Time.Testing;

namespace Firmware.Gateway.Tests.Server;

public sealed class LoginLockoutTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Locks_a_user_after_repeated_failures_for_the_lock_duration()
    {
        var lockout = new LoginLockout(_time, maxFailures: 5, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15));
        for (var i = 0; i < 4; i++)
        {
            Assert.False(lockout.RecordFailure("alice", $"192.0.2.{i}"));
        }
        Assert.Null(lockout.LockedUntil("alice", "192.0.2.99"));
        Assert.True(lockout.RecordFailure("alice", "192.0.2.50"));
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(15), lockout.LockedUntil("alice", "192.0.2.99"));
        Assert.Null(lockout.LockedUntil("bob", "192.0.2.99"));

        _time.Advance(TimeSpan.FromMinutes(15));
        Assert.Null(lockout.LockedUntil("alice", "192.0.2.99"));
    }

    [Fact]
    public void Locks_a_source_that_guesses_many_users()
    {
        var lockout = new LoginLockout(_time, maxFailures: 3, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10));
        lockout.RecordFailure("a", "198.51.100.7");
        lockout.RecordFailure("b", "198.51.100.7");
        Assert.True(lockout.RecordFailure("c", "198.51.100.7"));
        Assert.NotNull(lockout.LockedUntil("d", "198.51.100.7"));
        Assert.Null(lockout.LockedUntil("d", "198.51.100.8"));
    }

    [Fact]
    public void Failures_outside_the_window_do_not_add_up_and_success_resets_the_user()
    {
        var lockout = new LoginLockout(_time, maxFailures: 3, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10));
        lockout.RecordFailure("alice", "s1");
        lockout.RecordFailure("alice", "s2");
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(lockout.RecordFailure("alice", "s3"));
        lockout.RecordFailure("alice", "s4");
        lockout.RecordSuccess("alice");
        Assert.False(lockout.RecordFailure("alice", "s5"));
        Assert.Null(lockout.LockedUntil("alice", "s6"));
    }

    [Fact]
    public void Memory_stays_bounded_under_a_flood_of_sources()
    {
        var lockout = new LoginLockout(_time, maxFailures: 3, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10));
        for (var i = 0; i < LoginLockout.MaxTrackedKeys * 2; i++)
        {
            lockout.RecordFailure("victim", $"src{i}");
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }
        Assert.NotNull(lockout.LockedUntil("victim", "nowhere"));
    }

    [Fact]
    public void Failures_under_an_empty_or_unknown_name_count_against_the_source_only()
    {
        var lockout = new LoginLockout(_time, maxFailures: 5, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15));
        for (var i = 0; i < 5; i++)
        {
            lockout.RecordFailure("", "203.0.113.9");
            lockout.RecordFailure(null, "203.0.113.10");
        }
        Assert.NotNull(lockout.SourceLockedUntil("203.0.113.9"));
        Assert.NotNull(lockout.SourceLockedUntil("203.0.113.10"));
        // Nobody else is locked: not another source, not any account (the empty name is no account).
        Assert.Null(lockout.SourceLockedUntil("198.51.100.2"));
        Assert.Null(lockout.LockedUntil("alice", "198.51.100.2"));
        Assert.Null(lockout.LockedUntil("", "198.51.100.2"));
    }

    [Fact]
    public void A_lock_cannot_be_flushed_by_filling_the_table()
    {
        var lockout = new LoginLockout(_time, maxFailures: 3, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10));
        for (var i = 0; i < 3; i++)
        {
            lockout.RecordFailure("victim", "198.51.100.66");
        }
        Assert.NotNull(lockout.SourceLockedUntil("198.51.100.66"));
        for (var i = 0; i < LoginLockout.MaxTrackedKeys * 2; i++)
        {
            lockout.RecordFailure($"user{i}", $"src{i}");
        }
        Assert.NotNull(lockout.SourceLockedUntil("198.51.100.66"));
        Assert.NotNull(lockout.LockedUntil("victim", "elsewhere"));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(+1)]
    public void A_wall_clock_step_neither_ends_nor_stretches_a_window_or_a_lock(int hours)
    {
        var clock = new SteppingWallClock();
        var lockout = new LoginLockout(clock, maxFailures: 3, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10));
        lockout.RecordFailure("alice", "s1");
        lockout.RecordFailure("alice", "s2");
        clock.StepWallClock(TimeSpan.FromHours(hours));
        // Still inside the 5-minute window by elapsed time: the third failure locks.
        Assert.True(lockout.RecordFailure("alice", "s3"));
        clock.StepWallClock(TimeSpan.FromHours(hours));
        clock.Advance(TimeSpan.FromMinutes(9));
        Assert.NotNull(lockout.LockedUntil("alice", "s9"));
        Assert.Equal(clock.GetUtcNow() + TimeSpan.FromMinutes(1), lockout.LockedUntil("alice", "s9"));
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(lockout.LockedUntil("alice", "s9"));
    }
}
