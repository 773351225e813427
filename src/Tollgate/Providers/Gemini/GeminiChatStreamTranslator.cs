using System.Buffers;
using System.Text.Json;
using Tollgate.Metering;
using Tollgate.Providers.Streaming;

namespace Tollgate.Providers.Gemini;

/// <summary>
/// One Gemini <c>streamGenerateContent?alt=sse</c> stream, relayed to an OpenAI-format client. Each Gemini event
/// (a partial <c>GenerateContentResponse</c>) becomes a <c>chat.completion.chunk</c>; its <c>usageMetadata</c> is
/// cumulative, so the last one is the usage. Gemini has no end marker: when the stream ends after a finish reason, the
/// translator closes it with the usage chunk (if asked for) and <c>[DONE]</c>.
/// </summary>
public sealed class GeminiChatStreamTranslator(string model, bool clientWantsUsage, long created) : IStreamInspector
{
    private string _id = "chatcmpl-gemini";
    private bool _sentRole;
    private bool _finished;
    private int _toolCalls;

    public Usage Usage { get; private set; } = Usage.None;

    public bool UsageFinal => _finished && Usage.IsReported;

    public StreamEventFacts Inspect(ReadOnlySpan<byte> data)
    {
        using var document = OpenAiWire.TryParseEvent(data);
        if (document is null)
        {
            return new StreamEventFacts(false, true, 0, ReadOnlyMemory<byte>.Empty);
        }

        var response = document.RootElement;
        var output = new ArrayBufferWriter<byte>(256);
        if (response.TryGetProperty("error", out _))
        {
            output.Write("data: "u8);
            output.Write(GeminiResponseTranslator.Error(data.ToArray()));
            output.Write("\n\n"u8);
            return new StreamEventFacts(false, true, 0, output.WrittenMemory);
        }

        if (response.TryGetProperty("responseId", out var id))
        {
            _id = "chatcmpl-" + id.GetString();
        }

        if (response.TryGetProperty("usageMetadata", out _))
        {
            Usage = GeminiResponseTranslator.UsageOf(response);
        }

        var (text, calls, finish) = GeminiResponseTranslator.Candidate(response);
        if (!_sentRole)
        {
            _sentRole = true;
            Chunk(output, w =>
            {
                w.WriteString("role", "assistant");
                w.WriteString("content", string.Empty);
            }, null);
        }

        if (text.Length > 0)
        {
            Chunk(output, w => w.WriteString("content", text), null);
        }

        foreach (var call in calls)
        {
            var index = _toolCalls++;
            Chunk(output, w =>
            {
                w.WriteStartArray("tool_calls");
                GeminiResponseTranslator.ToolCallOf(call, index).Write(w, index);
                w.WriteEndArray();
            }, null);
        }

        if (finish is not null)
        {
            _finished = true;
            Chunk(output, _ => { }, _toolCalls > 0 ? "tool_calls" : GeminiResponseTranslator.FinishReason(finish));
        }

        return new StreamEventFacts(false, true, text.Length, output.WrittenMemory);
    }

    public ReadOnlyMemory<byte>? Complete()
    {
        if (!_finished)
        {
            return null;
        }

        var output = new ArrayBufferWriter<byte>(256);
        if (clientWantsUsage)
        {
            OpenAiWire.UsageChunk(output, new ChunkHeader(_id, created, model), Usage);
        }

        output.Write(OpenAiWire.Done);
        return output.WrittenMemory;
    }

    private void Chunk(ArrayBufferWriter<byte> output, Action<Utf8JsonWriter> delta, string? finishReason) =>
        OpenAiWire.Chunk(output, new ChunkHeader(_id, created, model), delta, finishReason);
}
