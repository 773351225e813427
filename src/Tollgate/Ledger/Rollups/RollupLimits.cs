namespace Tollgate.Ledger.Rollups;

/// <summary>
/// How many values a client-chosen dimension keeps per hour, how many tag names an hour keeps, and how many of an
/// hour's most costly records are kept for "top requests" (any top list of at most that many is answered from them).
/// </summary>
public sealed record RollupLimits(int MaxValuesPerHour = 1000, int MaxTagNamesPerHour = 20, int TopPerHour = 20)
{
    public static RollupLimits Default { get; } = new();
}
