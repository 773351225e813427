namespace Tollgate.Ledger.Rollups;

/// <summary>One rollup row: a dimension's value in one hour, and what its records add up to.</summary>
public sealed record RollupRow(long Hour, string Value, RollupTotals Totals);

/// <summary>
/// A dimension's rollup rows over a range of hours, read in one snapshot with the mark they are complete up to:
/// every record up to <see cref="Mark"/> (in write order) is in them, none after it.
/// <see cref="IncompleteHours"/> are hours whose rows for the dimension do not cover every value (overflow), which
/// a report reads from raw records instead. For a tag dimension, <see cref="HourTotals"/> holds every hour's total
/// too (from the same snapshot), so that the records without the tag are the total less the tagged rows.
/// </summary>
public sealed record RollupSnapshot(IReadOnlyList<RollupRow> Rows, long Mark, IReadOnlySet<long> IncompleteHours)
{
    public IReadOnlyDictionary<long, RollupTotals> HourTotals { get; init; } = new Dictionary<long, RollupTotals>();
}
