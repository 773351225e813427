using Tollgate.Ledger;
using Tollgate.Ledger.Rollups;

namespace Tollgate.Analytics.Forecasting;

/// <summary>
/// Priced spend over time, for a forecast: one point per rolled-up hour (at the hour's start) and one per raw record
/// read instead, of every record or of a budget's scope. An hour that a local day boundary cuts (a half-hour zone
/// offset) is read raw, so every cost lands on its own local day.
/// </summary>
public static class CostSeries
{
    public static async Task<IReadOnlyList<(DateTimeOffset At, decimal Cost)>> ReadAsync(
        ILedgerStore store, Policy.Budgets.Budget? scope, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var points = new List<(DateTimeOffset, decimal)>();
        var all = scope is null || scope.Scope == "global";
        DateOnly DayOf(DateTimeOffset at) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, zone).DateTime);
        await RollupReader.ReadAsync(
            store,
            all ? RollupDimensions.Total : scope!.Scope,
            from,
            to,
            hour => DayOf(RollupDimensions.StartOf(hour)) != DayOf(RollupDimensions.StartOf(hour + 1).AddTicks(-1)),
            (hour, value, totals) =>
            {
                if (all || value == scope!.Value)
                {
                    points.Add((RollupDimensions.StartOf(hour), totals.CostTotal));
                }
            },
            record =>
            {
                if (record.Cost.Total is { } cost && (scope is null || scope.Applies(record.Attribution)))
                {
                    points.Add((record.Timestamp, cost));
                }
            },
            cancellationToken);
        return points;
    }
}
