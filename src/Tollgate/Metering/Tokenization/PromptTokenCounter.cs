using System.Text.Json;

namespace Tollgate.Metering.Tokenization;

/// <summary>
/// Counts the prompt tokens of a chat or embeddings request before it is sent. For OpenAI families the count is the
/// BPE of every message field plus the chat format's documented overhead (3 tokens a message, 1 for a name, 3 to
/// prime the reply), which is exact for text messages. Images, tool definitions and tool calls are formatted by the
/// provider in ways it does not publish, so a request with them is counted approximately and marked inexact. A model
/// family whose tokenizer is not public (Claude, Gemini, Llama, Mistral…) is approximated with o200k_base, a modern
/// 200k-vocabulary BPE, and marked inexact: closer than a characters-per-token rule for non-English text and code,
/// but not calibrated against each family's own tokenizer.
/// </summary>
public static class PromptTokenCounter
{
    private const int TokensPerMessage = 3;
    private const int TokensPerName = 1;
    private const int TokensPerReply = 3;

    /// <summary>The base tokens OpenAI bills for one low-detail image; used as the estimate for an image part.</summary>
    private const int TokensPerImageEstimate = 85;

    public static PromptTokenCount Count(JsonElement body, string model)
    {
        var known = ModelEncodings.For(model);
        var encoding = known ?? BpeEncoding.O200kBase;
        var exact = known is not null;
        long tokens = 0;
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            foreach (var message in messages.EnumerateArray())
            {
                tokens += TokensPerMessage;
                if (message.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                foreach (var field in message.EnumerateObject())
                {
                    switch (field.Name)
                    {
                        case "role":
                            tokens += Text(encoding, field.Value);
                            break;
                        case "name":
                            tokens += Text(encoding, field.Value) + TokensPerName;
                            break;
                        case "content":
                            tokens += Content(encoding, field.Value, ref exact);
                            break;
                        case "tool_calls" or "function_call" or "tool_call_id":
                            exact = false;
                            tokens += encoding.Count(field.Value.GetRawText());
                            break;
                        default:
                            break;
                    }
                }
            }

            tokens += TokensPerReply;
        }

        foreach (var definitions in new[] { "tools", "functions" })
        {
            if (body.TryGetProperty(definitions, out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0)
            {
                exact = false;
                tokens += encoding.Count(tools.GetRawText());
            }
        }

        if (body.TryGetProperty("input", out var input))
        {
            tokens += EmbeddingInput(encoding, input);
        }

        if (body.TryGetProperty("system", out var system))
        {
            // Anthropic-format bodies carry the system prompt apart from the messages.
            tokens += Content(encoding, system, ref exact);
        }

        return new PromptTokenCount(tokens, exact, known is null ? "o200k_base approximation" : encoding.Name);
    }

    private static long Content(BpeEncoding encoding, JsonElement content, ref bool exact)
    {
        if (content.ValueKind != JsonValueKind.Array)
        {
            return Text(encoding, content);
        }

        long tokens = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var text))
            {
                tokens += Text(encoding, text);
            }
            else
            {
                exact = false;
                tokens += TokensPerImageEstimate;
            }
        }

        return tokens;
    }

    private static long EmbeddingInput(BpeEncoding encoding, JsonElement input) => input.ValueKind switch
    {
        JsonValueKind.String => encoding.Count(input.GetString()!),
        JsonValueKind.Array => input.EnumerateArray().Sum(item => item.ValueKind switch
        {
            JsonValueKind.String => encoding.Count(item.GetString()!),
            JsonValueKind.Number => 1, // a pre-tokenised input: one id is one token
            JsonValueKind.Array => item.GetArrayLength(),
            _ => 0,
        }),
        _ => 0,
    };

    private static long Text(BpeEncoding encoding, JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? encoding.Count(value.GetString()!) : 0;
}
