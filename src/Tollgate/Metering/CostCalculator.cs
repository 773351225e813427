namespace Tollgate.Metering;

/// <summary>
/// Prices a canonical <see cref="Usage"/> exactly in decimal. Each token is priced once: cache reads and cache writes
/// are taken out of the input at their own rates, reasoning is taken out of the output at its own rate. A prompt
/// above a long-context threshold moves the whole request to the long-context rates. Built-in tool calls the price has a
/// rate for are added to the total (<see cref="BuiltInToolCalls"/>); those it has none for are left out, and named by
/// the caller.
/// </summary>
public static class CostCalculator
{
    private const decimal PerMillion = 1_000_000m;

    public static CostBreakdown Price(Usage usage, TokenPrice price)
    {
        ArgumentNullException.ThrowIfNull(usage);
        ArgumentNullException.ThrowIfNull(price);
        price = price.ForPrompt(usage.InputTokens ?? 0);

        var input = usage.UncachedInputTokens * price.InputPerMillion / PerMillion;
        var cached = (usage.CachedInputTokens ?? 0) * (price.CachedInputPerMillion ?? price.InputPerMillion) / PerMillion;
        var writeRate = price.CacheWritePerMillion ?? price.InputPerMillion;
        var writes1h = Math.Min(usage.CacheWrite1hTokens ?? 0, usage.CacheWriteTokens ?? 0);
        var write = (((usage.CacheWriteTokens ?? 0) - writes1h) * writeRate + writes1h * (price.CacheWrite1hPerMillion ?? writeRate)) / PerMillion;
        var output = usage.VisibleOutputTokens * price.OutputPerMillion / PerMillion;
        var reasoning = Math.Min(usage.ReasoningTokens ?? 0, usage.OutputTokens ?? 0)
            * (price.ReasoningPerMillion ?? price.OutputPerMillion) / PerMillion;
        var tools = BuiltInToolCalls.Price(usage.ToolCalls, price).Cost;
        return new CostBreakdown(input, cached, write, output, reasoning, input + cached + write + output + reasoning + tools);
    }

    /// <summary>
    /// Worst-case cost of a request before it is sent: every prompt token billed at the highest input rate it can get
    /// (uncached, or as a cache write when the request may write the cache), every allowed output token spent at the
    /// higher of the output and reasoning rates, all at the long-context rates when the prompt can reach them.
    /// </summary>
    public static decimal WorstCase(long promptTokens, long maxOutputTokens, TokenPrice price, bool writesCache = false)
    {
        ArgumentNullException.ThrowIfNull(price);
        price = price.ForPrompt(promptTokens);
        var inputRate = writesCache
            ? Math.Max(price.InputPerMillion, Math.Max(price.CacheWritePerMillion ?? 0, price.CacheWrite1hPerMillion ?? 0))
            : price.InputPerMillion;
        var outputRate = Math.Max(price.OutputPerMillion, price.ReasoningPerMillion ?? 0);
        return (promptTokens * inputRate + maxOutputTokens * outputRate) / PerMillion;
    }
}
