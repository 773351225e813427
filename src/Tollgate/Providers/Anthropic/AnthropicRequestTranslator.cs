using System.Buffers;
using System.Text.Json;

namespace Tollgate.Providers.Anthropic;

/// <summary>
/// Turns an OpenAI chat-completions body into an Anthropic Messages body: system and developer messages become
/// <c>system</c>; user, assistant and tool turns become alternating messages (tool calls → <c>tool_use</c> blocks, tool
/// answers → <c>tool_result</c> blocks, images → image blocks); <c>max_tokens</c>, <c>temperature</c>, <c>top_p</c>,
/// <c>stop</c>, <c>tools</c>, <c>tool_choice</c>, <c>stream</c> and <c>user</c> carry over. OpenAI-only fields have no
/// Anthropic meaning and are dropped. A request Anthropic cannot serve (<c>n</c> &gt; 1) is an error value.
/// </summary>
public static class AnthropicRequestTranslator
{
    public const int DefaultMaxTokens = 4096;

    /// <returns>Null on success, else why the request cannot be translated.</returns>
    public static string? Translate(JsonElement body, string model, int defaultMaxTokens, IBufferWriter<byte> output)
    {
        if (OpenAiChatMessages.RefuseSeveralChoices(body, "Anthropic") is { } refusal)
        {
            return refusal;
        }

        using var writer = new Utf8JsonWriter(output, OpenAiWire.WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("model", model);
        writer.WriteNumber("max_tokens", OpenAiChatMessages.MaxTokens(body) ?? defaultMaxTokens);
        WriteSystem(writer, body);
        var error = WriteMessages(writer, body);
        if (error is not null)
        {
            return error;
        }

        foreach (var name in new[] { "temperature", "top_p" })
        {
            if (body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number)
            {
                writer.WritePropertyName(name);
                value.WriteTo(writer);
            }
        }

        if (OpenAiChatMessages.StopSequences(body) is { Count: > 0 } stops)
        {
            writer.WriteStartArray("stop_sequences");
            foreach (var sequence in stops)
            {
                writer.WriteStringValue(sequence);
            }

            writer.WriteEndArray();
        }

        WriteTools(writer, body);
        if (body.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
        {
            writer.WriteBoolean("stream", true);
        }

        if (body.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.String)
        {
            writer.WriteStartObject("metadata");
            writer.WriteString("user_id", user.GetString());
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        return null;
    }

    private static void WriteSystem(Utf8JsonWriter writer, JsonElement body)
    {
        var system = OpenAiChatMessages.SystemText(body);
        if (system.Length > 0)
        {
            writer.WriteString("system", system);
        }
    }

    private static string? WriteMessages(Utf8JsonWriter writer, JsonElement body)
    {
        // Anthropic wants user and assistant turns to alternate: consecutive turns of one role are merged.
        var turns = new List<(string Role, List<Action<Utf8JsonWriter>> Blocks)>();
        foreach (var message in body.GetProperty("messages").EnumerateArray())
        {
            var role = OpenAiChatMessages.Role(message);
            if (role is "system" or "developer")
            {
                continue;
            }

            var anthropicRole = role == "assistant" ? "assistant" : "user";
            var blocks = new List<Action<Utf8JsonWriter>>();
            if (role == "tool")
            {
                var id = message.TryGetProperty("tool_call_id", out var toolCallId) ? toolCallId.GetString() : null;
                var result = message.TryGetProperty("content", out var toolContent) ? OpenAiChatMessages.Text(toolContent) : string.Empty;
                blocks.Add(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("type", "tool_result");
                    w.WriteString("tool_use_id", id);
                    w.WriteString("content", result);
                    w.WriteEndObject();
                });
            }
            else
            {
                if (message.TryGetProperty("content", out var content))
                {
                    var error = ContentBlocks(content, blocks);
                    if (error is not null)
                    {
                        return error;
                    }
                }

                if (message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                {
                    foreach (var call in calls.EnumerateArray())
                    {
                        if (!call.TryGetProperty("function", out _))
                        {
                            return OpenAiChatMessages.OnlyFunctionCalls("Anthropic");
                        }

                        blocks.Add(ToolUse(call));
                    }
                }
            }

            if (turns.Count > 0 && turns[^1].Role == anthropicRole)
            {
                turns[^1].Blocks.AddRange(blocks);
            }
            else
            {
                turns.Add((anthropicRole, blocks));
            }
        }

        writer.WriteStartArray("messages");
        foreach (var (role, blocks) in turns)
        {
            writer.WriteStartObject();
            writer.WriteString("role", role);
            writer.WriteStartArray("content");
            foreach (var block in blocks)
            {
                block(writer);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        return null;
    }

    private static string? ContentBlocks(JsonElement content, List<Action<Utf8JsonWriter>> blocks)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            var text = content.GetString()!;
            if (text.Length > 0)
            {
                blocks.Add(w => TextBlock(w, text));
            }

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
                var text = part.GetProperty("text").GetString() ?? string.Empty;
                blocks.Add(w => TextBlock(w, text));
            }
            else if (type == "image_url")
            {
                var url = part.GetProperty("image_url").GetProperty("url").GetString() ?? string.Empty;
                var image = ImageBlock(url);
                if (image is null)
                {
                    return "Images must be https URLs or base64 data URLs (data:image/png;base64,…).";
                }

                blocks.Add(image);
            }
            else
            {
                return $"Content parts of type '{type}' cannot be sent to an Anthropic model.";
            }
        }

        return null;
    }

    private static Action<Utf8JsonWriter>? ImageBlock(string url)
    {
        if (url.StartsWith("data:", StringComparison.Ordinal))
        {
            var comma = url.IndexOf(',', StringComparison.Ordinal);
            var header = comma > 5 ? url[5..comma] : string.Empty;
            if (comma < 0 || !header.EndsWith(";base64", StringComparison.Ordinal))
            {
                return null;
            }

            var mediaType = header[..^7];
            var data = url[(comma + 1)..];
            return w =>
            {
                w.WriteStartObject();
                w.WriteString("type", "image");
                w.WriteStartObject("source");
                w.WriteString("type", "base64");
                w.WriteString("media_type", mediaType);
                w.WriteString("data", data);
                w.WriteEndObject();
                w.WriteEndObject();
            };
        }

        if (!url.StartsWith("https://", StringComparison.Ordinal) && !url.StartsWith("http://", StringComparison.Ordinal))
        {
            return null;
        }

        return w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "image");
            w.WriteStartObject("source");
            w.WriteString("type", "url");
            w.WriteString("url", url);
            w.WriteEndObject();
            w.WriteEndObject();
        };
    }

    private static Action<Utf8JsonWriter> ToolUse(JsonElement call)
    {
        var id = call.TryGetProperty("id", out var i) ? i.GetString() : null;
        var function = call.GetProperty("function");
        var name = function.GetProperty("name").GetString();
        var arguments = function.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : "{}";
        return w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "tool_use");
            w.WriteString("id", id);
            w.WriteString("name", name);
            w.WritePropertyName("input");
            try
            {
                using var input = JsonDocument.Parse(string.IsNullOrWhiteSpace(arguments) ? "{}" : arguments);
                input.RootElement.WriteTo(w);
            }
            catch (JsonException)
            {
                // Arguments that are not JSON are kept as text so nothing is lost.
                w.WriteStartObject();
                w.WriteString("arguments", arguments);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        };
    }

    private static void WriteTools(Utf8JsonWriter writer, JsonElement body)
    {
        if (body.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0)
        {
            writer.WriteStartArray("tools");
            foreach (var tool in tools.EnumerateArray())
            {
                if (!tool.TryGetProperty("function", out var function))
                {
                    continue;
                }

                writer.WriteStartObject();
                writer.WriteString("name", function.GetProperty("name").GetString());
                if (function.TryGetProperty("description", out var description) && description.ValueKind == JsonValueKind.String)
                {
                    writer.WriteString("description", description.GetString());
                }

                writer.WritePropertyName("input_schema");
                if (function.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object)
                {
                    parameters.WriteTo(writer);
                }
                else
                {
                    writer.WriteStartObject();
                    writer.WriteString("type", "object");
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        if (body.TryGetProperty("tool_choice", out var choice))
        {
            var (type, name) = choice.ValueKind switch
            {
                JsonValueKind.String => (choice.GetString() switch { "required" => "any", "none" => "none", _ => "auto" }, (string?)null),
                JsonValueKind.Object when choice.TryGetProperty("function", out var f) => ("tool", f.GetProperty("name").GetString()),
                _ => ("auto", null),
            };
            writer.WriteStartObject("tool_choice");
            writer.WriteString("type", type);
            if (name is not null)
            {
                writer.WriteString("name", name);
            }

            writer.WriteEndObject();
        }
    }

    private static void TextBlock(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "text");
        writer.WriteString("text", text);
        writer.WriteEndObject();
    }
}
