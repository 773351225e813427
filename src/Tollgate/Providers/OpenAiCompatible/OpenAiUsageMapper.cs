using System.Text.Json;
using Tollgate.Metering;

namespace Tollgate.Providers.OpenAiCompatible;

/// <summary>
/// The single place where an OpenAI-format <c>usage</c> object becomes canonical <see cref="Usage"/>.
/// <list type="bullet">
/// <item>OpenAI: <c>prompt_tokens</c> includes <c>prompt_tokens_details.cached_tokens</c>; <c>completion_tokens</c>
/// includes <c>completion_tokens_details.reasoning_tokens</c>. Cache writes are not reported (null).</item>
/// <item>DeepSeek: <c>prompt_cache_hit_tokens</c> (a subset of <c>prompt_tokens</c>) when the details object is absent.</item>
/// <item>Responses-API style names <c>input_tokens</c>/<c>output_tokens</c> with <c>input_tokens_details</c>/<c>output_tokens_details</c>.</item>
/// </list>
/// </summary>
public static class OpenAiUsageMapper
{
    public static Usage Map(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return Usage.None;
        }

        var input = Count(usage, "prompt_tokens") ?? Count(usage, "input_tokens");
        var output = Count(usage, "completion_tokens") ?? Count(usage, "output_tokens");
        var cached = Detail(usage, "prompt_tokens_details", "cached_tokens")
            ?? Detail(usage, "input_tokens_details", "cached_tokens")
            ?? Count(usage, "prompt_cache_hit_tokens");
        var reasoning = Detail(usage, "completion_tokens_details", "reasoning_tokens")
            ?? Detail(usage, "output_tokens_details", "reasoning_tokens");
        if (output is null && input is not null && Count(usage, "total_tokens") is { } total)
        {
            // Embeddings report prompt and total only: nothing was generated.
            output = total - input;
        }

        return new Usage(input, cached, null, output, reasoning);
    }

    private static long? Detail(JsonElement usage, string details, string name) =>
        usage.TryGetProperty(details, out var d) && d.ValueKind == JsonValueKind.Object ? Count(d, name) : null;

    private static long? Count(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : null;
}
