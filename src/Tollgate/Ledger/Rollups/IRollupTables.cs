namespace Tollgate.Ledger.Rollups;

/// <summary>
/// An engine's rollup tables inside one open write transaction, as <see cref="RollupBatch"/> reads and writes them: each
/// engine (SQLite, PostgreSQL) says how in its own SQL; what goes where — caps, overflow rows, top lists — is decided
/// once, in the batch.
/// </summary>
public interface IRollupTables
{
    /// <summary>The stored sums of those of <paramref name="keys"/> that have a row.</summary>
    Task<Dictionary<RollupRowKey, RollupTotals>> ReadRowsAsync(IReadOnlyCollection<RollupRowKey> keys, CancellationToken cancellationToken);

    /// <summary>How many values (overflow row not counted) each (dimension, hour) has rows for; absent pairs have none.</summary>
    Task<Dictionary<(string Dimension, long Hour), int>> CountValuesAsync(IReadOnlyCollection<(string Dimension, long Hour)> pairs, CancellationToken cancellationToken);

    /// <summary>The tag dimensions that have rows of their own in each of <paramref name="hours"/>.</summary>
    Task<Dictionary<long, HashSet<string>>> ReadTagNamesAsync(IReadOnlyCollection<long> hours, CancellationToken cancellationToken);

    /// <summary>The kept most costly records of each of <paramref name="hours"/>.</summary>
    Task<Dictionary<long, List<(string Id, decimal Cost)>>> ReadTopAsync(IReadOnlyCollection<long> hours, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="rows"/> (each replacing its stored row), adds <paramref name="newTagNames"/>, and replaces each
    /// hour's top list in <paramref name="top"/> with the one given.
    /// </summary>
    Task WriteAsync(
        IReadOnlyDictionary<RollupRowKey, RollupTotals> rows, IReadOnlyCollection<(string Dimension, long Hour)> newTagNames,
        IReadOnlyDictionary<long, List<(string Id, decimal Cost)>> top, CancellationToken cancellationToken);
}
