using System.Globalization;

namespace Tollgate.Metering;

/// <summary>
/// Dearer rates in fixed hours of the day, where a provider has them: DeepSeek, from 16 August 2026, bills its V4 models
/// at twice the off-peak rate from 01:00 to 04:00 and from 06:00 to 10:00 UTC, Monday to Friday. The base rates of a
/// <see cref="TokenPrice"/> with peak hours are its off-peak rates; a rate left null here keeps the base one. A request
/// is priced by the time it started (the provider may bill one that crosses a boundary by its end: reconciliation shows
/// such a difference). Windows are in UTC, start inclusive, end exclusive; days are UTC days.
/// </summary>
public sealed record PeakHours(
    IReadOnlyList<(TimeOnly From, TimeOnly To)> Windows,
    bool WeekdaysOnly,
    decimal? InputPerMillion,
    decimal? CachedInputPerMillion,
    decimal? CacheWritePerMillion,
    decimal? OutputPerMillion)
{
    /// <summary>Whether <paramref name="at"/> falls in a peak window.</summary>
    public bool Covers(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        if (WeekdaysOnly && utc.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
        {
            return false;
        }

        var time = TimeOnly.FromDateTime(utc);
        foreach (var (from, to) in Windows)
        {
            if (from <= to ? time >= from && time < to : time >= from || time < to)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The windows as written in the catalogue: <c>01:00-04:00</c>.</summary>
    public IEnumerable<string> WindowTexts => Windows.Select(w => string.Create(CultureInfo.InvariantCulture, $"{w.From:HH\\:mm}-{w.To:HH\\:mm}"));

    /// <summary>A window written <c>HH:mm-HH:mm</c>; null when it is not one.</summary>
    public static (TimeOnly From, TimeOnly To)? ParseWindow(string text)
    {
        var parts = text?.Split('-') ?? [];
        return parts.Length == 2
            && TimeOnly.TryParseExact(parts[0].Trim(), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var from)
            && TimeOnly.TryParseExact(parts[1].Trim(), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var to)
            ? (from, to)
            : null;
    }
}
