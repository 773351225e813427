namespace Tollgate.Metering;

/// <summary>The cost of one request per token kind, in USD. <see cref="Total"/> is null when the price is unknown.</summary>
public sealed record CostBreakdown(
    decimal Input,
    decimal CachedInput,
    decimal CacheWrite,
    decimal Output,
    decimal Reasoning,
    decimal? Total)
{
    public static CostBreakdown Unknown { get; } = new(0, 0, 0, 0, 0, null);

    public static CostBreakdown Flat(decimal total) => new(0, 0, 0, 0, 0, total);
}
