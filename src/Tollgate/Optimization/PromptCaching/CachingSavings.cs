using Tollgate.Metering;

namespace Tollgate.Optimization.PromptCaching;

/// <summary>
/// What prompt caching saved on one request: the cost of the same tokens with every input token at the plain input
/// rate, less the cost actually paid. A cache write costs more than plain input, so a request that only wrote to the
/// cache has a negative saving; the reads that follow make it up.
/// </summary>
public static class CachingSavings
{
    public static decimal Of(Usage usage, TokenPrice price)
    {
        ArgumentNullException.ThrowIfNull(usage);
        ArgumentNullException.ThrowIfNull(price);
        if ((usage.CachedInputTokens ?? 0) == 0 && (usage.CacheWriteTokens ?? 0) == 0)
        {
            return 0m;
        }

        var uncached = usage with { CachedInputTokens = 0, CacheWriteTokens = 0, CacheWrite1hTokens = 0 };
        return (CostCalculator.Price(uncached, price).Total ?? 0) - (CostCalculator.Price(usage, price).Total ?? 0);
    }
}
