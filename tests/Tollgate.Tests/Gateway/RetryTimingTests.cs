using Tollgate.Configuration;
using Tollgate.Gateway.Forwarding;
using Xunit;

namespace Tollgate.Tests.Gateway;

public sealed class RetryTimingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("retry-after", "2", 2000)]
    [InlineData("Retry-After", "0.5", 500)]
    [InlineData("retry-after", "Tue, 24 Nov 2026 12:00:07 GMT", 7000)]
    [InlineData("retry-after", "Tue, 24 Nov 2026 11:59:00 GMT", 0)]
    [InlineData("retry-after-ms", "1500", 1500)]
    public void A_providers_wait_hint_is_read_in_seconds_milliseconds_or_as_a_date(string name, string value, int expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), RetryAfter.Parse([new(name, value)], Now));
    }

    [Fact]
    public void Retry_after_ms_wins_over_retry_after_and_nonsense_is_no_hint()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(250), RetryAfter.Parse([new("retry-after", "9"), new("retry-after-ms", "250")], Now));
        Assert.Null(RetryAfter.Parse([new("retry-after", "soon")], Now));
        Assert.Null(RetryAfter.Parse([new("retry-after", "-3")], Now));
    }

    [Fact]
    public void Without_a_hint_the_wait_is_full_jitter_under_a_doubling_ceiling()
    {
        var settings = RetrySettings.Default with { BaseDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(1000) };
        var random = new Random(7);

        var third = Enumerable.Range(0, 2000).Select(_ => Backoff.Delay(3, null, settings, random)).ToList();
        var tenth = Enumerable.Range(0, 2000).Select(_ => Backoff.Delay(10, null, settings, random)).ToList();

        Assert.All(third, d => Assert.InRange(d.TotalMilliseconds, 0, 400));
        Assert.True(third.Max().TotalMilliseconds > 380 && third.Min().TotalMilliseconds < 20, "spread over the whole range");
        Assert.All(tenth, d => Assert.InRange(d.TotalMilliseconds, 0, 1000));
        Assert.Equal(TimeSpan.FromSeconds(2), Backoff.Delay(3, TimeSpan.FromSeconds(2), settings, random));
    }

    [Fact]
    public async Task A_retry_never_goes_before_its_due_time_even_when_timers_fire_early()
    {
        var time = new EarlyTimers(TimeSpan.FromMilliseconds(15));
        var start = time.GetUtcNow();

        await RetryWait.UntilAsync(TimeSpan.FromMilliseconds(60), time, CancellationToken.None);

        Assert.True(time.GetUtcNow() - start >= TimeSpan.FromMilliseconds(60), $"waited {(time.GetUtcNow() - start).TotalMilliseconds} ms");
    }

    /// <summary>The system clock, with timers that fire a fixed time before they are due (as coarse timer ticks can).</summary>
    private sealed class EarlyTimers(TimeSpan early) : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            System.CreateTimer(callback, state, dueTime > early ? dueTime - early : TimeSpan.Zero, period);
    }
}
