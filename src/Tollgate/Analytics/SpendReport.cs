using Tollgate.Ledger;
using Tollgate.Ledger.Rollups;

namespace Tollgate.Analytics;

/// <summary>One row of a spend report: a group's request count, tokens by kind and exact cost.</summary>
public sealed record SpendRow(
    string Group,
    long Requests,
    long InputTokens,
    long CachedInputTokens,
    long CacheWriteTokens,
    long OutputTokens,
    long ReasoningTokens,
    decimal CostUsd,
    long UnpricedRequests,
    long EstimatedRequests)
{
    /// <summary>The same usage at other prices, when the report was asked to reprice; null otherwise.</summary>
    public decimal? RepricedCostUsd { get; init; }

    /// <summary>Requests the repricing had no price for (left out of <see cref="RepricedCostUsd"/>).</summary>
    public long UnrepricedRequests { get; init; }

    /// <summary>What the repriced requests cost as recorded: the base the repricing's change is measured against.</summary>
    public decimal RepricedFromUsd { get; init; }

    /// <summary>What prompt caching saved in this group (reads at the cached rate, less the premium paid on writes).</summary>
    public decimal CacheSavingsUsd { get; init; }

    /// <summary>Requests answered from the response cache, with no provider call.</summary>
    public long ResponseCacheHits { get; init; }

    /// <summary>What the response cache's answers would have cost from the provider.</summary>
    public decimal ResponseCacheSavedUsd { get; init; }

    /// <summary>What the response cache's own calls cost: the semantic cache's embeddings and the bounded mode's verifications.</summary>
    public decimal ResponseCacheSpentUsd { get; init; }

    /// <summary>What routing saved: routed requests' cost on their router's reference target less what they cost.</summary>
    public decimal RoutingSavedUsd { get; init; }

    /// <summary>What batching saved: batch lines' cost at realtime prices less their cost at batch prices.</summary>
    public decimal BatchSavedUsd { get; init; }

    /// <summary>The hour or day of this row (see <see cref="SpendQuery.PeriodOf"/>); null when the report is not split in time.</summary>
    public string? Period { get; init; }
}

/// <summary>
/// Adds up spend by one grouping (and per hour or day), in decimal, most costly group first. Whole hours come from the
/// ledger's hourly rollups when it keeps them; the edges of the range that are not whole hours, hours a rollup does
/// not cover completely (an overflowed dimension, an hour split between two local days) and records written after
/// the rollups' mark come from raw records — so the answer equals the sum over raw records to the last decimal. A
/// reprice reads raw records: a long-context rate depends on each request's own prompt, which a sum does not keep.
/// </summary>
public static class SpendReport
{
    public static Task<IReadOnlyList<SpendRow>> BuildAsync(
        ILedgerStore store, SpendGrouping grouping, DateTimeOffset since, CancellationToken cancellationToken, Repricer? repricer = null) =>
        BuildAsync(store, new SpendQuery(grouping, since, DateTimeOffset.MaxValue, TimeBucket.None, TimeZoneInfo.Utc), cancellationToken, repricer);

    public static async Task<IReadOnlyList<SpendRow>> BuildAsync(ILedgerStore store, SpendQuery query, CancellationToken cancellationToken, Repricer? repricer = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(query);
        var groups = new Dictionary<(string? Period, string Group), Accumulator>();
        Accumulator GroupOf(string? period, string? group)
        {
            var key = (period, group ?? SpendGrouping.None);
            if (!groups.TryGetValue(key, out var accumulator))
            {
                accumulator = new Accumulator(repricer);
                groups[key] = accumulator;
            }

            return accumulator;
        }

        void AddRecord(UsageRecord record) => GroupOf(query.PeriodOf(record.Timestamp), query.Grouping.KeyOf(record)).Add(record);

        // Every value of a dimension has a row an hour: the hour's period is worked out (a zone conversion) once.
        var periods = new Dictionary<long, string?>();
        string? PeriodOfHour(long hour) =>
            periods.TryGetValue(hour, out var period) ? period : periods[hour] = query.PeriodOf(RollupDimensions.StartOf(hour));

        if (repricer is null)
        {
            // An hour split between two local periods (a zone offset of half an hour) is read raw.
            bool Splits(long hour) => query.Bucket != TimeBucket.None
                && query.PeriodOf(RollupDimensions.StartOf(hour)) != query.PeriodOf(RollupDimensions.StartOf(hour + 1).AddTicks(-1));
            await RollupReader.ReadAsync(
                store, query.Grouping.RollupDimension, query.From, query.To, Splits,
                (hour, value, totals) => GroupOf(PeriodOfHour(hour), value is null ? null : query.Grouping.KeyOfRollup(hour, value)).Add(totals),
                AddRecord,
                cancellationToken);
        }
        else
        {
            await foreach (var record in Raw(store, query.From, query.To, cancellationToken))
            {
                AddRecord(record);
            }
        }

        return [.. groups
            .Select(g => g.Value.ToRow(g.Key.Group) with { Period = g.Key.Period })
            .OrderBy(r => r.Period, StringComparer.Ordinal)
            .ThenByDescending(r => r.CostUsd)
            .ThenBy(r => r.Group, StringComparer.Ordinal)];
    }

    private static IAsyncEnumerable<UsageRecord> Raw(ILedgerStore store, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        store.ReadAsync(from, to, cancellationToken);

    private sealed class Accumulator(Repricer? repricer)
    {
        private readonly RollupTotals _totals = new();
        private long _unrepriced;
        private decimal _repriced, _repricedFrom;

        public void Add(RollupTotals totals) => _totals.Add(totals);

        public void Add(UsageRecord record)
        {
            _totals.Add(record);
            if (repricer?.Cost(record) is { } repriced && record.Cost.Total is { } recorded)
            {
                _repriced += repriced;
                _repricedFrom += recorded;
            }
            else if (repricer is not null)
            {
                _unrepriced++;
            }
        }

        public SpendRow ToRow(string group) => new(
            group, _totals.Requests, _totals.InputTokens, _totals.CachedInputTokens, _totals.CacheWriteTokens, _totals.OutputTokens,
            _totals.ReasoningTokens, _totals.CostTotal, _totals.UnpricedRequests, _totals.EstimatedRequests)
        {
            RepricedCostUsd = repricer is null ? null : _repriced,
            UnrepricedRequests = _unrepriced,
            RepricedFromUsd = _repricedFrom,
            CacheSavingsUsd = _totals.CacheSavings,
            ResponseCacheHits = _totals.ResponseCacheHits,
            ResponseCacheSavedUsd = _totals.ResponseCacheSaved,
            ResponseCacheSpentUsd = _totals.ResponseCacheSpent,
            RoutingSavedUsd = _totals.RoutingSaved,
            BatchSavedUsd = _totals.BatchSaved,
        };
    }
}
