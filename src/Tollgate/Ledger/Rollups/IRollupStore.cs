namespace Tollgate.Ledger.Rollups;

/// <summary>
/// Hourly rollups kept beside the raw records (see <see cref="RollupDimensions"/>). They are brought up to date by a
/// catch-up that rolls up the records written since its mark and moves the mark in the same transaction — so a record
/// is counted once, whatever is killed when, and a journal replay (which never inserts a record twice) cannot
/// double-count. Readers take the rows and the mark in one snapshot and read raw only what is past the mark.
/// </summary>
public interface IRollupStore
{
    /// <summary>Rolls up at most <paramref name="maxRecords"/> records written since the last catch-up; returns how many.</summary>
    Task<int> RollUpAsync(int maxRecords, CancellationToken cancellationToken);

    /// <summary>Drops every rollup and rolls up all raw records again.</summary>
    Task RebuildRollupsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Hands the rows of <paramref name="dimension"/> for the hours from <paramref name="fromHour"/> up to, not including,
    /// <paramref name="toHour"/> to <paramref name="onRow"/> (hour, value, totals — a reused instance: add it up, keep no
    /// reference), except those of incomplete hours, and returns the snapshot's mark and incomplete hours.
    /// </summary>
    Task<RollupScan> ScanRollupsAsync(string dimension, long fromHour, long toHour, Action<long, string, RollupTotals> onRow, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes at most <paramref name="maxRecords"/> raw records older than <paramref name="before"/> that are already
    /// rolled up (never the newest record, whose place keeps the write order going); returns how many.
    /// </summary>
    Task<int> DeleteRawBeforeAsync(DateTimeOffset before, int maxRecords, CancellationToken cancellationToken);

    /// <summary>Deletes the rollups (and kept top records) of the hours before <paramref name="before"/>.</summary>
    Task DeleteRollupsBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken);

    /// <summary>The ids and costs of the most costly records kept for each hour of the range (<see cref="RollupLimits.TopPerHour"/> an hour), and the mark.</summary>
    Task<(IReadOnlyList<(string Id, decimal Cost)> Top, long Mark)> ReadTopAsync(long fromHour, long toHour, CancellationToken cancellationToken);

    /// <summary>The raw records with these ids.</summary>
    Task<IReadOnlyList<UsageRecord>> ReadByIdsAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken);

    /// <summary>How many records of an hour each top list keeps.</summary>
    int TopPerHour { get; }

    /// <summary>Raw records written after <paramref name="mark"/> whose time is in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    IAsyncEnumerable<UsageRecord> ReadAfterMarkAsync(long mark, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);
}
