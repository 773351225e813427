using Tollgate.Configuration;

namespace Tollgate.Gateway.Forwarding;

/// <summary>
/// The wait before retry number <c>n</c> (1-based): the provider's Retry-After when it gave one, otherwise
/// "full jitter" — a uniform random wait between zero and <c>base × 2^(n−1)</c>, capped — so that clients that
/// failed together do not come back together.
/// </summary>
public static class Backoff
{
    public static TimeSpan Delay(int retry, TimeSpan? retryAfter, RetrySettings settings, Random random)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(random);
        if (retryAfter is { } hint)
        {
            return hint;
        }

        var ceiling = settings.BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retry - 1, 30));
        return TimeSpan.FromMilliseconds(random.NextDouble() * Math.Min(ceiling, settings.MaxDelay.TotalMilliseconds));
    }
}
