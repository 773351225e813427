using System.Buffers;
using System.Text.Json;

namespace Tollgate.Providers.ResponsesOverChat;

/// <summary>
/// A Responses API request as a chat-completions request, for providers that have no Responses API (Anthropic,
/// Gemini) and whose adapters already translate chat: <c>instructions</c> become the system message; the input — a
/// string, or message items (<c>input_text</c>, <c>output_text</c>, <c>input_image</c> parts), <c>function_call</c> and
/// <c>function_call_output</c> items — becomes messages; function tools, <c>tool_choice</c>, <c>max_output_tokens</c>,
/// <c>temperature</c>, <c>top_p</c>, <c>text.format</c> (JSON schema or object), <c>reasoning.effort</c>,
/// <c>parallel_tool_calls</c>, <c>user</c> and <c>stream</c> carry over. What has no chat equivalent — built-in tools
/// (web search, file search, code interpreter…), files, item references, <c>previous_response_id</c> (the gateway keeps
/// no conversation for these providers) — is refused, named.
/// </summary>
public static class ResponsesChatRequest
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The chat request, or why the request cannot be expressed as one (nothing is sent).</summary>
    public static (byte[]? Chat, string? Refusal) Translate(JsonElement body)
    {
        if (body.TryGetProperty("previous_response_id", out var previous) && previous.ValueKind != JsonValueKind.Null)
        {
            return (null, "'previous_response_id' needs a conversation kept by the provider; this model's provider has none: send the whole conversation in 'input'.");
        }

        var output = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(output, WriterOptions))
        {
            writer.WriteStartObject();
            foreach (var property in body.EnumerateObject())
            {
                var refusal = property.Name switch
                {
                    "model" or "temperature" or "top_p" or "user" or "stream" or "parallel_tool_calls" => Copy(writer, property),
                    "max_output_tokens" => Renamed(writer, "max_tokens", property.Value),
                    "tools" => Tools(writer, property.Value),
                    "tool_choice" => ToolChoice(writer, property.Value),
                    "text" => Format(writer, property.Value),
                    "reasoning" => Reasoning(writer, property.Value),
                    _ => null,
                };
                if (refusal is not null)
                {
                    return (null, refusal);
                }
            }

            writer.WriteStartArray("messages");
            if (body.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String)
            {
                writer.WriteStartObject();
                writer.WriteString("role", "system");
                writer.WriteString("content", instructions.GetString());
                writer.WriteEndObject();
            }

            if (Input(writer, body.TryGetProperty("input", out var input) ? input : default) is { } inputRefusal)
            {
                return (null, inputRefusal);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return (output.WrittenSpan.ToArray(), null);
    }

    private static string? Copy(Utf8JsonWriter writer, JsonProperty property)
    {
        property.WriteTo(writer);
        return null;
    }

    private static string? Renamed(Utf8JsonWriter writer, string name, JsonElement value)
    {
        writer.WritePropertyName(name);
        value.WriteTo(writer);
        return null;
    }

    private static string? Input(Utf8JsonWriter writer, JsonElement input)
    {
        switch (input.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                Message(writer, "user", w => w.WriteString("content", input.GetString()));
                return null;
            case JsonValueKind.Array:
                break;
            default:
                return "'input' must be a string or an array of items.";
        }

        var pendingCalls = new List<JsonElement>();
        foreach (var item in input.EnumerateArray())
        {
            var type = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : "message";
            if (type != "function_call" && pendingCalls.Count > 0)
            {
                Calls(writer, pendingCalls);
            }

            var refusal = type switch
            {
                "message" => MessageItem(writer, item),
                "function_call" => Pending(pendingCalls, item),
                "function_call_output" => CallOutput(writer, item),
                "reasoning" => null,
                _ => $"input items of type '{type}' have no equivalent for this model's provider.",
            };
            if (refusal is not null)
            {
                return refusal;
            }
        }

        if (pendingCalls.Count > 0)
        {
            Calls(writer, pendingCalls);
        }

        return null;
    }

    private static string? Pending(List<JsonElement> calls, JsonElement item)
    {
        calls.Add(item);
        return null;
    }

    /// <summary>Consecutive <c>function_call</c> items: one assistant message with their tool calls.</summary>
    private static void Calls(Utf8JsonWriter writer, List<JsonElement> calls)
    {
        Message(writer, "assistant", w =>
        {
            w.WriteNull("content");
            w.WriteStartArray("tool_calls");
            foreach (var call in calls)
            {
                w.WriteStartObject();
                w.WriteString("id", Text(call, "call_id") ?? Text(call, "id") ?? "call");
                w.WriteString("type", "function");
                w.WriteStartObject("function");
                w.WriteString("name", Text(call, "name") ?? string.Empty);
                w.WriteString("arguments", Text(call, "arguments") ?? "{}");
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
        calls.Clear();
    }

    private static string? CallOutput(Utf8JsonWriter writer, JsonElement item)
    {
        var output = item.TryGetProperty("output", out var o) ? o : default;
        Message(writer, "tool", w =>
        {
            w.WriteString("tool_call_id", Text(item, "call_id") ?? "call");
            w.WriteString("content", output.ValueKind == JsonValueKind.String ? output.GetString() : output.ValueKind == JsonValueKind.Undefined ? string.Empty : output.GetRawText());
        });
        return null;
    }

    private static string? MessageItem(Utf8JsonWriter writer, JsonElement item)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return "each input item must be an object.";
        }

        var role = Text(item, "role") switch
        {
            "developer" or "system" => "system",
            "assistant" => "assistant",
            _ => "user",
        };
        var content = item.TryGetProperty("content", out var c) ? c : default;
        if (content.ValueKind == JsonValueKind.String)
        {
            Message(writer, role, w => w.WriteString("content", content.GetString()));
            return null;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return "a message item's 'content' must be a string or an array of parts.";
        }

        foreach (var part in content.EnumerateArray())
        {
            var type = Text(part, "type");
            if (type is "input_file" || (type == "input_image" && !part.TryGetProperty("image_url", out _)))
            {
                return $"'{type}' parts by file id have no equivalent for this model's provider: send images as 'image_url' (a URL or a data: URL).";
            }

            if (type is not ("input_text" or "output_text" or "text" or "refusal" or "input_image"))
            {
                return $"content parts of type '{type}' have no equivalent for this model's provider.";
            }
        }

        if (role != "user")
        {
            // System and assistant turns are text in the chat format.
            var text = string.Concat(content.EnumerateArray().Select(p => Text(p, "text") ?? Text(p, "refusal")));
            Message(writer, role, w => w.WriteString("content", text));
            return null;
        }

        Message(writer, role, w =>
        {
            w.WriteStartArray("content");
            foreach (var part in content.EnumerateArray())
            {
                w.WriteStartObject();
                if (Text(part, "type") == "input_image")
                {
                    w.WriteString("type", "image_url");
                    w.WriteStartObject("image_url");
                    w.WriteString("url", Text(part, "image_url"));
                    if (Text(part, "detail") is { } detail)
                    {
                        w.WriteString("detail", detail);
                    }

                    w.WriteEndObject();
                }
                else
                {
                    w.WriteString("type", "text");
                    w.WriteString("text", Text(part, "text") ?? string.Empty);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
        return null;
    }

    private static string? Tools(Utf8JsonWriter writer, JsonElement tools)
    {
        if (tools.ValueKind != JsonValueKind.Array)
        {
            return "'tools' must be an array.";
        }

        foreach (var tool in tools.EnumerateArray())
        {
            if (Text(tool, "type") != "function")
            {
                return $"the built-in tool '{Text(tool, "type")}' is OpenAI's; this model's provider offers function tools only.";
            }
        }

        writer.WriteStartArray("tools");
        foreach (var tool in tools.EnumerateArray())
        {
            writer.WriteStartObject();
            writer.WriteString("type", "function");
            writer.WriteStartObject("function");
            writer.WriteString("name", Text(tool, "name") ?? string.Empty);
            if (Text(tool, "description") is { } description)
            {
                writer.WriteString("description", description);
            }

            if (tool.TryGetProperty("parameters", out var parameters) && parameters.ValueKind != JsonValueKind.Null)
            {
                writer.WritePropertyName("parameters");
                parameters.WriteTo(writer);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        return null;
    }

    private static string? ToolChoice(Utf8JsonWriter writer, JsonElement choice)
    {
        if (choice.ValueKind == JsonValueKind.String)
        {
            writer.WriteString("tool_choice", choice.GetString());
            return null;
        }

        if (Text(choice, "type") == "function" && Text(choice, "name") is { } name)
        {
            writer.WriteStartObject("tool_choice");
            writer.WriteString("type", "function");
            writer.WriteStartObject("function");
            writer.WriteString("name", name);
            writer.WriteEndObject();
            writer.WriteEndObject();
            return null;
        }

        return "'tool_choice' must be \"auto\", \"none\", \"required\" or a function by name for this model's provider.";
    }

    private static string? Format(Utf8JsonWriter writer, JsonElement text)
    {
        var format = text.ValueKind == JsonValueKind.Object && text.TryGetProperty("format", out var f) ? f : default;
        switch (Text(format, "type"))
        {
            case "json_schema":
                writer.WriteStartObject("response_format");
                writer.WriteString("type", "json_schema");
                writer.WriteStartObject("json_schema");
                writer.WriteString("name", Text(format, "name") ?? "answer");
                if (format.TryGetProperty("schema", out var schema))
                {
                    writer.WritePropertyName("schema");
                    schema.WriteTo(writer);
                }

                if (format.TryGetProperty("strict", out var strict) && strict.ValueKind is JsonValueKind.True or JsonValueKind.False)
                {
                    writer.WriteBoolean("strict", strict.GetBoolean());
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
                return null;
            case "json_object":
                writer.WriteStartObject("response_format");
                writer.WriteString("type", "json_object");
                writer.WriteEndObject();
                return null;
            default:
                return null;
        }
    }

    private static string? Reasoning(Utf8JsonWriter writer, JsonElement reasoning)
    {
        if (Text(reasoning, "effort") is { } effort)
        {
            writer.WriteString("reasoning_effort", effort);
        }

        return null;
    }

    private static void Message(Utf8JsonWriter writer, string role, Action<Utf8JsonWriter> content)
    {
        writer.WriteStartObject();
        writer.WriteString("role", role);
        content(writer);
        writer.WriteEndObject();
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
