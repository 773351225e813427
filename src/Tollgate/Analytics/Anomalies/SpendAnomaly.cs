namespace Tollgate.Analytics.Anomalies;

/// <summary>
/// A period whose spend for one dimension value ran well above its recent normal: <see cref="Period"/> is a day
/// (<c>2026-11-23</c>) or an hour (<c>2026-11-23T14:00</c>) in the configured time zone.
/// </summary>
public sealed record SpendAnomaly(string Kind, string Dimension, string Value, string Period, decimal CostUsd, decimal BaselineUsd, DateTimeOffset DetectedAt)
{
    public const string Daily = "daily";
    public const string Hourly = "hourly";

    /// <summary>How many times its baseline the period cost.</summary>
    public decimal Ratio => BaselineUsd == 0 ? 0 : decimal.Round(CostUsd / BaselineUsd, 2);
}
