using System.Buffers;
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
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiWire.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id", "chatcmpl-" + (message.TryGetProperty("id", out var id) ? id.GetString() : "anthropic"));
            writer.WriteString("object", "chat.completion");
            writer.WriteNumber("created", created);
            writer.WriteString("model", message.TryGetProperty("model", out var model) ? model.GetString() : null);
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("message");
            writer.WriteString("role", "assistant");
            var text = string.Concat(Blocks(message, "text").Select(b => b.GetProperty("text").GetString()));
            if (text.Length > 0)
            {
                writer.WriteString("content", text);
            }
            else
            {
                writer.WriteNull("content");
            }

            var toolUses = Blocks(message, "tool_use").ToList();
            if (toolUses.Count > 0)
            {
                writer.WriteStartArray("tool_calls");
                foreach (var toolUse in toolUses)
                {
                    writer.WriteStartObject();
                    writer.WriteString("id", toolUse.GetProperty("id").GetString());
                    writer.WriteString("type", "function");
                    writer.WriteStartObject("function");
                    writer.WriteString("name", toolUse.GetProperty("name").GetString());
                    writer.WriteString("arguments", toolUse.TryGetProperty("input", out var input) ? input.GetRawText() : "{}");
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            writer.WriteNull("logprobs");
            writer.WriteString("finish_reason", FinishReason(message.TryGetProperty("stop_reason", out var stop) ? stop.GetString() : null));
            writer.WriteEndObject();
            writer.WriteEndArray();
            if (message.TryGetProperty("usage", out var usage))
            {
                OpenAiWire.WriteUsage(writer, AnthropicUsageMapper.Map(usage));
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
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
