namespace Tollgate.Ledger;

/// <summary>
/// How long the ledger keeps raw records and hourly rollups (<c>storage.raw_retention_days</c>,
/// <c>storage.rollup_retention_days</c>); null keeps them for ever. Raw records are removed only once rolled up, so
/// reports over whole hours keep their figures after the raw records behind them are gone.
/// </summary>
public sealed record RetentionSettings(int? RawRecordDays, int? RollupDays)
{
    public static RetentionSettings KeepAll { get; } = new(null, null);
}
