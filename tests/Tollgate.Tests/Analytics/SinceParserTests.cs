using Tollgate.Analytics;
using Xunit;

namespace Tollgate.Tests.Analytics;

/// <summary>Report ranges given in days or weeks start on a whole hour (read from rollups); shorter ones and dates are exact.</summary>
public sealed class SinceParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 23, 47, 12, TimeSpan.Zero);

    [Theory]
    [InlineData("30d", "2026-11-06T23:00:00")]
    [InlineData("1w", "2026-11-29T23:00:00")]
    [InlineData("90m", "2026-12-06T22:17:12")]
    [InlineData("24h", "2026-12-05T23:47:12")]
    [InlineData("2026-11-01T09:30", "2026-11-01T09:30:00")]
    public void A_report_start_in_days_or_weeks_is_the_start_of_its_hour(string text, string expected)
    {
        Assert.True(SinceParser.TryParseReportStart(text, Now, out var since));
        Assert.Equal(DateTimeOffset.Parse(expected + "Z", System.Globalization.CultureInfo.InvariantCulture), since);
    }

    [Fact]
    public void An_exact_duration_is_still_exact_where_it_is_not_a_report_start()
    {
        Assert.True(SinceParser.TryParse("30d", Now, out var since));
        Assert.Equal(Now.AddDays(-30), since);
    }

    [Theory]
    [InlineData("2147483647d")]
    [InlineData("999999999w")]
    [InlineData("2147483647m")]
    [InlineData("9999999999h")]
    [InlineData("-5d")]
    public void A_duration_past_the_calendar_or_negative_is_refused_not_thrown(string text)
    {
        Assert.False(SinceParser.TryParse(text, Now, out _));
        Assert.False(SinceParser.TryParseReportStart(text, Now, out _));
    }
}
