using System.Globalization;
using Tollgate.Configuration;
using Tollgate.Ledger;

namespace Tollgate.Analytics.Anomalies;

/// <summary>
/// Finds anomalous spend: the last complete day against the 7 days before it, and the last complete hour against the
/// 24 before it, for every value of every configured dimension. Pure: the caller gives the spend (as
/// <see cref="SpendPoint"/>s, from rollups, or from records) and the clock.
/// </summary>
public static class AnomalyDetector
{
    /// <summary>The day of <paramref name="day"/> (local midnight to midnight) against each value's mean of the 7 days before.</summary>
    public static IReadOnlyList<SpendAnomaly> Daily(IEnumerable<UsageRecord> records, DateOnly day, AnomalySettings settings, TimeZoneInfo zone, DateTimeOffset now) =>
        Daily(Points(records, settings), day, settings, zone, now);

    public static IReadOnlyList<SpendAnomaly> Daily(IEnumerable<SpendPoint> points, DateOnly day, AnomalySettings settings, TimeZoneInfo zone, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(zone);
        return Detect(points, r => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(r.At, zone).DateTime).DayNumber - day.DayNumber, 7,
            settings.DailyFactor, settings.MinDailyUsd, SpendAnomaly.Daily, day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), now);
    }

    /// <summary>The hour starting at <paramref name="hour"/> against each value's mean hour of the 24 before.</summary>
    public static IReadOnlyList<SpendAnomaly> Hourly(IEnumerable<UsageRecord> records, DateTimeOffset hour, AnomalySettings settings, TimeZoneInfo zone, DateTimeOffset now) =>
        Hourly(Points(records, settings), hour, settings, zone, now);

    public static IReadOnlyList<SpendAnomaly> Hourly(IEnumerable<SpendPoint> points, DateTimeOffset hour, AnomalySettings settings, TimeZoneInfo zone, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(zone);
        return Detect(points, r => (int)Math.Floor((r.At - hour).TotalHours), 24,
            settings.HourlyFactor, settings.MinHourlyUsd, SpendAnomaly.Hourly, TimeZoneInfo.ConvertTime(hour, zone).ToString("yyyy-MM-dd'T'HH':00'", CultureInfo.InvariantCulture), now);
    }

    /// <summary>Each priced record as a point on each configured dimension it has a value on.</summary>
    public static IEnumerable<SpendPoint> Points(IEnumerable<UsageRecord> records, AnomalySettings settings)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(settings);
        var groupings = settings.Dimensions.Select(d => (Name: d, KeyOf: d == "global" ? _ => "all" : SpendGrouping.Parse(d)?.KeyOf)).Where(g => g.KeyOf is not null).ToList();
        foreach (var record in records)
        {
            if (record.Cost.Total is not { } cost)
            {
                continue;
            }

            foreach (var (name, keyOf) in groupings)
            {
                if (keyOf!(record) is { } value)
                {
                    yield return new SpendPoint(name, value, record.Timestamp, cost);
                }
            }
        }
    }

    // offsetOf gives a point's period relative to the one checked: 0 is the checked period, -1 the one before.
    private static List<SpendAnomaly> Detect(
        IEnumerable<SpendPoint> points, Func<SpendPoint, int> offsetOf, int baselinePeriods,
        decimal factor, decimal minimum, string kind, string period, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(points);
        var current = new Dictionary<(string Dimension, string Value), decimal>();
        var before = new Dictionary<(string Dimension, string Value), decimal>();
        foreach (var point in points)
        {
            var offset = offsetOf(point);
            var bucket = offset == 0 ? current : offset < 0 && offset >= -baselinePeriods ? before : null;
            if (bucket is not null)
            {
                bucket[(point.Dimension, point.Value)] = bucket.GetValueOrDefault((point.Dimension, point.Value)) + point.Cost;
            }
        }

        var anomalies = new List<SpendAnomaly>();
        foreach (var ((dimension, value), cost) in current)
        {
            // A value with no spend before has no normal to exceed; it is new, not anomalous.
            var baseline = before.GetValueOrDefault((dimension, value)) / baselinePeriods;
            if (baseline > 0 && cost >= minimum && cost > factor * baseline)
            {
                anomalies.Add(new SpendAnomaly(kind, dimension, value, period, cost, decimal.Round(baseline, 8), now));
            }
        }

        return [.. anomalies.OrderByDescending(a => a.CostUsd)];
    }
}
