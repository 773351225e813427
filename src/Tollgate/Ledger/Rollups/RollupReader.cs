namespace Tollgate.Ledger.Rollups;

/// <summary>
/// Reads what a time range adds up to on one dimension, exactly: whole hours from the rollups, and from raw records
/// the range's edges that are not whole hours, the hours a rollup does not answer completely (an overflowed
/// dimension, or an hour the caller splits between two of its periods) and the records written after the rollups'
/// mark. A ledger without rollups is read raw. Every report, forecast and budget reload sums through here.
/// </summary>
public static class RollupReader
{
    /// <summary>Rollups are read up to this date at most: an open-ended range ends here.</summary>
    private static readonly DateTimeOffset FarFuture = new(9000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <param name="store">The ledger.</param>
    /// <param name="dimension">The rollup dimension (<see cref="RollupDimensions"/>).</param>
    /// <param name="from">Start of the range (inclusive).</param>
    /// <param name="to">End of the range (exclusive).</param>
    /// <param name="splits">Whether the caller needs an hour's records apart (so the hour is read raw).</param>
    /// <param name="onRow">Gets each rollup row used: its hour, its value (null: the records without one), its sums.</param>
    /// <param name="onRecord">Gets each raw record read instead.</param>
    /// <param name="cancellationToken">Stops the reading.</param>
    public static async Task ReadAsync(
        ILedgerStore store, string dimension, DateTimeOffset from, DateTimeOffset to, Func<long, bool> splits,
        Action<long, string?, RollupTotals> onRow, Action<UsageRecord> onRecord, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(splits);
        ArgumentNullException.ThrowIfNull(onRow);
        ArgumentNullException.ThrowIfNull(onRecord);
        var end = to > FarFuture ? FarFuture : to;
        var firstHour = RollupDimensions.HourOf(from) + (RollupDimensions.StartOf(RollupDimensions.HourOf(from)) == from ? 0 : 1);
        var endHour = RollupDimensions.HourOf(end);
        if (store is not IRollupStore rollups || endHour <= firstHour || !RollupDimensions.IsRolledUp(dimension))
        {
            await foreach (var record in Raw(store, from, to, cancellationToken))
            {
                onRecord(record);
            }

            return;
        }

        // Hours the rollup cannot answer are read raw, whole: those the caller splits, and (from the scan) those that
        // overflowed the dimension's cap.
        var splitHours = new HashSet<long>();
        var judged = new HashSet<long>();
        bool Splits(long hour)
        {
            // Every value has a row an hour: whether the caller splits the hour is asked once per hour.
            if (judged.Add(hour) && splits(hour))
            {
                splitHours.Add(hour);
            }

            return splitHours.Contains(hour);
        }

        var isTag = dimension.StartsWith(RollupDimensions.TagPrefix, StringComparison.Ordinal);
        var tagged = new Dictionary<long, RollupTotals>();
        var snapshot = await rollups.ScanRollupsAsync(dimension, firstHour, endHour, (hour, value, totals) =>
        {
            if (Splits(hour))
            {
                return;
            }

            onRow(hour, RollupDimensions.Read(value), totals);
            if (isTag)
            {
                (tagged.TryGetValue(hour, out var sum) ? sum : tagged[hour] = new RollupTotals()).Add(totals);
            }
        }, cancellationToken);
        var rawHours = new SortedSet<long>(snapshot.IncompleteHours);
        rawHours.UnionWith(splitHours);
        bool ReadRaw(long hour)
        {
            if (Splits(hour))
            {
                rawHours.Add(hour);
            }

            return rawHours.Contains(hour);
        }

        // A tag dimension keeps rows for the records that carry the tag; the others are the hour's total less those.
        foreach (var (hour, total) in snapshot.HourTotals)
        {
            if (ReadRaw(hour))
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
                onRow(hour, null, untagged);
            }
        }

        var ranges = new List<(DateTimeOffset From, DateTimeOffset To)> { (from, RollupDimensions.StartOf(firstHour)) };
        ranges.AddRange(rawHours.Select(hour => (RollupDimensions.StartOf(hour), RollupDimensions.StartOf(hour + 1))));
        ranges.Add((RollupDimensions.StartOf(endHour), to));
        foreach (var (rangeFrom, rangeTo) in ranges.Where(r => r.From < r.To))
        {
            await foreach (var record in Raw(store, rangeFrom, rangeTo, cancellationToken))
            {
                onRecord(record);
            }
        }

        // Records written after the rollups' mark, in the whole hours (those not already read raw above).
        await foreach (var record in rollups.ReadAfterMarkAsync(snapshot.Mark, RollupDimensions.StartOf(firstHour), RollupDimensions.StartOf(endHour), cancellationToken))
        {
            if (!rawHours.Contains(RollupDimensions.HourOf(record.Timestamp)))
            {
                onRecord(record);
            }
        }
    }

    private static IAsyncEnumerable<UsageRecord> Raw(ILedgerStore store, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        store.ReadAsync(from, to, cancellationToken);
}
