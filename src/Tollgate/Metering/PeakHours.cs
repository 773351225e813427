using System.Globalization;

namespace Tollgate.Metering;

/// <summary>
/// Dearer rates in fixed hours of the day, where a provider has them: DeepSeek, from 16 August 2026, bills its V4 models
/// at twice the off-peak rate from 01:00 to 04:00 and from 06:00 to 10:00 UTC, Monday to Friday. The base rates of a
/// <see cref="TokenPrice"/> with peak hours are its off-peak rates; a rate left null here keeps the base one. A request
/// is priced by the time it started (the provider may bill one that crosses a boundary by its end: reconciliation shows
/// such a difference). Windows are in UTC, start inclusive, end exclusive (a window whose start equals its end is the
/// whole day, and one that ends before it starts runs past midnight); days are UTC days.
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
            if (from == to || (from < to ? time >= from && time < to : time >= from || time < to))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The windows as written in the catalogue: <c>01:00-04:00</c>.</summary>
    public IEnumerable<string> WindowTexts => Windows.Select(w => string.Create(CultureInfo.InvariantCulture, $"{w.From:HH\\:mm}-{w.To:HH\\:mm}"));

    /// <summary>
    /// The hours outside <paramref name="windows"/> (to the minute), as windows: LiteLLM names the cheap hours
    /// (<c>off_peak_pricing.hours_utc</c>) where this names the dear ones. Empty when the windows cover the whole day
    /// (a window whose start equals its end does).
    /// </summary>
    public static IReadOnlyList<(TimeOnly From, TimeOnly To)> Complement(IEnumerable<(TimeOnly From, TimeOnly To)> windows)
    {
        const int Day = 24 * 60;
        var covered = new bool[Day];
        foreach (var (from, to) in windows)
        {
            var start = (from.Hour * 60) + from.Minute;
            var end = (to.Hour * 60) + to.Minute;
            var length = end > start ? end - start : Day - start + end; // equal: the whole day
            for (var i = 0; i < length; i++)
            {
                covered[(start + i) % Day] = true;
            }
        }

        var rest = new List<(TimeOnly From, TimeOnly To)>();
        for (var minute = 0; minute < Day;)
        {
            if (covered[minute])
            {
                minute++;
                continue;
            }

            var start = minute;
            while (minute < Day && !covered[minute])
            {
                minute++;
            }

            rest.Add((new TimeOnly(start / 60, start % 60), minute == Day ? TimeOnly.MinValue : new TimeOnly(minute / 60, minute % 60)));
        }

        return rest;
    }

    /// <summary>The windows among <paramref name="texts"/>; each text that is not one is handed to <paramref name="notAWindow"/>.</summary>
    public static List<(TimeOnly From, TimeOnly To)> ParseWindows(IEnumerable<string> texts, Action<string> notAWindow)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(notAWindow);
        var windows = new List<(TimeOnly From, TimeOnly To)>();
        foreach (var text in texts)
        {
            if (ParseWindow(text) is { } window)
            {
                windows.Add(window);
            }
            else
            {
                notAWindow(text);
            }
        }

        return windows;
    }

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
