namespace Tollgate.Gateway.Forwarding;

/// <summary>
/// Waits before a retry until the clock has passed the due time. A timer may fire a few milliseconds early (the
/// runtime's timer ticks are coarser than the clock), and a provider that said "Retry-After: 2" must not see the
/// retry sooner than 2 s after its answer.
/// </summary>
public static class RetryWait
{
    public static async Task UntilAsync(TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        var due = time.GetUtcNow() + wait;
        for (var left = wait; left > TimeSpan.Zero; left = due - time.GetUtcNow())
        {
            await Task.Delay(left < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : left, time, cancellationToken);
        }
    }
}
