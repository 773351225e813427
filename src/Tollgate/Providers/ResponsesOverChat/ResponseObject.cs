using System.Text.Json;
using Tollgate.Metering;

namespace Tollgate.Providers.ResponsesOverChat;

/// <summary>One output item of a translated response: an assistant message's text, or a function call.</summary>
internal sealed record ResponseOutputItem(string Id, string? Text, string? CallId = null, string? Name = null, string? Arguments = null)
{
    public bool IsFunctionCall => CallId is not null;
}

/// <summary>
/// Writes OpenAI's Responses API <c>response</c> object for an answer that came from a chat-completions answer: output
/// items, status (<c>incomplete</c> with <c>max_output_tokens</c> when the answer hit its limit) and usage in the
/// Responses shape. The whole answer and the stream's last event carry the same object.
/// </summary>
internal static class ResponseObject
{
    public static void Write(Utf8JsonWriter writer, string id, long createdAt, string? model, string status, IReadOnlyList<ResponseOutputItem> output, Usage? usage)
    {
        writer.WriteStartObject();
        writer.WriteString("id", id);
        writer.WriteString("object", "response");
        writer.WriteNumber("created_at", createdAt);
        writer.WriteString("status", status);
        writer.WriteNull("error");
        if (status == "incomplete")
        {
            writer.WriteStartObject("incomplete_details");
            writer.WriteString("reason", "max_output_tokens");
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("incomplete_details");
        }

        writer.WriteNull("instructions");
        writer.WriteNull("max_output_tokens");
        writer.WriteString("model", model);
        writer.WriteStartArray("output");
        foreach (var item in output)
        {
            Item(writer, item, status == "in_progress" ? "in_progress" : "completed");
        }

        writer.WriteEndArray();
        writer.WriteBoolean("parallel_tool_calls", true);
        writer.WriteNull("previous_response_id");
        writer.WriteStartObject("reasoning");
        writer.WriteNull("effort");
        writer.WriteNull("summary");
        writer.WriteEndObject();
        writer.WriteBoolean("store", false);
        writer.WriteStartObject("text");
        writer.WriteStartObject("format");
        writer.WriteString("type", "text");
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteString("tool_choice", "auto");
        writer.WriteStartArray("tools");
        writer.WriteEndArray();
        writer.WriteString("truncation", "disabled");
        if (usage is { InputTokens: not null } u)
        {
            writer.WriteStartObject("usage");
            writer.WriteNumber("input_tokens", u.InputTokens ?? 0);
            writer.WriteStartObject("input_tokens_details");
            writer.WriteNumber("cached_tokens", u.CachedInputTokens ?? 0);
            writer.WriteEndObject();
            writer.WriteNumber("output_tokens", u.OutputTokens ?? 0);
            writer.WriteStartObject("output_tokens_details");
            writer.WriteNumber("reasoning_tokens", u.ReasoningTokens ?? 0);
            writer.WriteEndObject();
            writer.WriteNumber("total_tokens", (u.InputTokens ?? 0) + (u.OutputTokens ?? 0));
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("usage");
        }

        writer.WriteStartObject("metadata");
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>One output item, as in <c>output</c> and in the <c>response.output_item.*</c> events.</summary>
    public static void Item(Utf8JsonWriter writer, ResponseOutputItem item, string status)
    {
        writer.WriteStartObject();
        if (item.IsFunctionCall)
        {
            writer.WriteString("type", "function_call");
            writer.WriteString("id", item.Id);
            writer.WriteString("call_id", item.CallId);
            writer.WriteString("name", item.Name);
            writer.WriteString("arguments", item.Arguments ?? string.Empty);
            writer.WriteString("status", status);
        }
        else
        {
            writer.WriteString("type", "message");
            writer.WriteString("id", item.Id);
            writer.WriteString("status", status);
            writer.WriteString("role", "assistant");
            writer.WriteStartArray("content");
            if (item.Text is not null)
            {
                Part(writer, item.Text);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    /// <summary>An <c>output_text</c> content part.</summary>
    public static void Part(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "output_text");
        writer.WriteString("text", text);
        writer.WriteStartArray("annotations");
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The Responses status of a chat answer that ended for <paramref name="finishReason"/>.</summary>
    public static string StatusOf(string? finishReason) => finishReason == "length" ? "incomplete" : "completed";
}
