namespace Tollgate.Analytics.Digest;

/// <summary>
/// <c>alerts.digest</c>: a spend digest sent to the alert webhooks after each day or week (off unless <see cref="Every"/>
/// is set), and <c>alerts.forecast</c>: an alert when a monthly budget's month-end forecast reaches its limit.
/// </summary>
/// <param name="Every"><c>daily</c>, <c>weekly</c>, or null (no digest).</param>
/// <param name="Weekday">The day a week starts on (and a weekly digest is sent on).</param>
/// <param name="Hour">The hour of the configured time zone it is sent at, after its period ends.</param>
/// <param name="GroupBy">What its top list is grouped by (a report grouping: <c>feature</c>, <c>tag:team</c>…).</param>
/// <param name="Top">How many groups the top list names.</param>
/// <param name="Forecast">Whether the forecast alert is on.</param>
public sealed record DigestSettings(string? Every, DayOfWeek Weekday, int Hour, string GroupBy, int Top, bool Forecast)
{
    public static DigestSettings Default { get; } = new(null, DayOfWeek.Monday, 9, "feature", 5, true);
}
