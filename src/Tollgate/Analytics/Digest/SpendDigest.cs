using Tollgate.Analytics.Forecasting;
using Tollgate.Ledger;
using Tollgate.Policy.Budgets;

namespace Tollgate.Analytics.Digest;

/// <summary>Builds a period's digest from the ledger (its reports read the hourly rollups) and monthly budgets' forecasts.</summary>
public static class SpendDigest
{
    public static async Task<SpendDigestAlert> BuildAsync(
        ILedgerStore ledger, IEnumerable<Budget> budgets, DigestSettings settings, DateTimeOffset now, TimeZoneInfo zone, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var (start, end) = DigestSchedule.LastCompletePeriod(now, settings, zone);
        var previousStart = settings.Every == "weekly" ? start.AddDays(-7) : start.AddDays(-1);
        var grouping = SpendGrouping.Parse(settings.GroupBy) ?? SpendGrouping.Parse("feature")!;
        var current = await SpendReport.BuildAsync(ledger, new SpendQuery(grouping, start, end, TimeBucket.None, zone), cancellationToken);
        var previous = (await SpendReport.BuildAsync(ledger, new SpendQuery(grouping, previousStart, start, TimeBucket.None, zone), cancellationToken))
            .ToDictionary(r => r.Group, r => r.CostUsd, StringComparer.Ordinal);
        var top = current.OrderByDescending(r => r.CostUsd).ThenBy(r => r.Group, StringComparer.Ordinal).Take(settings.Top)
            .Select(r => new DigestGroup(r.Group, r.Requests, r.CostUsd, previous.GetValueOrDefault(r.Group))).ToList();
        return new SpendDigestAlert(
            settings.Every ?? "daily", start, end, current.Sum(r => r.Requests), current.Sum(r => r.CostUsd), previous.Values.Sum(), settings.GroupBy, top,
            await ForecastsAsync(ledger, budgets, now, zone, cancellationToken));
    }

    /// <summary>Each monthly budget's month so far and month-end forecast, as of <paramref name="now"/>.</summary>
    public static async Task<IReadOnlyList<DigestForecast>> ForecastsAsync(ILedgerStore ledger, IEnumerable<Budget> budgets, DateTimeOffset now, TimeZoneInfo zone, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(budgets);
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var from = new DateTimeOffset(local.Year, local.Month, 1, 0, 0, 0, local.Offset).AddDays(-29);
        var forecasts = new List<DigestForecast>();
        foreach (var budget in budgets.Where(b => b.Period == BudgetPeriod.Monthly))
        {
            var forecast = MonthEndForecast.Of(await CostSeries.ReadAsync(ledger, budget, from, now.AddTicks(1), zone, cancellationToken), now, zone);
            forecasts.Add(new DigestForecast(budget.Name, budget.LimitUsd, forecast.SpentUsd, forecast.ForecastUsd, forecast.LowUsd, forecast.HighUsd));
        }

        return forecasts;
    }
}
