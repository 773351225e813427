namespace Tollgate.Configuration;

/// <summary>
/// When spend counts as anomalous. A day: a dimension value's cost over <see cref="DailyFactor"/> times its mean over
/// the 7 days before (and at least <see cref="MinDailyUsd"/>). An hour: over <see cref="HourlyFactor"/> times the mean
/// hour of the 24 before (and at least <see cref="MinHourlyUsd"/>). <see cref="Dimensions"/> are report groupings
/// (<c>feature</c>, <c>model</c>, <c>tag:team</c>…) or <c>global</c> for all spend.
/// </summary>
public sealed record AnomalySettings(
    bool Enabled, decimal DailyFactor, decimal HourlyFactor, decimal MinDailyUsd, decimal MinHourlyUsd, IReadOnlyList<string> Dimensions, TimeSpan CheckEvery)
{
    public static AnomalySettings Default { get; } = new(true, 1.2m, 3m, 1m, 0.5m, ["global", "feature", "cost-center", "model", "key"], TimeSpan.FromMinutes(10));
}
