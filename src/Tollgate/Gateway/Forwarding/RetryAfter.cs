using System.Globalization;

namespace Tollgate.Gateway.Forwarding;

/// <summary>A provider's wait hint: <c>retry-after-ms</c> (OpenAI), or <c>Retry-After</c> in seconds or as an HTTP date.</summary>
public static class RetryAfter
{
    public static TimeSpan? Parse(IReadOnlyList<KeyValuePair<string, string>> headers, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(headers);
        TimeSpan? seconds = null;
        foreach (var (name, value) in headers)
        {
            if (name.Equals("retry-after-ms", StringComparison.OrdinalIgnoreCase)
                && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0 && ms < int.MaxValue)
            {
                return TimeSpan.FromMilliseconds(ms);
            }

            if (name.Equals("retry-after", StringComparison.OrdinalIgnoreCase))
            {
                seconds = ParseValue(value, now);
            }
        }

        return seconds;
    }

    public static TimeSpan? ParseValue(string value, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds is >= 0 and < int.MaxValue ? TimeSpan.FromSeconds(seconds) : null;
        }

        if (DateTimeOffset.TryParseExact(value.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            var wait = date - now;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }
}
