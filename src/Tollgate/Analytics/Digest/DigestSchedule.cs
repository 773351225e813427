namespace Tollgate.Analytics.Digest;

/// <summary>When a digest's period ends and when it is due, in the configured time zone's calendar.</summary>
public static class DigestSchedule
{
    /// <summary>The last whole day, or week starting on <see cref="DigestSettings.Weekday"/>, that ended at or before <paramref name="now"/>.</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) LastCompletePeriod(DateTimeOffset now, DigestSettings settings, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        if (settings.Every == "weekly")
        {
            var back = ((int)today.DayOfWeek - (int)settings.Weekday + 7) % 7;
            var end = today.AddDays(-back);
            return (Midnight(end.AddDays(-7), zone), Midnight(end, zone));
        }

        return (Midnight(today.AddDays(-1), zone), Midnight(today, zone));
    }

    /// <summary>Whether the last complete period's digest is due: its end plus <see cref="DigestSettings.Hour"/> hours has passed.</summary>
    public static bool IsDue(DateTimeOffset now, DigestSettings settings, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Every is not null && now >= LastCompletePeriod(now, settings, zone).End.AddHours(settings.Hour);
    }

    private static DateTimeOffset Midnight(DateOnly day, TimeZoneInfo zone)
    {
        var local = day.ToDateTime(TimeOnly.MinValue);
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }
}
