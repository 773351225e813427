using System.Text.Json;
using Tollgate.Metering;

namespace Tollgate.Providers.Gemini;

/// <summary>Turns Gemini's <c>GenerateContentResponse</c> and errors into OpenAI's chat format.</summary>
public static class GeminiResponseTranslator
{
    public static byte[] Completion(JsonElement response, string model, long created)
    {
        var (text, calls, finish) = Candidate(response);
        return OpenAiWire.Completion(
            "chatcmpl-" + (response.TryGetProperty("responseId", out var id) ? id.GetString() : "gemini"),
            created,
            response.TryGetProperty("modelVersion", out var version) ? version.GetString() : model,
            text,
            [.. calls.Select(ToolCallOf)],
            FinishReason(finish),
            response.TryGetProperty("usageMetadata", out var usage) ? GeminiUsageMapper.Map(usage) : null);
    }

    /// <summary>Gemini's <c>{"error":{"code","message","status"}}</c> as OpenAI's error body; other bodies unchanged.</summary>
    public static byte[] Error(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Array && document.RootElement.GetArrayLength() > 0)
            {
                return ErrorOf(document.RootElement[0]) ?? body.ToArray();
            }

            return ErrorOf(document.RootElement) ?? body.ToArray();
        }
        catch (JsonException)
        {
            return body.ToArray();
        }
    }

    internal static (string Text, List<JsonElement> Calls, string? FinishReason) Candidate(JsonElement response)
    {
        var text = new System.Text.StringBuilder();
        var calls = new List<JsonElement>();
        string? finish = null;
        if (response.TryGetProperty("candidates", out var candidates) && candidates.ValueKind == JsonValueKind.Array && candidates.GetArrayLength() > 0)
        {
            var candidate = candidates[0];
            finish = candidate.TryGetProperty("finishReason", out var f) ? f.GetString() : null;
            if (candidate.TryGetProperty("content", out var content) && content.TryGetProperty("parts", out var parts))
            {
                foreach (var part in parts.EnumerateArray())
                {
                    var isThought = part.TryGetProperty("thought", out var thought) && thought.ValueKind == JsonValueKind.True;
                    if (!isThought && part.TryGetProperty("text", out var t))
                    {
                        text.Append(t.GetString());
                    }
                    else if (part.TryGetProperty("functionCall", out var call))
                    {
                        calls.Add(call.Clone());
                    }
                }
            }
        }

        return (text.ToString(), calls, finish);
    }

    /// <summary>A Gemini <c>functionCall</c> as an OpenAI tool call (Gemini gives calls no id: one is made from the index and name).</summary>
    internal static ToolCall ToolCallOf(JsonElement call, int index) =>
        new($"call_{index}_{call.GetProperty("name").GetString()}", call.GetProperty("name").GetString()!, call.TryGetProperty("args", out var args) ? args.GetRawText() : "{}");

    internal static string FinishReason(string? reason) => reason switch
    {
        null or "STOP" or "FINISH_REASON_UNSPECIFIED" => "stop",
        "MAX_TOKENS" => "length",
        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" => "content_filter",
        _ => "stop",
    };

    private static byte[]? ErrorOf(JsonElement root) =>
        root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
            ? OpenAiWire.Error(
                (error.TryGetProperty("message", out var message) ? message.GetString() : null) ?? "The provider returned an error.",
                (error.TryGetProperty("status", out var status) ? status.GetString() : null) ?? "api_error")
            : null;

    internal static Usage UsageOf(JsonElement response) =>
        response.TryGetProperty("usageMetadata", out var usage) ? GeminiUsageMapper.Map(usage) : Usage.None;
}
