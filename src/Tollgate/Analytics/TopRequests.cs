using Tollgate.Ledger;

namespace Tollgate.Analytics;

/// <summary>The most costly requests of a time range, most costly first (unpriced requests are left out).</summary>
public static class TopRequests
{
    public static async Task<IReadOnlyList<UsageRecord>> FindAsync(ILedgerStore store, DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);

        // A min-heap of the best so far: one pass, memory for `limit` records only.
        var top = new PriorityQueue<UsageRecord, decimal>(limit + 1);
        await foreach (var record in store.ReadAsync(from, cancellationToken))
        {
            if (record.Timestamp >= to)
            {
                break;
            }

            if (record.Cost.Total is not { } cost)
            {
                continue;
            }

            if (top.Count < limit)
            {
                top.Enqueue(record, cost);
            }
            else if (top.TryPeek(out _, out var cheapest) && cost > cheapest)
            {
                top.DequeueEnqueue(record, cost);
            }
        }

        var result = new List<UsageRecord>(top.Count);
        while (top.TryDequeue(out var record, out _))
        {
            result.Add(record);
        }

        result.Reverse();
        return result;
    }
}
