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

    /// <summary>The text of an answer body (OpenAI chat completion or Anthropic message), for comparing two answers.</summary>
    public static string? AnswerText(ReadOnlyMemory<byte> body)
    {
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
}
