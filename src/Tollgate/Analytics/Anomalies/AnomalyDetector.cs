using System.Globalization;
using Tollgate.Configuration;
using Tollgate.Ledger;

namespace Tollgate.Analytics.Anomalies;

/// <summary>
/// Finds anomalous spend in ledger records: the last complete day against the 7 days before it, and the last
/// complete hour against the 24 before it, for every value of every configured dimension. Pure: the caller gives the
/// records and the clock.
/// </summary>
public static class AnomalyDetector
{
    /// <summary>The day of <paramref name="day"/> (local midnight to midnight) against each value's mean of the 7 days before.</summary>
    public static IReadOnlyList<SpendAnomaly> Daily(IEnumerable<UsageRecord> records, DateOnly day, AnomalySettings settings, TimeZoneInfo zone, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(zone);
        return Detect(records, settings, r => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(r.Timestamp, zone).DateTime).DayNumber - day.DayNumber, 7,
            settings.DailyFactor, settings.MinDailyUsd, SpendAnomaly.Daily, day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), now);
    }

    /// <summary>The hour starting at <paramref name="hour"/> against each value's mean hour of the 24 before.</summary>
    public static IReadOnlyList<SpendAnomaly> Hourly(IEnumerable<UsageRecord> records, DateTimeOffset hour, AnomalySettings settings, TimeZoneInfo zone, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(zone);
        return Detect(records, settings, r => (int)Math.Floor((r.Timestamp - hour).TotalHours), 24,
            settings.HourlyFactor, settings.MinHourlyUsd, SpendAnomaly.Hourly, TimeZoneInfo.ConvertTime(hour, zone).ToString("yyyy-MM-dd'T'HH':00'", CultureInfo.InvariantCulture), now);
    }

    // offsetOf gives a record's period relative to the one checked: 0 is the checked period, -1 the one before.
    private static List<SpendAnomaly> Detect(
        IEnumerable<UsageRecord> records, AnomalySettings settings, Func<UsageRecord, int> offsetOf, int baselinePeriods,
        decimal factor, decimal minimum, string kind, string period, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(records);
        var groupings = settings.Dimensions.Select(d => (Name: d, KeyOf: d == "global" ? _ => "all" : SpendGrouping.Parse(d)?.KeyOf)).Where(g => g.KeyOf is not null).ToList();
        var current = new Dictionary<(string Dimension, string Value), decimal>();
        var before = new Dictionary<(string Dimension, string Value), decimal>();
        foreach (var record in records)
        {
            if (record.Cost.Total is not { } cost)
            {
                continue;
            }

            var offset = offsetOf(record);
            var bucket = offset == 0 ? current : offset < 0 && offset >= -baselinePeriods ? before : null;
            if (bucket is null)
            {
                continue;
            }

            foreach (var (name, keyOf) in groupings)
            {
                if (keyOf!(record) is { } value)
                {
                    bucket[(name, value)] = bucket.GetValueOrDefault((name, value)) + cost;
                }
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
