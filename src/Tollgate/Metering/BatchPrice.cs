namespace Tollgate.Metering;

/// <summary>
/// The price of a request run through a provider's Batch API. The input and output rates are the price's own batch
/// rates (the catalogue's <c>batch_input</c>/<c>batch_output</c>, or a deployment's <c>batch_*_per_million</c>) or,
/// where it has none, half the realtime rates — the discount OpenAI, Anthropic and Google all give. Every other rate
/// (cached input, cache writes, reasoning, long-context tiers) takes the same discount as the rate it belongs to:
/// cached input and cache writes as input, reasoning as output.
/// </summary>
public static class BatchPrice
{
    private const decimal HalfOff = 0.5m;

    /// <summary>The batch rates of <paramref name="realtime"/>, and how they were found (for the record's price source).</summary>
    public static (TokenPrice Price, string Rule) Of(TokenPrice realtime)
    {
        ArgumentNullException.ThrowIfNull(realtime);
        var input = realtime.BatchInputPerMillion ?? realtime.InputPerMillion * HalfOff;
        var output = realtime.BatchOutputPerMillion ?? realtime.OutputPerMillion * HalfOff;
        var inputFactor = realtime.InputPerMillion == 0 ? HalfOff : input / realtime.InputPerMillion;
        var outputFactor = realtime.OutputPerMillion == 0 ? HalfOff : output / realtime.OutputPerMillion;
        var price = realtime with
        {
            InputPerMillion = input,
            OutputPerMillion = output,
            CachedInputPerMillion = realtime.CachedInputPerMillion * inputFactor,
            CacheWritePerMillion = realtime.CacheWritePerMillion * inputFactor,
            CacheWrite1hPerMillion = realtime.CacheWrite1hPerMillion * inputFactor,
            ReasoningPerMillion = realtime.ReasoningPerMillion * outputFactor,
            LongContext = realtime.LongContext is { } tier
                ? tier with
                {
                    InputPerMillion = tier.InputPerMillion * inputFactor,
                    CachedInputPerMillion = tier.CachedInputPerMillion * inputFactor,
                    CacheWritePerMillion = tier.CacheWritePerMillion * inputFactor,
                    OutputPerMillion = tier.OutputPerMillion * outputFactor,
                }
                : null,
        };
        var rule = realtime.BatchInputPerMillion is null && realtime.BatchOutputPerMillion is null ? "batch: 50% of realtime"
            : realtime.BatchInputPerMillion is null || realtime.BatchOutputPerMillion is null ? "batch: listed rate, 50% of realtime for the other"
            : "batch rates";
        return (price, rule);
    }
}
