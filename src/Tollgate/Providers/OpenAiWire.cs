using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Tollgate.Metering;

namespace Tollgate.Providers;

/// <summary>Pieces of OpenAI's chat wire format that every translating adapter writes the same way.</summary>
public static class OpenAiWire
{
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Canonical usage in OpenAI's terms: prompt tokens include the cache, cache reads are <c>cached_tokens</c>.</summary>
    public static void WriteUsage(Utf8JsonWriter writer, Usage usage)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(usage);
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", usage.InputTokens ?? 0);
        writer.WriteNumber("completion_tokens", usage.OutputTokens ?? 0);
        writer.WriteNumber("total_tokens", (usage.InputTokens ?? 0) + (usage.OutputTokens ?? 0));
        writer.WriteStartObject("prompt_tokens_details");
        writer.WriteNumber("cached_tokens", usage.CachedInputTokens ?? 0);
        writer.WriteEndObject();
        if (usage.ReasoningTokens is { } reasoning)
        {
            writer.WriteStartObject("completion_tokens_details");
            writer.WriteNumber("reasoning_tokens", reasoning);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <summary>OpenAI's error body: <c>{"error":{"message","type","param","code"}}</c>.</summary>
    public static byte[] Error(string message, string type)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", message);
            writer.WriteString("type", type);
            writer.WriteNull("param");
            writer.WriteNull("code");
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One SSE event <c>data: {json}</c>.</summary>
    public static void Event(ArrayBufferWriter<byte> output, Action<Utf8JsonWriter> write)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(write);
        output.Write("data: "u8);
        using (var writer = new Utf8JsonWriter(output, WriterOptions))
        {
            write(writer);
        }

        output.Write("\n\n"u8);
    }

    public static ReadOnlySpan<byte> Done => "data: [DONE]\n\n"u8;

    /// <summary>One <c>chat.completion.chunk</c> event with a single choice.</summary>
    public static void Chunk(ArrayBufferWriter<byte> output, ChunkHeader header, Action<Utf8JsonWriter> delta, string? finishReason)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(delta);
        Event(output, w =>
        {
            header.WriteStart(w);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("delta");
            delta(w);
            w.WriteEndObject();
            w.WriteNull("logprobs");
            if (finishReason is null)
            {
                w.WriteNull("finish_reason");
            }
            else
            {
                w.WriteString("finish_reason", finishReason);
            }

            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>The usage-only chunk that ends a stream for a client that asked for usage: no choices, only usage.</summary>
    public static void UsageChunk(ArrayBufferWriter<byte> output, ChunkHeader header, Usage usage)
    {
        ArgumentNullException.ThrowIfNull(header);
        Event(output, w =>
        {
            header.WriteStart(w);
            w.WriteStartArray("choices");
            w.WriteEndArray();
            WriteUsage(w, usage);
            w.WriteEndObject();
        });
    }
}

/// <summary>The fields every chunk of one stream repeats.</summary>
public sealed record ChunkHeader(string Id, long Created, string? Model, string? SystemFingerprint = null)
{
    /// <summary>Opens the chunk object and writes the repeated fields.</summary>
    public void WriteStart(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("id", Id);
        writer.WriteString("object", "chat.completion.chunk");
        writer.WriteNumber("created", Created);
        writer.WriteString("model", Model);
        if (SystemFingerprint is not null)
        {
            writer.WriteString("system_fingerprint", SystemFingerprint);
        }
    }
}
