namespace Tollgate.Analytics;

/// <summary>The time buckets a spend report can be split into.</summary>
public enum TimeBucket
{
    None,
    Hour,
    Day,
}

/// <summary>
/// What a spend report covers: records from <see cref="From"/> (inclusive) to <see cref="To"/> (exclusive), grouped by
/// <see cref="Grouping"/> and, optionally, split per hour or day in <see cref="Zone"/>.
/// </summary>
public sealed record SpendQuery(SpendGrouping Grouping, DateTimeOffset From, DateTimeOffset To, TimeBucket Bucket, TimeZoneInfo Zone)
{
    /// <summary>The start of the bucket holding <paramref name="at"/>, as local time text (<c>2026-11-24</c> or <c>2026-11-24T09:00</c>); null without buckets.</summary>
    public string? PeriodOf(DateTimeOffset at)
    {
        if (Bucket == TimeBucket.None)
        {
            return null;
        }

        var local = TimeZoneInfo.ConvertTime(at, Zone);
        return Bucket == TimeBucket.Day
            ? local.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)
            : local.ToString("yyyy-MM-dd'T'HH':00'", System.Globalization.CultureInfo.InvariantCulture);
    }
}
