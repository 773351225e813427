using System.Globalization;

namespace Tollgate.Analytics;

/// <summary>Reads <c>--since</c>: a duration back from now (<c>90m</c>, <c>24h</c>, <c>7d</c>) or a date (<c>2026-11-01</c>, UTC).</summary>
public static class SinceParser
{
    public static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset since)
    {
        ArgumentNullException.ThrowIfNull(text);
        since = default;
        if (DateTimeOffset.TryParseExact(text, ["yyyy-MM-dd", "yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss", "O"], CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date))
        {
            since = date;
            return true;
        }

        if (text.Length < 2 || !int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }

        double? days = text[^1] switch
        {
            'm' => amount / 1440.0,
            'h' => amount / 24.0,
            'd' => amount,
            'w' => 7.0 * amount,
            _ => null,
        };

        // A duration reaching back past the calendar's start (2147483647d) is refused, not an overflow.
        if (days is not { } back || back > (now - DateTimeOffset.MinValue).TotalDays - 1)
        {
            return false;
        }

        since = now - (text[^1] switch
        {
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            _ => TimeSpan.FromDays(back),
        });
        return true;
    }

    /// <summary>
    /// The start of a report's range. A duration in days or weeks (<c>30d</c>, <c>4w</c>) starts at the beginning of
    /// its (UTC) hour, so a month's report is whole hours, read from the hourly rollups with no part-hour read raw
    /// (at most 59 minutes more than the exact duration, under 0.2% of a month). Minutes, hours and dates are exact.
    /// </summary>
    public static bool TryParseReportStart(string text, DateTimeOffset now, out DateTimeOffset since)
    {
        if (!TryParse(text, now, out since))
        {
            return false;
        }

        if (text.Length > 1 && text[^1] is 'd' or 'w' && char.IsDigit(text[0]))
        {
            since = new DateTimeOffset(since.UtcDateTime.Year, since.UtcDateTime.Month, since.UtcDateTime.Day, since.UtcDateTime.Hour, 0, 0, TimeSpan.Zero);
        }

        return true;
    }
}
