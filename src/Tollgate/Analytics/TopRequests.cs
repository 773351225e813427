using Tollgate.Ledger;
using Tollgate.Ledger.Rollups;

namespace Tollgate.Analytics;

/// <summary>
/// The most costly requests of a time range, most costly first (unpriced requests are left out). With rollups, whole
/// hours are answered from each hour's kept most costly records — the range's top N is among its hours' top N — and
/// only the range's edges and the records past the rollups' mark are read raw.
/// </summary>
public static class TopRequests
{
    public static async Task<IReadOnlyList<UsageRecord>> FindAsync(ILedgerStore store, DateTimeOffset from, DateTimeOffset to, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);

        // A min-heap of the best so far: memory for `limit` candidates only. A candidate is a record, or a kept id.
        var top = new PriorityQueue<(string Id, UsageRecord? Record), decimal>(limit + 1);
        void Offer(string id, UsageRecord? record, decimal cost)
        {
            if (top.Count < limit)
            {
                top.Enqueue((id, record), cost);
            }
            else if (top.TryPeek(out _, out var cheapest) && cost > cheapest)
            {
                top.DequeueEnqueue((id, record), cost);
            }
        }

        void OfferRecord(UsageRecord record)
        {
            if (record.Cost.Total is { } cost)
            {
                Offer(record.Id, record, cost);
            }
        }

        var firstHour = RollupDimensions.HourOf(from) + (RollupDimensions.StartOf(RollupDimensions.HourOf(from)) == from ? 0 : 1);
        var endHour = to > new DateTimeOffset(9000, 1, 1, 0, 0, 0, TimeSpan.Zero) ? RollupDimensions.HourOf(new DateTimeOffset(9000, 1, 1, 0, 0, 0, TimeSpan.Zero)) : RollupDimensions.HourOf(to);
        if (store is IRollupStore rollups && limit <= rollups.TopPerHour && endHour > firstHour)
        {
            var (kept, mark) = await rollups.ReadTopAsync(firstHour, endHour, cancellationToken);
            foreach (var (id, cost) in kept)
            {
                Offer(id, null, cost);
            }

            foreach (var (rangeFrom, rangeTo) in new[] { (from, RollupDimensions.StartOf(firstHour)), (RollupDimensions.StartOf(endHour), to) })
            {
                await foreach (var record in store.ReadAsync(rangeFrom, rangeTo, cancellationToken))
                {
                    OfferRecord(record);
                }
            }

            await foreach (var record in rollups.ReadAfterMarkAsync(mark, RollupDimensions.StartOf(firstHour), RollupDimensions.StartOf(endHour), cancellationToken))
            {
                OfferRecord(record);
            }
        }
        else
        {
            await foreach (var record in store.ReadAsync(from, to, cancellationToken))
            {
                OfferRecord(record);
            }
        }

        var chosen = new List<(string Id, UsageRecord? Record)>(top.Count);
        while (top.TryDequeue(out var candidate, out _))
        {
            chosen.Add(candidate);
        }

        chosen.Reverse();
        var missing = chosen.Where(c => c.Record is null).Select(c => c.Id).ToList();
        var fetched = missing.Count > 0 && store is IRollupStore withIds
            ? (await withIds.ReadByIdsAsync(missing, cancellationToken)).ToDictionary(r => r.Id, StringComparer.Ordinal)
            : [];
        return [.. chosen.Select(c => c.Record ?? fetched.GetValueOrDefault(c.Id)).OfType<UsageRecord>()];
    }
}
