using System.Text.Json;
using Tollgate.Metering;
using Tollgate.Providers.Streaming;

namespace Tollgate.Providers.Anthropic;

/// <summary>
/// One Anthropic Messages stream (<c>message_start</c>, <c>content_block_*</c>, <c>message_delta</c>,
/// <c>message_stop</c>): usage from <c>message_start</c> updated by each cumulative <c>message_delta</c>; every event
/// is forwarded; <c>message_stop</c> is the end.
/// </summary>
public sealed class AnthropicStreamInspector : IStreamInspector
{
    private readonly AnthropicUsageCounts _counts = new();

    public Usage Usage { get; private set; } = Usage.None;

    /// <summary>Final once a <c>message_delta</c> has carried the output count; <c>message_start</c> has only a placeholder.</summary>
    public bool UsageFinal { get; private set; }

    public StreamEventFacts Inspect(ReadOnlySpan<byte> data)
    {
        using var document = OpenAiWire.TryParseEvent(data);
        if (document is null)
        {
            return new StreamEventFacts(false, true, 0);
        }

        var root = document.RootElement;
        var type = root.TryGetProperty("type", out var t) ? t.GetString() : null;
        long characters = 0;
        switch (type)
        {
            case "message_start" when root.TryGetProperty("message", out var message) && message.TryGetProperty("usage", out var startUsage):
                _counts.Apply(startUsage);
                Usage = _counts.ToUsage();
                break;
            case "message_delta" when root.TryGetProperty("usage", out var deltaUsage):
                _counts.Apply(deltaUsage);
                Usage = _counts.ToUsage();
                UsageFinal = true;
                break;
            case "content_block_delta" when root.TryGetProperty("delta", out var delta):
                foreach (var field in new[] { "text", "thinking", "partial_json" })
                {
                    if (delta.TryGetProperty(field, out var text) && text.ValueKind == JsonValueKind.String)
                    {
                        characters += text.GetString()!.Length;
                    }
                }

                break;
            default:
                break;
        }

        return new StreamEventFacts(type == "message_stop", true, characters);
    }
}
