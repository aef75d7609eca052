using Firmware.Gateway.Client;

namespace Firmware.Gateway.Tests.Client;

public sealed class RedialBackoffTests
{
    [Fact]
    public void Doubles_up_to_the_cap_within_jitter_bounds()
    {
        var backoff = new RedialBackoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60), () => 0.999999);
        var waits = Enumerable.Range(0, 8).Select(_ => backoff.Next().TotalSeconds).ToArray();
        Assert.Equal([2, 4, 8, 16, 32, 60, 60, 60], waits.Select(w => Math.Round(w)).ToArray());

        var low = new RedialBackoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60), () => 0);
        Assert.Equal([1, 2, 4, 8, 16, 30], Enumerable.Range(0, 6).Select(_ => low.Next().TotalSeconds).ToArray());
    }

    [Fact]
    public void Reset_starts_over()
    {
        var backoff = new RedialBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), () => 0.999999);
        backoff.Next();
        backoff.Next();
        backoff.Reset();
        Assert.Equal(1, Math.Round(backoff.Next().TotalSeconds));
    }
}
