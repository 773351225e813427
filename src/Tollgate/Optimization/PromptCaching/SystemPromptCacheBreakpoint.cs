using System.Buffers;
using System.Text.Json;
using Tollgate.Metering;

namespace Tollgate.Optimization.PromptCaching;

/// <summary>
/// The opt-in policy that marks a long system prompt for Anthropic's prompt cache: when a Messages request's
/// <c>system</c> is at least <c>minTokens</c> long and the request has no <c>cache_control</c> of its own, the last
/// system block gets <c>cache_control: {"type":"ephemeral"}</c>. The first such request pays the 5-minute write
/// (125% of input); every identical prefix within five minutes reads it back at 10%. A request that already manages its
/// own caching is left alone.
/// </summary>
public static class SystemPromptCacheBreakpoint
{
    /// <summary>Returns the rewritten body, or null when the policy does not apply.</summary>
    public static byte[]? Apply(JsonElement body, int minTokens)
    {
        if (!body.TryGetProperty("system", out var system) || system.ValueKind is not (JsonValueKind.String or JsonValueKind.Array)
            || body.GetRawText().Contains("\"cache_control\"", StringComparison.Ordinal))
        {
            return null;
        }

        var text = system.ValueKind == JsonValueKind.String
            ? system.GetString()!
            : string.Concat(system.EnumerateArray().Where(b => b.TryGetProperty("text", out _)).Select(b => b.GetProperty("text").GetString()));
        if (TokenEstimator.FromCharacters(text.Length) < minTokens)
        {
            return null;
        }

        var output = new ArrayBufferWriter<byte>(body.GetRawText().Length + 64);
        using (var writer = new Utf8JsonWriter(output, Providers.OpenAiWire.WriterOptions))
        {
            writer.WriteStartObject();
            foreach (var property in body.EnumerateObject())
            {
                if (!property.NameEquals("system"u8))
                {
                    property.WriteTo(writer);
                    continue;
                }

                writer.WriteStartArray("system");
                var blocks = system.ValueKind == JsonValueKind.String ? [] : system.EnumerateArray().ToList();
                if (system.ValueKind == JsonValueKind.String)
                {
                    WriteMarkedText(writer, system.GetString()!);
                }
                else
                {
                    for (var i = 0; i < blocks.Count; i++)
                    {
                        if (i < blocks.Count - 1)
                        {
                            blocks[i].WriteTo(writer);
                        }
                        else
                        {
                            WriteMarked(writer, blocks[i]);
                        }
                    }
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }

    private static void WriteMarkedText(Utf8JsonWriter writer, string text)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "text");
        writer.WriteString("text", text);
        WriteCacheControl(writer);
        writer.WriteEndObject();
    }

    private static void WriteMarked(Utf8JsonWriter writer, JsonElement block)
    {
        writer.WriteStartObject();
        foreach (var property in block.EnumerateObject())
        {
            property.WriteTo(writer);
        }

        WriteCacheControl(writer);
        writer.WriteEndObject();
    }

    private static void WriteCacheControl(Utf8JsonWriter writer)
    {
        writer.WriteStartObject("cache_control");
        writer.WriteString("type", "ephemeral");
        writer.WriteEndObject();
    }
}
