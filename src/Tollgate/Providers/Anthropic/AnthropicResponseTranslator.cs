using System.Text.Json;

namespace Tollgate.Providers.Anthropic;

/// <summary>
/// Turns Anthropic answers into OpenAI's format: a message into a <c>chat.completion</c> (text blocks → content,
/// <c>tool_use</c> blocks → <c>tool_calls</c>, stop reasons mapped, usage in OpenAI's terms with cache reads as
/// <c>cached_tokens</c>), and an Anthropic error body into OpenAI's error body.
/// </summary>
public static class AnthropicResponseTranslator
{
    public static byte[] Completion(JsonElement message, long created)
    {
        var text = string.Concat(Blocks(message, "text").Select(b => b.GetProperty("text").GetString()));
        var calls = Blocks(message, "tool_use")
            .Select(b => new ToolCall(b.GetProperty("id").GetString()!, b.GetProperty("name").GetString()!, b.TryGetProperty("input", out var input) ? input.GetRawText() : "{}"))
            .ToList();
        return OpenAiWire.Completion(
            "chatcmpl-" + (message.TryGetProperty("id", out var id) ? id.GetString() : "anthropic"),
            created,
            message.TryGetProperty("model", out var model) ? model.GetString() : null,
            text,
            calls,
            FinishReason(message.TryGetProperty("stop_reason", out var stop) ? stop.GetString() : null),
            message.TryGetProperty("usage", out var usage) ? AnthropicUsageMapper.Map(usage) : null);
    }

    /// <summary>Anthropic's <c>{"type":"error","error":{"type","message"}}</c> as OpenAI's <c>{"error":{…}}</c>; other bodies unchanged.</summary>
    public static byte[] Error(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (!document.RootElement.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object)
            {
                return body.ToArray();
            }

            return OpenAiWire.Error(
                (error.TryGetProperty("message", out var message) ? message.GetString() : null) ?? "The provider returned an error.",
                (error.TryGetProperty("type", out var type) ? type.GetString() : null) ?? "api_error");
        }
        catch (JsonException)
        {
            return body.ToArray();
        }
    }

    internal static string FinishReason(string? stopReason) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    };

    private static IEnumerable<JsonElement> Blocks(JsonElement message, string type) =>
        message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array
            ? content.EnumerateArray().Where(b => b.TryGetProperty("type", out var t) && t.GetString() == type)
            : [];
}
