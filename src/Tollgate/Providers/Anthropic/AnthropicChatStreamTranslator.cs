using System.Buffers;
using System.Text.Json;
using Tollgate.Metering;
using Tollgate.Providers.Streaming;

namespace Tollgate.Providers.Anthropic;

/// <summary>
/// One Anthropic Messages stream, relayed to an OpenAI-format client as <c>chat.completion.chunk</c> events: text
/// deltas become content deltas, <c>tool_use</c> blocks become tool-call deltas, <c>message_delta</c> gives the finish
/// reason, and <c>message_stop</c> becomes the usage chunk (when the client asked for it) and <c>[DONE]</c>. Usage is
/// kept exactly as the Anthropic inspector keeps it.
/// </summary>
public sealed class AnthropicChatStreamTranslator(bool clientWantsUsage, long created) : IStreamInspector
{
    private readonly AnthropicStreamInspector _usage = new();
    private readonly Dictionary<int, int> _toolIndexes = [];
    private string _id = "chatcmpl-anthropic";
    private string? _model;

    public Usage Usage => _usage.Usage;

    public bool UsageFinal => _usage.UsageFinal;

    public StreamEventFacts Inspect(ReadOnlySpan<byte> data)
    {
        var facts = _usage.Inspect(data);
        using var document = OpenAiWire.TryParseEvent(data);
        if (document is null)
        {
            return new StreamEventFacts(false, true, 0, ReadOnlyMemory<byte>.Empty);
        }


        var root = document.RootElement;
        var output = new ArrayBufferWriter<byte>(256);
        switch (root.TryGetProperty("type", out var type) ? type.GetString() : null)
        {
            case "message_start":
                var message = root.GetProperty("message");
                _id = "chatcmpl-" + message.GetProperty("id").GetString();
                _model = message.TryGetProperty("model", out var model) ? model.GetString() : null;
                Chunk(output, w =>
                {
                    w.WriteString("role", "assistant");
                    w.WriteString("content", string.Empty);
                }, null);
                break;
            case "content_block_start" when root.GetProperty("content_block") is var block && block.GetProperty("type").GetString() == "tool_use":
                var toolIndex = _toolIndexes.Count;
                _toolIndexes[root.GetProperty("index").GetInt32()] = toolIndex;
                Chunk(output, w => ToolCall(w, toolIndex, block.GetProperty("id").GetString(), block.GetProperty("name").GetString(), string.Empty), null);
                break;
            case "content_block_delta":
                var delta = root.GetProperty("delta");
                if (delta.TryGetProperty("text", out var text))
                {
                    Chunk(output, w => w.WriteString("content", text.GetString()), null);
                }
                else if (delta.TryGetProperty("partial_json", out var json) && _toolIndexes.TryGetValue(root.GetProperty("index").GetInt32(), out var index))
                {
                    Chunk(output, w => ToolCall(w, index, null, null, json.GetString()), null);
                }

                break;
            case "message_delta":
                var stop = root.GetProperty("delta").TryGetProperty("stop_reason", out var reason) ? reason.GetString() : null;
                Chunk(output, _ => { }, AnthropicResponseTranslator.FinishReason(stop));
                break;
            case "message_stop":
                if (clientWantsUsage)
                {
                    UsageChunk(output);
                }

                output.Write(OpenAiWire.Done);
                break;
            case "error":
                var error = root.GetProperty("error");
                output.Write("data: "u8);
                output.Write(OpenAiWire.Error(
                    (error.TryGetProperty("message", out var m) ? m.GetString() : null) ?? "The provider reported an error.",
                    (error.TryGetProperty("type", out var t) ? t.GetString() : null) ?? "api_error"));
                output.Write("\n\n"u8);
                break;
            default:
                break;
        }

        return facts with { Rewritten = output.WrittenMemory };
    }

    private ChunkHeader Header => new(_id, created, _model);

    private void Chunk(ArrayBufferWriter<byte> output, Action<Utf8JsonWriter> delta, string? finishReason) =>
        OpenAiWire.Chunk(output, Header, delta, finishReason);

    private void UsageChunk(ArrayBufferWriter<byte> output) => OpenAiWire.UsageChunk(output, Header, Usage);

    private static void ToolCall(Utf8JsonWriter writer, int index, string? id, string? name, string? arguments)
    {
        writer.WriteStartArray("tool_calls");
        writer.WriteStartObject();
        writer.WriteNumber("index", index);
        if (id is not null)
        {
            writer.WriteString("id", id);
            writer.WriteString("type", "function");
        }

        writer.WriteStartObject("function");
        if (name is not null)
        {
            writer.WriteString("name", name);
        }

        writer.WriteString("arguments", arguments);
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndArray();
    }
}
