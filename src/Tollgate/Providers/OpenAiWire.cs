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

    /// <summary>A whole <c>chat.completion</c> with one choice, as translating adapters answer.</summary>
    public static byte[] Completion(string id, long created, string? model, string text, IReadOnlyList<ToolCall> toolCalls, string finishReason, Usage? usage)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(toolCalls);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            writer.WriteString("object", "chat.completion");
            writer.WriteNumber("created", created);
            writer.WriteString("model", model);
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("message");
            writer.WriteString("role", "assistant");
            if (text.Length > 0)
            {
                writer.WriteString("content", text);
            }
            else
            {
                writer.WriteNull("content");
            }

            if (toolCalls.Count > 0)
            {
                writer.WriteStartArray("tool_calls");
                foreach (var call in toolCalls)
                {
                    call.Write(writer, index: null);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            writer.WriteNull("logprobs");
            writer.WriteString("finish_reason", toolCalls.Count > 0 ? "tool_calls" : finishReason);
            writer.WriteEndObject();
            writer.WriteEndArray();
            if (usage is not null)
            {
                WriteUsage(writer, usage);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// An embeddings answer: <c>{"object":"list","data":[{"object":"embedding","index":i,"embedding":…}],"model",
    /// "usage":{"prompt_tokens","total_tokens"}}</c>, each vector written by <paramref name="writeVector"/>.
    /// </summary>
    public static ReadOnlyMemory<byte> EmbeddingList(int count, Action<Utf8JsonWriter, int> writeVector, string model, long promptTokens)
    {
        ArgumentNullException.ThrowIfNull(writeVector);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            for (var i = 0; i < count; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("object", "embedding");
                writer.WriteNumber("index", i);
                writer.WritePropertyName("embedding");
                writeVector(writer, i);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteString("model", model);
            writer.WriteStartObject("usage");
            writer.WriteNumber("prompt_tokens", promptTokens);
            writer.WriteNumber("total_tokens", promptTokens);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenMemory;
    }

    /// <summary>The JSON payload of a stream event, or null when it is not a JSON object (a keep-alive, a marker).</summary>
    public static JsonDocument? TryParseEvent(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || data[0] != (byte)'{')
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(data.ToArray());
        }
        catch (JsonException)
        {
            return null;
        }
    }

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

/// <summary>One tool call in OpenAI's format; <see cref="Arguments"/> is JSON text.</summary>
public sealed record ToolCall(string Id, string Name, string Arguments)
{
    /// <summary>Writes the call; in a stream chunk it carries its <paramref name="index"/>.</summary>
    public void Write(Utf8JsonWriter writer, int? index)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        if (index is { } i)
        {
            writer.WriteNumber("index", i);
        }

        writer.WriteString("id", Id);
        writer.WriteString("type", "function");
        writer.WriteStartObject("function");
        writer.WriteString("name", Name);
        writer.WriteString("arguments", Arguments);
        writer.WriteEndObject();
        writer.WriteEndObject();
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
