using System.Buffers;
using System.Text.Json;

namespace Tollgate.Providers.Gemini;

/// <summary>
/// Turns an OpenAI chat-completions body into a Gemini <c>generateContent</c> body: system and developer messages
/// become <c>systemInstruction</c>; user and assistant turns become <c>contents</c> with roles user and model (tool
/// calls → <c>functionCall</c> parts, tool answers → <c>functionResponse</c> parts, base64 images → <c>inlineData</c>);
/// sampling settings go to <c>generationConfig</c>; tools to <c>functionDeclarations</c>.
/// </summary>
public static class GeminiRequestTranslator
{
    /// <returns>Null on success, else why the request cannot be translated.</returns>
    public static string? Translate(JsonElement body, IBufferWriter<byte> output)
    {
        if (OpenAiChatMessages.RefuseSeveralChoices(body, "Gemini") is { } refusal)
        {
            return refusal;
        }

        var toolNames = new Dictionary<string, string>(StringComparer.Ordinal);
        using var writer = new Utf8JsonWriter(output, OpenAiWire.WriterOptions);
        writer.WriteStartObject();
        var messages = body.GetProperty("messages").EnumerateArray().ToList();
        var system = OpenAiChatMessages.SystemText(body);
        if (system.Length > 0)
        {
            writer.WriteStartObject("systemInstruction");
            writer.WriteStartArray("parts");
            writer.WriteStartObject();
            writer.WriteString("text", system);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteStartArray("contents");
        foreach (var message in messages)
        {
            var role = OpenAiChatMessages.Role(message);
            if (role is "system" or "developer")
            {
                continue;
            }

            writer.WriteStartObject();
            writer.WriteString("role", role == "assistant" ? "model" : "user");
            writer.WriteStartArray("parts");
            if (role == "tool")
            {
                var id = message.TryGetProperty("tool_call_id", out var callId) ? callId.GetString() ?? string.Empty : string.Empty;
                writer.WriteStartObject();
                writer.WriteStartObject("functionResponse");
                writer.WriteString("name", toolNames.GetValueOrDefault(id, id));
                writer.WriteStartObject("response");
                writer.WriteString("content", message.TryGetProperty("content", out var result) ? OpenAiChatMessages.Text(result) : string.Empty);
                writer.WriteEndObject();
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            else
            {
                if (message.TryGetProperty("content", out var content))
                {
                    var error = WriteParts(writer, content);
                    if (error is not null)
                    {
                        return error;
                    }
                }

                if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                {
                    foreach (var call in calls.EnumerateArray())
                    {
                        if (!call.TryGetProperty("function", out var function))
                        {
                            return OpenAiChatMessages.OnlyFunctionCalls("Gemini");
                        }

                        var name = function.GetProperty("name").GetString()!;
                        if (call.TryGetProperty("id", out var id) && id.GetString() is { } callId)
                        {
                            toolNames[callId] = name;
                        }

                        writer.WriteStartObject();
                        writer.WriteStartObject("functionCall");
                        writer.WriteString("name", name);
                        writer.WritePropertyName("args");
                        OpenAiChatMessages.WriteArguments(writer, function.TryGetProperty("arguments", out var a) ? a.GetString() : null);
                        writer.WriteEndObject();
                        writer.WriteEndObject();
                    }
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        WriteGenerationConfig(writer, body);
        WriteTools(writer, body);
        writer.WriteEndObject();
        return null;
    }

    private static string? WriteParts(Utf8JsonWriter writer, JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            writer.WriteStartObject();
            writer.WriteString("text", content.GetString());
            writer.WriteEndObject();
            return null;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var part in content.EnumerateArray())
        {
            var type = part.TryGetProperty("type", out var t) ? t.GetString() : null;
            if (type == "text")
            {
                writer.WriteStartObject();
                writer.WriteString("text", part.GetProperty("text").GetString());
                writer.WriteEndObject();
            }
            else if (type == "image_url" && part.GetProperty("image_url").GetProperty("url").GetString() is { } url
                && url.StartsWith("data:", StringComparison.Ordinal) && url.IndexOf(";base64,", StringComparison.Ordinal) is var marker and > 5)
            {
                writer.WriteStartObject();
                writer.WriteStartObject("inlineData");
                writer.WriteString("mimeType", url[5..marker]);
                writer.WriteString("data", url[(marker + 8)..]);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            else
            {
                return type == "image_url"
                    ? "Gemini deployments take images as base64 data URLs (data:image/png;base64,…)."
                    : $"Content parts of type '{type}' cannot be sent to a Gemini model.";
            }
        }

        return null;
    }

    private static void WriteGenerationConfig(Utf8JsonWriter writer, JsonElement body)
    {
        writer.WriteStartObject("generationConfig");
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (from, to) in new[] { ("max_completion_tokens", "maxOutputTokens"), ("max_tokens", "maxOutputTokens"), ("temperature", "temperature"), ("top_p", "topP"), ("seed", "seed") })
        {
            // max_completion_tokens wins over the older max_tokens when a client sends both.
            if (body.TryGetProperty(from, out var value) && value.ValueKind == JsonValueKind.Number && written.Add(to))
            {
                writer.WritePropertyName(to);
                value.WriteTo(writer);
            }
        }

        if (OpenAiChatMessages.StopSequences(body) is { Count: > 0 } stops)
        {
            writer.WriteStartArray("stopSequences");
            foreach (var sequence in stops)
            {
                writer.WriteStringValue(sequence);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private static void WriteTools(Utf8JsonWriter writer, JsonElement body)
    {
        if (!body.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() == 0)
        {
            return;
        }

        writer.WriteStartArray("tools");
        writer.WriteStartObject();
        writer.WriteStartArray("functionDeclarations");
        foreach (var tool in tools.EnumerateArray())
        {
            if (!tool.TryGetProperty("function", out var function))
            {
                continue;
            }

            writer.WriteStartObject();
            writer.WriteString("name", function.GetProperty("name").GetString());
            if (function.TryGetProperty("description", out var description))
            {
                writer.WriteString("description", description.GetString());
            }

            if (function.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
            {
                writer.WritePropertyName("parameters");
                parameters.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndArray();
    }
}
