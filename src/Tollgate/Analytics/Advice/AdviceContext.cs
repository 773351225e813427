namespace Tollgate.Analytics.Advice;

/// <summary>What every finder scales with: the factor that turns the range's figures into a 30-day month's.</summary>
public sealed record AdviceContext(decimal MonthlyFactor)
{
    /// <summary>A range's total as a 30-day month's.</summary>
    public decimal Monthly(decimal total) => decimal.Round(total * MonthlyFactor, 6);
}
