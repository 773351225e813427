namespace Tollgate.Ledger.Rollups;

/// <summary>How many values a client-chosen dimension keeps per hour, and how many tag names an hour keeps.</summary>
public sealed record RollupLimits(int MaxValuesPerHour = 1000, int MaxTagNamesPerHour = 20)
{
    public static RollupLimits Default { get; } = new();
}
