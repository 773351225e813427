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
    long EstimatedRequests);

/// <summary>Adds up ledger records by one grouping, in decimal, most costly group first.</summary>
public static class SpendReport
{
    public static async Task<IReadOnlyList<SpendRow>> BuildAsync(ILedgerStore store, SpendGrouping grouping, DateTimeOffset since, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(grouping);
        var groups = new Dictionary<string, Accumulator>(StringComparer.Ordinal);
        await foreach (var record in store.ReadAsync(since, cancellationToken))
        {
            var key = grouping.KeyOf(record) ?? SpendGrouping.None;
            if (!groups.TryGetValue(key, out var accumulator))
            {
                accumulator = new Accumulator();
                groups[key] = accumulator;
            }

            accumulator.Add(record);
        }

        return [.. groups
            .Select(g => g.Value.ToRow(g.Key))
            .OrderByDescending(r => r.CostUsd)
            .ThenBy(r => r.Group, StringComparer.Ordinal)];
    }

    private sealed class Accumulator
    {
        private long _requests, _input, _cached, _write, _output, _reasoning, _unpriced, _estimated;
        private decimal _cost;

        public void Add(UsageRecord record)
        {
            _requests++;
            _input += record.Usage.InputTokens ?? 0;
            _cached += record.Usage.CachedInputTokens ?? 0;
            _write += record.Usage.CacheWriteTokens ?? 0;
            _output += record.Usage.OutputTokens ?? 0;
            _reasoning += record.Usage.ReasoningTokens ?? 0;
            _estimated += record.Usage.Estimated ? 1 : 0;
            if (record.Cost.Total is { } cost)
            {
                _cost += cost;
            }
            else
            {
                _unpriced++;
            }
        }

        public SpendRow ToRow(string group) => new(group, _requests, _input, _cached, _write, _output, _reasoning, _cost, _unpriced, _estimated);
    }
}
