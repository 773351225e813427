namespace Tollgate.Metering;

/// <summary>
/// Per-token prices of one model from one date, in USD per million tokens. Optional rates fall back as documented:
/// cached input and cache write to the input rate, reasoning to the output rate.
/// </summary>
public sealed record TokenPrice
{
    public required string Model { get; init; }
    public string? Provider { get; init; }
    public required DateOnly EffectiveFrom { get; init; }
    public required decimal InputPerMillion { get; init; }
    public decimal? CachedInputPerMillion { get; init; }
    public decimal? CacheWritePerMillion { get; init; }
    public required decimal OutputPerMillion { get; init; }
    public decimal? ReasoningPerMillion { get; init; }
    public decimal? BatchInputPerMillion { get; init; }
    public decimal? BatchOutputPerMillion { get; init; }
    public int? MaxOutputTokens { get; init; }
}
