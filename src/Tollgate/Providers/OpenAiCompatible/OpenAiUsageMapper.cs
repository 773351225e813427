using System.Runtime.InteropServices;
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
    public static Usage Map(JsonElement usage) =>
        usage.ValueKind == JsonValueKind.Object ? Map(JsonMarshal.GetRawUtf8Value(usage)) : Usage.None;

    /// <summary>Maps the raw JSON of a usage object, read once in passing, without building a document.</summary>
    public static Usage Map(ReadOnlySpan<byte> usageJson)
    {
        long? prompt = null, completion = null, input = null, output = null, total = null, cacheHits = null;
        long? promptCached = null, inputCached = null, completionReasoning = null, outputReasoning = null;
        var reader = new Utf8JsonReader(usageJson, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return Usage.None;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // Where a name appears twice, the last value counts, as with a parsed document.
                switch (FieldOf(ref reader))
                {
                    case Field.Prompt: prompt = Count(ref reader); break;
                    case Field.Completion: completion = Count(ref reader); break;
                    case Field.Input: input = Count(ref reader); break;
                    case Field.Output: output = Count(ref reader); break;
                    case Field.Total: total = Count(ref reader); break;
                    case Field.CacheHits: cacheHits = Count(ref reader); break;
                    case Field.PromptDetails: promptCached = Detail(ref reader, "cached_tokens"u8); break;
                    case Field.InputDetails: inputCached = Detail(ref reader, "cached_tokens"u8); break;
                    case Field.CompletionDetails: completionReasoning = Detail(ref reader, "reasoning_tokens"u8); break;
                    case Field.OutputDetails: outputReasoning = Detail(ref reader, "reasoning_tokens"u8); break;
                    default:
                        reader.Read();
                        reader.Skip();
                        break;
                }
            }
        }
        catch (JsonException)
        {
            return Usage.None;
        }

        var inputTokens = prompt ?? input;
        var outputTokens = completion ?? output;
        if (outputTokens is null && inputTokens is not null && total is { } all)
        {
            // Embeddings report prompt and total only: nothing was generated.
            outputTokens = all - inputTokens;
        }

        return new Usage(inputTokens, promptCached ?? inputCached ?? cacheHits, null, outputTokens, completionReasoning ?? outputReasoning);
    }

    private enum Field
    {
        Other,
        Prompt,
        Completion,
        Input,
        Output,
        Total,
        CacheHits,
        PromptDetails,
        InputDetails,
        CompletionDetails,
        OutputDetails,
    }

    private static Field FieldOf(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("prompt_tokens"u8) ? Field.Prompt
        : reader.ValueTextEquals("completion_tokens"u8) ? Field.Completion
        : reader.ValueTextEquals("input_tokens"u8) ? Field.Input
        : reader.ValueTextEquals("output_tokens"u8) ? Field.Output
        : reader.ValueTextEquals("total_tokens"u8) ? Field.Total
        : reader.ValueTextEquals("prompt_cache_hit_tokens"u8) ? Field.CacheHits
        : reader.ValueTextEquals("prompt_tokens_details"u8) ? Field.PromptDetails
        : reader.ValueTextEquals("input_tokens_details"u8) ? Field.InputDetails
        : reader.ValueTextEquals("completion_tokens_details"u8) ? Field.CompletionDetails
        : reader.ValueTextEquals("output_tokens_details"u8) ? Field.OutputDetails
        : Field.Other;

    /// <summary>The value after a property name, when it is a whole number; the reader ends on that value.</summary>
    private static long? Count(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n))
        {
            return n;
        }

        reader.Skip();
        return null;
    }

    /// <summary>One count inside a details object (null when it is not an object or lacks the count).</summary>
    private static long? Detail(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        long? found = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name))
            {
                found = Count(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return found;
    }
}
