using System.Text.Json;
using Tollgate.Metering;

namespace Tollgate.Providers.OpenAiCompatible;

/// <summary>What one OpenAI-format stream chunk says that the gateway needs.</summary>
public readonly record struct OpenAiChunkFacts(bool IsDone, bool HasChoices, Usage? Usage, long ContentCharacters, bool IsError)
{
    /// <summary>The usage-only chunk that <c>include_usage</c> adds at the end of a stream: usage and no choices.</summary>
    public bool IsUsageOnly => Usage is not null && !HasChoices;
}

/// <summary>
/// Reads one stream chunk, or a whole chat completion, without building a document: only the <c>usage</c> object is
/// parsed, and handed to <see cref="OpenAiUsageMapper"/>. Groq's older <c>x_groq.usage</c> is read too. Generated
/// text is only measured, to estimate output when usage never arrives.
/// </summary>
public static class OpenAiChunkInspector
{
    /// <param name="data">One chunk's data, or a whole completion.</param>
    /// <param name="measureText">Whether to add up the generated text's length (only needed when usage may be missing).</param>
    public static OpenAiChunkFacts Inspect(ReadOnlySpan<byte> data, bool measureText = true)
    {
        if (data.SequenceEqual("[DONE]"u8))
        {
            return new OpenAiChunkFacts(true, false, null, 0, false);
        }

        var hasChoices = false;
        var usageStart = -1;
        var usageEnd = -1;
        var hasGroqUsage = false;
        var isError = false;
        long characters = 0;
        var reader = new Utf8JsonReader(data, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.CurrentDepth == 1)
                {
                    if (reader.ValueTextEquals("usage"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.StartObject)
                        {
                            usageStart = (int)reader.TokenStartIndex;
                            reader.Skip();
                            usageEnd = (int)reader.BytesConsumed;
                        }
                    }
                    else if (reader.ValueTextEquals("x_groq"u8))
                    {
                        reader.Read();
                        hasGroqUsage |= reader.TokenType == JsonTokenType.StartObject;
                        reader.Skip();
                    }
                    else if (reader.ValueTextEquals("choices"u8))
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.StartArray)
                        {
                            reader.Read();
                            hasChoices = reader.TokenType != JsonTokenType.EndArray;
                            if (hasChoices && measureText)
                            {
                                characters += CountContent(ref reader, arrayDepth: 1);
                            }
                            else if (hasChoices)
                            {
                                SkipToArrayEnd(ref reader, arrayDepth: 1);
                            }
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                    else if (reader.ValueTextEquals("error"u8))
                    {
                        isError = true;
                    }
                }
            }
        }
        catch (JsonException)
        {
            return new OpenAiChunkFacts(false, hasChoices, null, characters, isError);
        }

        Usage? usage = null;
        if (usageStart >= 0)
        {
            usage = OpenAiUsageMapper.Map(data[usageStart..usageEnd]);
        }
        else if (hasGroqUsage)
        {
            using var document = JsonDocument.Parse(data.ToArray());
            if (document.RootElement.TryGetProperty("x_groq", out var groq) && groq.TryGetProperty("usage", out var groqUsage))
            {
                usage = OpenAiUsageMapper.Map(groqUsage);
            }
        }

        return new OpenAiChunkFacts(false, hasChoices, usage is { IsReported: true } ? usage : null, characters, isError);
    }

    /// <summary>Moves from an element of an array to the array's end.</summary>
    private static void SkipToArrayEnd(ref Utf8JsonReader reader, int arrayDepth)
    {
        while (reader.TokenType != JsonTokenType.EndArray || reader.CurrentDepth != arrayDepth)
        {
            reader.Skip();
            if (!reader.Read())
            {
                return;
            }
        }
    }

    /// <summary>Sums the lengths of generated text inside the choices array; leaves the reader on the array's end.</summary>
    private static long CountContent(ref Utf8JsonReader reader, int arrayDepth)
    {
        long characters = 0;
        var inText = false;
        do
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    // "text": a legacy completion's choice.
                    inText = reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("text"u8)
                        || reader.ValueTextEquals("reasoning"u8) || reader.ValueTextEquals("arguments"u8) || reader.ValueTextEquals("refusal"u8);
                    break;
                case JsonTokenType.String when inText:
                    characters += reader.ValueSpan.Length;
                    inText = false;
                    break;
                case JsonTokenType.EndArray when reader.CurrentDepth == arrayDepth:
                    return characters;
                default:
                    inText = false;
                    break;
            }
        }
        while (reader.Read());

        return characters;
    }
}
