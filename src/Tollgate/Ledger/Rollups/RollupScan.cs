namespace Tollgate.Ledger.Rollups;

/// <summary>
/// What a scan of a dimension's rollup rows (handed to a callback as they are read) found beside the rows, in the same
/// snapshot: the mark they are complete up to — every record up to <see cref="Mark"/> (in write order) is in them, none
/// after it — and <see cref="IncompleteHours"/>, hours whose rows for the dimension do not cover every value (overflow),
/// which were not handed on and a report reads from raw records instead. For a tag dimension, <see cref="HourTotals"/>
/// holds every hour's total too, so that the records without the tag are the total less the tagged rows.
/// </summary>
public sealed record RollupScan(long Mark, IReadOnlySet<long> IncompleteHours)
{
    public IReadOnlyDictionary<long, RollupTotals> HourTotals { get; init; } = new Dictionary<long, RollupTotals>();
}
