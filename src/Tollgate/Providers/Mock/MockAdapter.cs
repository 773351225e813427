using System.Buffers;
using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.Metering;

namespace Tollgate.Providers.Mock;

/// <summary>
/// The built-in provider for demos and benchmarks: answers in OpenAI's exact wire format (JSON and SSE) with
/// deterministic text, realistic token usage and configurable latency. Not a stand-in for a real provider in tests.
/// </summary>
public sealed class MockAdapter(TimeProvider time) : IProviderAdapter
{
    private const string JsonContentType = "application/json";

    public bool Supports(GatewayEndpoint endpoint) => endpoint is GatewayEndpoint.ChatCompletions or GatewayEndpoint.Embeddings;

    public async Task<ProviderResult<UpstreamReply>> SendAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        var mock = request.Deployment.Mock ?? new MockConfig();
        await DelayAsync(mock.LatencyMs, cancellationToken);
        if (request.Endpoint == GatewayEndpoint.Embeddings)
        {
            var (body, inputTokens) = Embeddings(request.Body, request.Deployment.Model);
            return new UpstreamReply(200, body, JsonContentType, new Usage(inputTokens, null, null, 0, null), 0);
        }

        var reply = MockReply.For(request.Body, mock.ReplyTokens);
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var text = string.Join(' ', reply.Words);
        var buffer = new ArrayBufferWriter<byte>(512 + text.Length);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            WriteHeader(writer, reply.Id, "chat.completion", created, request.Deployment.Model);
            writer.WriteStartArray("choices");
            writer.WriteStartObject();
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("message");
            writer.WriteString("role", "assistant");
            writer.WriteString("content", text);
            writer.WriteNull("refusal");
            writer.WriteEndObject();
            writer.WriteNull("logprobs");
            writer.WriteString("finish_reason", FinishReason(reply));
            writer.WriteEndObject();
            writer.WriteEndArray();
            WriteUsage(writer, reply);
            writer.WriteEndObject();
        }

        return new UpstreamReply(200, buffer.WrittenMemory, JsonContentType, Usage(reply), text.Length);
    }

    public async Task<ProviderResult<StreamOutcome>> StreamAsync(ProviderRequest request, IStreamSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var mock = request.Deployment.Mock ?? new MockConfig();
        var reply = MockReply.For(request.Body, mock.ReplyTokens);
        var usage = Usage(reply);
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        long characters = 0;
        try
        {
            await DelayAsync(mock.LatencyMs, cancellationToken);
            await sink.BeginAsync(UpstreamHeaders.None, cancellationToken);
            await sink.WriteEventAsync(Chunk(reply, created, request.Deployment.Model, w =>
            {
                w.WriteString("role", "assistant");
                w.WriteString("content", string.Empty);
            }, finishReason: null), cancellationToken);
            for (var i = 0; i < reply.Words.Count; i++)
            {
                await DelayAsync(mock.ChunkDelayMs, cancellationToken);
                var piece = i == 0 ? reply.Words[i] : " " + reply.Words[i];
                characters += piece.Length;
                await sink.WriteEventAsync(Chunk(reply, created, request.Deployment.Model, w => w.WriteString("content", piece), finishReason: null), cancellationToken);
            }

            await sink.WriteEventAsync(Chunk(reply, created, request.Deployment.Model, _ => { }, FinishReason(reply)), cancellationToken);
            if (request.ClientWantsStreamUsage)
            {
                await sink.WriteEventAsync(UsageChunk(reply, created, request.Deployment.Model), cancellationToken);
            }

            await sink.FinishAsync(usage, characters, cancellationToken);
            await sink.WriteEventAsync("data: [DONE]\n\n"u8.ToArray(), cancellationToken);
            return new StreamOutcome(null, usage, characters, null);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The mock "billed" what it generated so far, like a real provider that stops on disconnect.
            var produced = usage with { OutputTokens = TokenEstimator.FromCharacters(characters) };
            return new StreamOutcome(null, produced, characters, new ProviderFailure(ProviderFailureKind.ClientCancelled, "the client closed the connection"));
        }
    }

    private static Usage Usage(MockReply reply) => new(reply.PromptTokens, 0, null, reply.OutputTokens, 0);

    private static string FinishReason(MockReply reply) => reply.CutByMaxTokens ? "length" : "stop";

    private Task DelayAsync(int milliseconds, CancellationToken cancellationToken) =>
        milliseconds <= 0 ? Task.CompletedTask : Task.Delay(TimeSpan.FromMilliseconds(milliseconds), time, cancellationToken);

    private static void WriteHeader(Utf8JsonWriter writer, string id, string kind, long created, string model)
    {
        writer.WriteString("id", id);
        writer.WriteString("object", kind);
        writer.WriteNumber("created", created);
        writer.WriteString("model", model);
        writer.WriteString("system_fingerprint", "fp_tollgate_mock");
    }

    private static void WriteUsage(Utf8JsonWriter writer, MockReply reply) => OpenAiWire.WriteUsage(writer, Usage(reply));

    private static ChunkHeader Header(MockReply reply, long created, string model) => new(reply.Id, created, model, "fp_tollgate_mock");

    private static byte[] Chunk(MockReply reply, long created, string model, Action<Utf8JsonWriter> delta, string? finishReason)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        OpenAiWire.Chunk(buffer, Header(reply, created, model), delta, finishReason);
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] UsageChunk(MockReply reply, long created, string model)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        OpenAiWire.UsageChunk(buffer, Header(reply, created, model), Usage(reply));
        return buffer.WrittenSpan.ToArray();
    }

    private static (ReadOnlyMemory<byte> Body, long InputTokens) Embeddings(JsonElement body, string model)
    {
        var inputs = new List<string>();
        if (body.TryGetProperty("input", out var input))
        {
            if (input.ValueKind == JsonValueKind.String)
            {
                inputs.Add(input.GetString()!);
            }
            else if (input.ValueKind == JsonValueKind.Array)
            {
                inputs.AddRange(input.EnumerateArray().Select(i => i.ValueKind == JsonValueKind.String ? i.GetString()! : i.GetRawText()));
            }
        }

        var dimensions = body.TryGetProperty("dimensions", out var d) && d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out var n) && n is > 0 and <= 4096 ? n : 256;
        var tokens = inputs.Sum(i => TokenEstimator.FromCharacters(i.Length));
        var list = OpenAiWire.EmbeddingList(inputs.Count, (writer, i) =>
        {
            writer.WriteStartArray();
            foreach (var value in Vector(inputs[i], dimensions))
            {
                writer.WriteNumberValue(value);
            }

            writer.WriteEndArray();
        }, model, tokens);
        return (list, tokens);
    }

    /// <summary>A unit vector that depends only on the text, so equal inputs embed equally.</summary>
    private static float[] Vector(string text, int dimensions)
    {
        var vector = new float[dimensions];
        var state = MockReply.Seed(text);
        double norm = 0;
        for (var i = 0; i < dimensions; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            vector[i] = (float)((state % 2001) / 1000.0 - 1.0);
            norm += vector[i] * vector[i];
        }

        var scale = (float)(1 / Math.Sqrt(Math.Max(norm, 1e-12)));
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] *= scale;
        }

        return vector;
    }
}
