using System.Text.Json;

namespace Tollgate.Providers;

/// <summary>Reading an OpenAI chat-completions request, the same way for every adapter that translates one.</summary>
public static class OpenAiChatMessages
{
    public static string? Role(JsonElement message) =>
        message.ValueKind == JsonValueKind.Object && message.TryGetProperty("role", out var role) ? role.GetString() : null;

    public static bool IsSystem(JsonElement message) => Role(message) is "system" or "developer";

    /// <summary>The text of a message's content: the string, or its text parts joined.</summary>
    public static string Text(JsonElement content) => content.ValueKind switch
    {
        JsonValueKind.String => content.GetString()!,
        JsonValueKind.Array => string.Concat(content.EnumerateArray()
            .Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("text", out _))
            .Select(p => p.GetProperty("text").GetString())),
        _ => string.Empty,
    };

    /// <summary>All system and developer messages, joined by a blank line.</summary>
    public static string SystemText(JsonElement body) =>
        string.Join("\n\n", body.GetProperty("messages").EnumerateArray().Where(IsSystem).Select(m => Text(m.GetProperty("content"))).Where(t => t.Length > 0));

    /// <summary><c>max_completion_tokens</c>, else the older <c>max_tokens</c>.</summary>
    public static long? MaxTokens(JsonElement body)
    {
        foreach (var name in new[] { "max_completion_tokens", "max_tokens" })
        {
            if (body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var max) && max > 0)
            {
                return max;
            }
        }

        return null;
    }

    /// <summary>The <c>stop</c> field as a list (it may be one string or an array).</summary>
    public static IReadOnlyList<string> StopSequences(JsonElement body) =>
        body.TryGetProperty("stop", out var stop) ? stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array => [.. stop.EnumerateArray().Where(s => s.ValueKind == JsonValueKind.String).Select(s => s.GetString()!)],
            _ => [],
        } : [];

    /// <summary>A tool call's JSON-text arguments as a JSON object; text that is not JSON is kept as <c>{"arguments": text}</c>.</summary>
    public static void WriteArguments(Utf8JsonWriter writer, string? arguments)
    {
        ArgumentNullException.ThrowIfNull(writer);
        try
        {
            using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(arguments) ? "{}" : arguments);
            document.RootElement.WriteTo(writer);
        }
        catch (JsonException)
        {
            writer.WriteStartObject();
            writer.WriteString("arguments", arguments);
            writer.WriteEndObject();
        }
    }

    /// <summary>A refusal for a tool call that is not a function call (a custom tool's call), which only OpenAI's models take.</summary>
    public static string OnlyFunctionCalls(string provider) => $"{provider} models take function tool calls only: every tool call needs a 'function'.";

    /// <summary>A refusal for <c>n</c> greater than 1, which providers other than OpenAI's cannot serve.</summary>
    public static string? RefuseSeveralChoices(JsonElement body, string provider) =>
        body.TryGetProperty("n", out var n) && n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var count) && count > 1
            ? $"{provider} models return one choice: 'n' greater than 1 is not supported."
            : null;
}
