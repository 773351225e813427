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
    /// <summary>Rollups are read up to this date at most: an open-ended range ends here.</summary>
    private static readonly DateTimeOffset FarFuture = new(9000, 1, 1, 0, 0, 0, TimeSpan.Zero);

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

        if (repricer is null && store is IRollupStore rollups)
        {
            await AddWithRollupsAsync(store, rollups, query, GroupOf, AddRecord, cancellationToken);
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

    private static async Task AddWithRollupsAsync(
        ILedgerStore store, IRollupStore rollups, SpendQuery query, Func<string?, string?, Accumulator> groupOf, Action<UsageRecord> addRecord, CancellationToken cancellationToken)
    {
        var end = query.To > FarFuture ? FarFuture : query.To;
        var firstHour = RollupDimensions.HourOf(query.From) + (RollupDimensions.StartOf(RollupDimensions.HourOf(query.From)) == query.From ? 0 : 1);
        var endHour = RollupDimensions.HourOf(end);
        if (endHour <= firstHour)
        {
            await foreach (var record in Raw(store, query.From, query.To, cancellationToken))
            {
                addRecord(record);
            }

            return;
        }

        var snapshot = await rollups.ReadRollupsAsync(query.Grouping.RollupDimension, firstHour, endHour, cancellationToken);

        // Hours the rollup cannot answer for this report are read raw, whole.
        var rawHours = new SortedSet<long>(snapshot.IncompleteHours);
        bool Splits(long hour) => query.PeriodOf(RollupDimensions.StartOf(hour)) != query.PeriodOf(RollupDimensions.StartOf(hour + 1).AddTicks(-1));
        var tagged = new Dictionary<long, RollupTotals>();
        foreach (var row in snapshot.Rows)
        {
            if (rawHours.Contains(row.Hour) || (query.Bucket != TimeBucket.None && Splits(row.Hour) && rawHours.Add(row.Hour)))
            {
                continue;
            }

            groupOf(query.PeriodOf(RollupDimensions.StartOf(row.Hour)), query.Grouping.KeyOfRollup(row.Hour, row.Value)).Add(row.Totals);
            if (snapshot.HourTotals.Count > 0)
            {
                (tagged.TryGetValue(row.Hour, out var sum) ? sum : tagged[row.Hour] = new RollupTotals()).Add(row.Totals);
            }
        }

        // A tag dimension keeps rows for the records that carry the tag; the others are the hour's total less those.
        foreach (var (hour, total) in snapshot.HourTotals)
        {
            if (rawHours.Contains(hour) || (query.Bucket != TimeBucket.None && Splits(hour) && rawHours.Add(hour)))
            {
                continue;
            }

            var untagged = new RollupTotals();
            untagged.Add(total);
            if (tagged.TryGetValue(hour, out var withTag))
            {
                untagged.Subtract(withTag);
            }

            if (untagged.Requests > 0)
            {
                groupOf(query.PeriodOf(RollupDimensions.StartOf(hour)), null).Add(untagged);
            }
        }

        var ranges = new List<(DateTimeOffset From, DateTimeOffset To)> { (query.From, RollupDimensions.StartOf(firstHour)) };
        foreach (var hour in rawHours)
        {
            ranges.Add((RollupDimensions.StartOf(hour), RollupDimensions.StartOf(hour + 1)));
        }

        ranges.Add((RollupDimensions.StartOf(endHour), query.To));
        foreach (var (from, to) in ranges.Where(r => r.From < r.To))
        {
            await foreach (var record in Raw(store, from, to, cancellationToken))
            {
                addRecord(record);
            }
        }

        // Records written after the rollups' mark, in the whole hours (not already read raw above).
        await foreach (var record in rollups.ReadAfterMarkAsync(snapshot.Mark, RollupDimensions.StartOf(firstHour), RollupDimensions.StartOf(endHour), cancellationToken))
        {
            if (!rawHours.Contains(RollupDimensions.HourOf(record.Timestamp)))
            {
                addRecord(record);
            }
        }
    }

    private static IAsyncEnumerable<UsageRecord> Raw(ILedgerStore store, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        store.ReadAsync(from, cancellationToken).TakeWhile(r => r.Timestamp < to);

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
        };
    }
}
