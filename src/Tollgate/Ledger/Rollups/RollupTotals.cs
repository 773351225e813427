using Tollgate.Metering;

namespace Tollgate.Ledger.Rollups;

/// <summary>
/// What a set of records adds up to: request count, every token kind and every cost component, summed exactly
/// (integers and <see cref="decimal"/>). Built from records one by one, or from other totals; an hourly rollup row holds
/// one, and a report adds rows and raw records into one the same way.
/// </summary>
public sealed class RollupTotals
{
    public long Requests { get; set; }
    public long InputTokens { get; set; }
    public long CachedInputTokens { get; set; }
    public long CacheWriteTokens { get; set; }
    public long CacheWrite1hTokens { get; set; }
    public long OutputTokens { get; set; }
    public long ReasoningTokens { get; set; }
    public long EstimatedRequests { get; set; }
    public long UnpricedRequests { get; set; }
    public decimal CostInput { get; set; }
    public decimal CostCachedInput { get; set; }
    public decimal CostCacheWrite { get; set; }
    public decimal CostOutput { get; set; }
    public decimal CostReasoning { get; set; }

    /// <summary>Of the priced requests only (an unpriced one is counted in <see cref="UnpricedRequests"/>).</summary>
    public decimal CostTotal { get; set; }
    public decimal CacheSavings { get; set; }

    /// <summary>Requests answered from the response cache (no provider call).</summary>
    public long ResponseCacheHits { get; set; }

    /// <summary>What those answers would have cost from the provider.</summary>
    public decimal ResponseCacheSaved { get; set; }

    /// <summary>What the response cache's own calls cost (<see cref="ResponseCacheWork"/>): embeddings and verifications.</summary>
    public decimal ResponseCacheSpent { get; set; }

    /// <summary>What routing saved: the routed requests' cost on their router's reference target less their cost.</summary>
    public decimal RoutingSaved { get; set; }

    /// <summary>What batching saved: batch lines' cost at realtime prices less their cost at batch prices.</summary>
    public decimal BatchSaved { get; set; }

    public void Add(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Add(record.Usage, record.Cost, record.CacheSavingsUsd);
        if (ResponseCacheWork.Of(record))
        {
            ResponseCacheSpent += record.Cost.Total ?? 0;
        }

        RoutingSaved += record.RoutingSavedUsd ?? 0;
        BatchSaved += record.BatchSavedUsd ?? 0;

        if (record.ResponseCacheHit is not null)
        {
            ResponseCacheHits++;
            ResponseCacheSaved += record.ResponseCacheSavedUsd ?? 0;
        }
    }

    /// <summary>Adds one record's usage and cost (the parts a rollup keeps).</summary>
    public void Add(Usage usage, CostBreakdown cost, decimal? cacheSavings)
    {
        ArgumentNullException.ThrowIfNull(usage);
        ArgumentNullException.ThrowIfNull(cost);
        Requests++;
        InputTokens += usage.InputTokens ?? 0;
        CachedInputTokens += usage.CachedInputTokens ?? 0;
        CacheWriteTokens += usage.CacheWriteTokens ?? 0;
        CacheWrite1hTokens += usage.CacheWrite1hTokens ?? 0;
        OutputTokens += usage.OutputTokens ?? 0;
        ReasoningTokens += usage.ReasoningTokens ?? 0;
        EstimatedRequests += usage.Estimated ? 1 : 0;
        CostInput += cost.Input;
        CostCachedInput += cost.CachedInput;
        CostCacheWrite += cost.CacheWrite;
        CostOutput += cost.Output;
        CostReasoning += cost.Reasoning;
        if (cost.Total is { } total)
        {
            CostTotal += total;
        }
        else
        {
            UnpricedRequests++;
        }

        CacheSavings += cacheSavings ?? 0;
    }

    public void Add(RollupTotals other) => Add(other, 1);

    /// <summary>Takes <paramref name="other"/> out (exact: integers and decimals), e.g. an hour's tagged rows from its total.</summary>
    public void Subtract(RollupTotals other)
    {
        Add(other, -1);

        // A difference keeps the larger scale of its operands (0.0513410 - 0.0000000 = 0.0513410); written without
        // the trailing zeros it reads as the same sum over records would.
        CostInput = Trim(CostInput);
        CostCachedInput = Trim(CostCachedInput);
        CostCacheWrite = Trim(CostCacheWrite);
        CostOutput = Trim(CostOutput);
        CostReasoning = Trim(CostReasoning);
        CostTotal = Trim(CostTotal);
        CacheSavings = Trim(CacheSavings);
        ResponseCacheSaved = Trim(ResponseCacheSaved);
        ResponseCacheSpent = Trim(ResponseCacheSpent);
        RoutingSaved = Trim(RoutingSaved);
        BatchSaved = Trim(BatchSaved);
    }

    private static decimal Trim(decimal value) => value / 1.0000000000000000000000000000m;

    private void Add(RollupTotals other, int sign)
    {
        ArgumentNullException.ThrowIfNull(other);
        Requests += sign * other.Requests;
        InputTokens += sign * other.InputTokens;
        CachedInputTokens += sign * other.CachedInputTokens;
        CacheWriteTokens += sign * other.CacheWriteTokens;
        CacheWrite1hTokens += sign * other.CacheWrite1hTokens;
        OutputTokens += sign * other.OutputTokens;
        ReasoningTokens += sign * other.ReasoningTokens;
        EstimatedRequests += sign * other.EstimatedRequests;
        UnpricedRequests += sign * other.UnpricedRequests;
        CostInput += sign * other.CostInput;
        CostCachedInput += sign * other.CostCachedInput;
        CostCacheWrite += sign * other.CostCacheWrite;
        CostOutput += sign * other.CostOutput;
        CostReasoning += sign * other.CostReasoning;
        CostTotal += sign * other.CostTotal;
        CacheSavings += sign * other.CacheSavings;
        ResponseCacheHits += sign * other.ResponseCacheHits;
        ResponseCacheSaved += sign * other.ResponseCacheSaved;
        ResponseCacheSpent += sign * other.ResponseCacheSpent;
        RoutingSaved += sign * other.RoutingSaved;
        BatchSaved += sign * other.BatchSaved;
    }
}
