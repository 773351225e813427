using Tollgate.Ledger;

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

    /// <summary>The hour or day of this row (see <see cref="SpendQuery.PeriodOf"/>); null when the report is not split in time.</summary>
    public string? Period { get; init; }
}

/// <summary>Adds up ledger records by one grouping (and per hour or day), in decimal, most costly group first.</summary>
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
        await foreach (var record in store.ReadAsync(query.From, cancellationToken))
        {
            if (record.Timestamp >= query.To)
            {
                break;
            }

            var key = (query.PeriodOf(record.Timestamp), query.Grouping.KeyOf(record) ?? SpendGrouping.None);
            if (!groups.TryGetValue(key, out var accumulator))
            {
                accumulator = new Accumulator(repricer);
                groups[key] = accumulator;
            }

            accumulator.Add(record);
        }

        return [.. groups
            .Select(g => g.Value.ToRow(g.Key.Group) with { Period = g.Key.Period })
            .OrderBy(r => r.Period, StringComparer.Ordinal)
            .ThenByDescending(r => r.CostUsd)
            .ThenBy(r => r.Group, StringComparer.Ordinal)];
    }

    private sealed class Accumulator(Repricer? repricer)
    {
        private long _requests, _input, _cached, _write, _output, _reasoning, _unpriced, _estimated, _unrepriced;
        private decimal _cost, _repriced, _repricedFrom, _cacheSavings;

        public void Add(UsageRecord record)
        {
            _requests++;
            _input += record.Usage.InputTokens ?? 0;
            _cached += record.Usage.CachedInputTokens ?? 0;
            _write += record.Usage.CacheWriteTokens ?? 0;
            _output += record.Usage.OutputTokens ?? 0;
            _reasoning += record.Usage.ReasoningTokens ?? 0;
            _estimated += record.Usage.Estimated ? 1 : 0;
            _cacheSavings += record.CacheSavingsUsd ?? 0;
            if (record.Cost.Total is { } cost)
            {
                _cost += cost;
            }
            else
            {
                _unpriced++;
            }

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

        public SpendRow ToRow(string group) => new(group, _requests, _input, _cached, _write, _output, _reasoning, _cost, _unpriced, _estimated)
        {
            RepricedCostUsd = repricer is null ? null : _repriced,
            UnrepricedRequests = _unrepriced,
            RepricedFromUsd = _repricedFrom,
            CacheSavingsUsd = _cacheSavings,
        };
    }
}
