namespace Firmware.Gateway.Client;

/// <summary>
/// Exponential back-off with full jitter for redialing a server: the n-th wait is a random time in
/// [initial·2ⁿ/2, initial·2ⁿ], capped at <c>max</c>, so many boxes behind one failed server do not redial in step.
/// Reset after a link has stayed up.
/// </summary>
public sealed class RedialBackoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private readonly Func<double> _random;
    private int _attempt;

    /// <param name="random">A source of uniform values in [0, 1); tests pass a fixed one.</param>
    public RedialBackoff(TimeSpan initial, TimeSpan max, Func<double> random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, initial);
        ArgumentNullException.ThrowIfNull(random);
        _initial = initial;
        _max = max;
        _random = random;
    }

    /// <summary>The wait before the next dial.</summary>
    public TimeSpan Next()
    {
        var ceiling = _initial.Ticks * Math.Pow(2, Math.Min(_attempt, 30));
        ceiling = Math.Min(ceiling, _max.Ticks);
        _attempt++;
        return TimeSpan.FromTicks((long)(ceiling / 2 + _random() * ceiling / 2));
    }

    public void Reset() => _attempt = 0;
}
