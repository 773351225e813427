using System.Text.Json;
using Tollgate.Metering;
using Tollgate.Providers.Streaming;

namespace Tollgate.Providers.OpenAiCompatible;

/// <summary>
/// Meters a Responses API stream: usage comes in the last event (<c>response.completed</c>, or <c>response.incomplete</c> /
/// <c>response.failed</c>) under <c>response.usage</c>; the text streamed (<c>response.output_text.delta</c> and the other
/// <c>*.delta</c> events) is counted so that a stream cut before its end can be estimated. Every event is passed on.
/// </summary>
public sealed class ResponsesStreamInspector : IStreamInspector
{
    public Usage Usage { get; private set; } = Usage.None;

    public bool UsageFinal => Usage.IsReported;

    public string? ProviderObjectId { get; private set; }

    public StreamEventFacts Inspect(ReadOnlySpan<byte> data)
    {
        try
        {
            using var document = JsonDocument.Parse(data.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return new StreamEventFacts(false, true, 0);
            }

            if (ProviderObjectId is null && root.TryGetProperty("response", out var named) && named.ValueKind == JsonValueKind.Object
                && named.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                ProviderObjectId = id.GetString();
            }

            if (type.ValueEquals("response.completed") || type.ValueEquals("response.incomplete") || type.ValueEquals("response.failed"))
            {
                if (root.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object && response.TryGetProperty("usage", out var usage))
                {
                    Usage = OpenAiUsageMapper.Map(usage) with { ToolCalls = BuiltInToolCalls.Count(response) };
                }

                return new StreamEventFacts(true, true, 0);
            }

            var characters = type.GetString()!.EndsWith(".delta", StringComparison.Ordinal) && root.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.String
                ? delta.GetString()!.Length
                : 0;
            return new StreamEventFacts(false, true, characters);
        }
        catch (JsonException)
        {
            return new StreamEventFacts(false, true, 0);
        }
    }

    /// <summary>Usage of a whole Responses answer, and its output text's length for an estimate when usage is missing.</summary>
    public static (Usage Usage, long OutputCharacters) ReadResponse(ReadOnlySpan<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (Usage.None, 0);
            }

            var usage = (root.TryGetProperty("usage", out var reported) ? OpenAiUsageMapper.Map(reported) : Usage.None) with { ToolCalls = BuiltInToolCalls.Count(root) };
            if (usage is { InputTokens: not null, OutputTokens: not null })
            {
                return (usage, 0);
            }

            long characters = 0;
            if (root.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in output.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
                    {
                        characters += content.EnumerateArray()
                            .Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
                            .Sum(p => (long)p.GetProperty("text").GetString()!.Length);
                    }
                }
            }

            return (usage, characters);
        }
        catch (JsonException)
        {
            return (Usage.None, 0);
        }
    }
}
