namespace Tollgate.Metering;

/// <summary>
/// Higher rates for a request whose prompt exceeds <see cref="AbovePromptTokens"/> (Anthropic and Google charge the
/// whole request at these rates above 200k prompt tokens). A rate left null keeps the base rate.
/// </summary>
public sealed record LongContextPrice(
    long AbovePromptTokens,
    decimal? InputPerMillion,
    decimal? CachedInputPerMillion,
    decimal? CacheWritePerMillion,
    decimal? OutputPerMillion);
