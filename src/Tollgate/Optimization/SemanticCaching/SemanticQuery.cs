using System.Text;
using System.Text.Json;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>The text of a request's last message when it is the user's and plain text (a string, or text parts only).</summary>
public static class SemanticQuery
{
    /// <summary>The last user message's text; null when the request is not a question the semantic cache may answer.</summary>
    public static string? LastUserText(JsonElement body)
    {
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            return null;
        }

        var last = messages[messages.GetArrayLength() - 1];
        if (last.ValueKind != JsonValueKind.Object || !last.TryGetProperty("role", out var role) || !role.ValueEquals("user")
            || !last.TryGetProperty("content", out var content))
        {
            return null;
        }

        string? text = null;
        if (content.ValueKind == JsonValueKind.String)
        {
            text = content.GetString();
        }
        else if (content.ValueKind == JsonValueKind.Array)
        {
            var joined = new StringBuilder();
            foreach (var part in content.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || !type.ValueEquals("text")
                    || !part.TryGetProperty("text", out var piece) || piece.ValueKind != JsonValueKind.String)
                {
                    return null; // an image, a file, a tool result: not a plain question
                }

                joined.Append(piece.GetString()).Append('\n');
            }

            text = joined.ToString();
        }

        return text is { Length: > 0 and <= SemanticCacheSettings.MaxQueryCharacters } && !string.IsNullOrWhiteSpace(text) ? text : null;
    }

    /// <summary>
    /// The text of an answer, for comparing two: an OpenAI chat completion or an Anthropic message, whole or as the SSE
    /// events of a stream (OpenAI's <c>choices[0].delta.content</c>, Anthropic's <c>text_delta</c>s, joined).
    /// </summary>
    public static string? AnswerText(ReadOnlyMemory<byte> body)
    {
        var span = body.Span.TrimStart(" \r\n\t"u8);
        if (span.StartsWith("data:"u8) || span.StartsWith("event:"u8) || span.StartsWith(":"u8))
        {
            return StreamedText(body);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
                && choices[0].TryGetProperty("message", out var message) && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            {
                return content.GetString();
            }

            if (root.TryGetProperty("content", out var blocks) && blocks.ValueKind == JsonValueKind.Array)
            {
                return string.Concat(blocks.EnumerateArray()
                    .Where(b => b.TryGetProperty("type", out var t) && t.ValueEquals("text") && b.TryGetProperty("text", out _))
                    .Select(b => b.GetProperty("text").GetString()));
            }

            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The text a stream's data events carry, joined; null when none carries text.</summary>
    private static string? StreamedText(ReadOnlyMemory<byte> events)
    {
        var text = new StringBuilder();
        foreach (var line in System.Text.Encoding.UTF8.GetString(events.Span).Split('\n'))
        {
            var data = line.TrimEnd('\r');
            if (!data.StartsWith("data:", StringComparison.Ordinal) || data.AsSpan(5).Trim().SequenceEqual("[DONE]"))
            {
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(data.AsMemory(5));
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
                    && choices[0].TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object
                    && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                {
                    text.Append(content.GetString());
                }
                else if (root.TryGetProperty("delta", out var anthropic) && anthropic.ValueKind == JsonValueKind.Object
                    && anthropic.TryGetProperty("type", out var type) && type.ValueEquals("text_delta")
                    && anthropic.TryGetProperty("text", out var piece) && piece.ValueKind == JsonValueKind.String)
                {
                    text.Append(piece.GetString());
                }
            }
            catch (JsonException)
            {
                // Not an event with JSON: skipped.
            }
        }

        return text.Length > 0 ? text.ToString() : null;
    }
}
