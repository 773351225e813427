using Tollgate.Metering;

namespace Tollgate.Analytics.Advice;

/// <summary>What every finder prices and scales with: the catalogue, the time zone of "night", and the factor that turns the range's figures into a month's.</summary>
public sealed record AdviceContext(PriceCatalog Catalog, TimeZoneInfo Zone, decimal MonthlyFactor)
{
    /// <summary>A range's total as a 30-day month's.</summary>
    public decimal Monthly(decimal total) => decimal.Round(total * MonthlyFactor, 6);
}
