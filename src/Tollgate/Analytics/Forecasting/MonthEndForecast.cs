namespace Tollgate.Analytics.Forecasting;

/// <summary>
/// Where a month's spend will end: spent so far, the expected rest, and a 90% range. <see cref="LowUsd"/> is never below
/// what is already spent.
/// </summary>
public sealed record MonthEndForecast(DateOnly Month, DateTimeOffset AsOf, decimal SpentUsd, decimal ForecastUsd, decimal LowUsd, decimal HighUsd, string Method)
{
    /// <summary>
    /// Forecasts the month holding <paramref name="asOf"/> (calendar of <paramref name="zone"/>) from request costs up to
    /// <paramref name="asOf"/>, which should reach back at least 28 days before the month began.
    /// <para>
    /// Weekday-aware: each remaining day is expected to cost what the same weekday cost on average over the last 28
    /// complete days (a weekday never seen there takes the mean of all of them); what is left of today is that
    /// weekday's expected cost times the share of the day left. The 90% range (±1.645 standard deviations) counts two
    /// uncertainties: each remaining day's own noise (the spread of past days around their weekday mean) and the error
    /// of each weekday mean itself, which repeats on every remaining day of that weekday. With no complete day yet, the
    /// month runs on at the rate so far.
    /// </para>
    /// </summary>
    public static MonthEndForecast Of(IEnumerable<(DateTimeOffset At, decimal Cost)> costs, DateTimeOffset asOf, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(costs);
        ArgumentNullException.ThrowIfNull(zone);
        var local = TimeZoneInfo.ConvertTime(asOf, zone);
        var today = DateOnly.FromDateTime(local.DateTime);
        var monthStart = new DateOnly(today.Year, today.Month, 1);
        var monthEnd = monthStart.AddMonths(1);
        var historyStart = today.AddDays(-28);
        var daily = new Dictionary<DateOnly, decimal>();
        foreach (var (at, cost) in costs)
        {
            if (at > asOf)
            {
                continue;
            }

            var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, zone).DateTime);
            daily[day] = daily.GetValueOrDefault(day) + cost;
        }

        var spent = daily.Where(d => d.Key >= monthStart && d.Key <= today).Sum(d => d.Value);
        var history = Enumerable.Range(0, 28).Select(i => historyStart.AddDays(i)).Where(d => d < today).ToList();
        var dayFractionLeft = (decimal)(1 - local.TimeOfDay.TotalDays);
        var remainingDays = Enumerable.Range(1, monthEnd.DayNumber - today.DayNumber - 1).Select(i => today.AddDays(i)).ToList();

        // Days before the first record are not zero-spend days: they are before the ledger began.
        var firstDay = daily.Count == 0 ? today : daily.Keys.Min();
        var known = history.Where(d => d >= firstDay).ToList();
        if (known.Count == 0)
        {
            var elapsed = (decimal)(local - new DateTimeOffset(monthStart.ToDateTime(TimeOnly.MinValue), local.Offset)).TotalDays;
            var rate = elapsed > 0 ? spent / elapsed : 0;
            var rest = rate * (remainingDays.Count + dayFractionLeft);
            return new MonthEndForecast(monthStart, asOf, spent, Round(spent + rest), spent, Round(spent + 2 * rest), "run-rate (no complete day yet)");
        }

        var overall = known.Average(d => daily.GetValueOrDefault(d));
        var byWeekday = known.GroupBy(d => d.DayOfWeek).ToDictionary(g => g.Key, g => g.Average(d => daily.GetValueOrDefault(d)));
        decimal Expected(DateOnly day) => byWeekday.TryGetValue(day.DayOfWeek, out var mean) ? mean : overall;

        var expectedRest = remainingDays.Sum(Expected) + Expected(today) * dayFractionLeft;
        var forecast = spent + expectedRest;

        // Residuals around the weekday means; their degrees of freedom lose one per mean estimated.
        var residuals = known.Select(d => (double)(daily.GetValueOrDefault(d) - Expected(d))).ToList();
        var freedom = residuals.Count - byWeekday.Count;
        var variance = freedom > 0 ? residuals.Sum(r => r * r) / freedom : Math.Pow((double)overall * 0.25, 2);
        var samples = known.GroupBy(d => d.DayOfWeek).ToDictionary(g => g.Key, g => g.Count());
        var weights = remainingDays.Select(d => (Day: d.DayOfWeek, Weight: 1.0)).Append((Day: today.DayOfWeek, Weight: (double)dayFractionLeft)).ToList();
        var dayNoise = weights.Sum(w => w.Weight * w.Weight) * variance;
        var meanError = weights.GroupBy(w => w.Day).Sum(g => Math.Pow(g.Sum(w => w.Weight), 2) * variance / samples.GetValueOrDefault(g.Key, known.Count));
        var spread = (decimal)(1.645 * Math.Sqrt(dayNoise + meanError));
        return new MonthEndForecast(monthStart, asOf, spent, Round(forecast), Round(Math.Max(spent, forecast - spread)), Round(forecast + spread), $"weekday means over {known.Count} days");
    }

    /// <summary>An estimate to a hundred-millionth of a dollar (what is spent stays exact).</summary>
    private static decimal Round(decimal estimate) => decimal.Round(estimate, 8);
}
