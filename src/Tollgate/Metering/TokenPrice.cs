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

    /// <summary>The vendor's line of models for the same tier of work (<c>anthropic/opus</c>, <c>openai/gpt-mini</c>…), across generations; null when the model stands alone.</summary>
    public string? Line { get; init; }
    public required decimal InputPerMillion { get; init; }
    public decimal? CachedInputPerMillion { get; init; }
    public decimal? CacheWritePerMillion { get; init; }

    /// <summary>Rate for one-hour cache writes; falls back to <see cref="CacheWritePerMillion"/>.</summary>
    public decimal? CacheWrite1hPerMillion { get; init; }
    public required decimal OutputPerMillion { get; init; }
    public decimal? ReasoningPerMillion { get; init; }
    public decimal? BatchInputPerMillion { get; init; }
    public decimal? BatchOutputPerMillion { get; init; }
    public int? MaxOutputTokens { get; init; }

    /// <summary>USD per call of each built-in tool the provider bills per call (<c>web_search</c>, <c>file_search</c>…; <c>code_interpreter</c> per container).</summary>
    public IReadOnlyDictionary<string, decimal>? ToolCallPrices { get; init; }

    /// <summary>Rates for prompts longer than a threshold, where the provider has them.</summary>
    public LongContextPrice? LongContext { get; init; }

    /// <summary>Dearer rates in fixed hours of the day (the base rates are then the off-peak ones); null for most models.</summary>
    public PeakHours? Peak { get; init; }

    /// <summary>
    /// The rates of a request that started at <paramref name="at"/>: the peak rates in a peak window, else the base ones
    /// (without the schedule either way, so that they are applied once).
    /// </summary>
    public TokenPrice At(DateTimeOffset at) => Peak is not { } peak ? this
        : peak.Covers(at) ? this with
        {
            InputPerMillion = peak.InputPerMillion ?? InputPerMillion,
            CachedInputPerMillion = peak.CachedInputPerMillion ?? CachedInputPerMillion,
            CacheWritePerMillion = peak.CacheWritePerMillion ?? CacheWritePerMillion,
            OutputPerMillion = peak.OutputPerMillion ?? OutputPerMillion,
            Peak = null,
        }
        : this with { Peak = null };

    /// <summary>The rates that apply to a request with <paramref name="promptTokens"/> prompt tokens.</summary>
    public TokenPrice ForPrompt(long promptTokens) => LongContext is { } tier && promptTokens > tier.AbovePromptTokens
        ? this with
        {
            InputPerMillion = tier.InputPerMillion ?? InputPerMillion,
            CachedInputPerMillion = tier.CachedInputPerMillion ?? CachedInputPerMillion,
            CacheWritePerMillion = tier.CacheWritePerMillion ?? CacheWritePerMillion,
            OutputPerMillion = tier.OutputPerMillion ?? OutputPerMillion,
            LongContext = null,
        }
        : this;
}
