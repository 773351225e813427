using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tollgate.FakeProviders;

/// <summary>
/// A small OpenAI-compatible server on 127.0.0.1 (Kestrel, port 0) that speaks the exact wire format of
/// <c>/v1/chat/completions</c> (JSON and SSE, with <c>usage: null</c> on every chunk when usage is asked for, as
/// OpenAI does) and <c>/v1/embeddings</c>, records what it receives, and injects faults on request.
/// </summary>
public sealed class FakeOpenAiUpstream : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private WebApplication _app = null!;
    private int _eventsSent;

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyCollection<ReceivedRequest> Received => _received;

    public string ReplyText { get; set; } = "Hello from the fake upstream. Xin chào, thế giới! 👋";

    public FakeUsage Usage { get; set; } = new(42, 17);

    /// <summary>When false, the upstream never reports usage (an old OpenAI-compatible server).</summary>
    public bool ReportsUsage { get; set; } = true;

    /// <summary>Embeddings: when set, the tokens billed per input item (else <see cref="Usage"/>'s prompt tokens per request).</summary>
    public int? EmbeddingTokensPerItem { get; set; }

    /// <summary>
    /// Embeddings: when set, the vector of a text input (as a model that knows meaning would give it, e.g. one vector for
    /// a question and its translation); null from it, or a non-text input, falls back to the hash vector.
    /// </summary>
    public Func<string, float[]?>? VectorOf { get; set; }

    /// <summary>Embeddings: how many input items have been embedded in all.</summary>
    public int EmbeddedItems => Volatile.Read(ref _embeddedItems);

    private int _embeddedItems;

    public FakeFault Fault { get; set; }

    /// <summary>Responses API: output items (raw JSON, e.g. a <c>web_search_call</c>) put before the answer's message.</summary>
    public IReadOnlyList<string> ResponsesToolItems { get; set; } = [];

    /// <summary>The Files and Batch API of this upstream.</summary>
    public FakeOpenAiBatches Batches { get; } = new();

    /// <summary>Faults for the next requests, one each, in order; once empty, <see cref="Fault"/> applies.</summary>
    public ConcurrentQueue<FakeFault> ScriptedFaults { get; } = new();

    /// <summary>When true, an injected error quotes the Authorization header it received, as some providers do.</summary>
    public bool EchoKeyInErrors { get; set; }

    /// <summary>The <c>code</c> of the injected error (e.g. <c>context_length_exceeded</c>).</summary>
    public string? FaultCode { get; set; }

    /// <summary>The Retry-After header sent with a 429 (null: none).</summary>
    public string? RetryAfter { get; set; } = "2";

    public int FaultStatus { get; set; } = 500;

    public TimeSpan FirstByteDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Delay between stream chunks.</summary>
    public TimeSpan ChunkDelay { get; set; }

    /// <summary>A steady rate for long streams: event i is sent at i × this after the first (timer granularity does not add up, unlike <see cref="ChunkDelay"/>).</summary>
    public TimeSpan EventPace { get; set; }

    /// <summary>When true, <c>stream: true</c> is ignored and a whole JSON completion comes back (some servers do this).</summary>
    public bool IgnoresStream { get; set; }

    /// <summary>When set, the fake records nothing: for benchmarks, where the queue would only grow.</summary>
    public bool RecordRequests { get; set; } = true;

    /// <summary>The exact bytes of the last non-streamed body, and of every event of the last stream, as sent.</summary>
    public byte[] LastResponseBody { get; private set; } = [];

    public IReadOnlyList<string> LastStreamEvents { get; private set; } = [];

    /// <summary>Stream events written and flushed to the gateway so far, over all streams.</summary>
    public int EventsSent => Volatile.Read(ref _eventsSent);

    public static async Task<FakeOpenAiUpstream> StartAsync()
    {
        var fake = new FakeOpenAiUpstream();
        (fake._app, var root) = await FakeServer.StartAsync(app =>
        {
            app.MapPost("/v1/chat/completions", fake.ChatAsync);
            app.MapPost("/v1/embeddings", fake.EmbeddingsAsync);
            app.MapPost("/v1/completions", fake.CompletionsAsync);
            app.MapPost("/v1/responses", fake.ResponsesAsync);
            app.MapGet("/v1/responses/{id}", (HttpContext c, string id) => fake.KeptResponseAsync(c, "{\"id\":" + JsonSerializer.Serialize(id) + ",\"object\":\"response\",\"status\":\"completed\"}"));
            app.MapDelete("/v1/responses/{id}", (HttpContext c, string id) => fake.KeptResponseAsync(c, "{\"id\":" + JsonSerializer.Serialize(id) + ",\"object\":\"response.deleted\",\"deleted\":true}"));
            app.MapPost("/v1/responses/{id}/cancel", (HttpContext c, string id) => fake.KeptResponseAsync(c, "{\"id\":" + JsonSerializer.Serialize(id) + ",\"object\":\"response\",\"status\":\"cancelled\"}"));
            app.MapGet("/v1/responses/{id}/input_items", (HttpContext c, string id) => fake.KeptResponseAsync(c, "{\"object\":\"list\",\"data\":[],\"has_more\":false}"));
            fake.Batches.Map(app);
            app.MapPost("/openai/deployments/{deployment}/chat/completions", fake.ChatAsync);
            app.MapPost("/openai/deployments/{deployment}/embeddings", fake.EmbeddingsAsync);
        }, message => "{\"error\":{\"message\":" + JsonSerializer.Serialize(message) + ",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
        fake.BaseUrl = new Uri(root, "/v1");
        return fake;
    }

    public void ClearReceived() => _received.Clear();

    public async ValueTask DisposeAsync() => await FakeServer.StopAsync(_app);

    private async Task<ReceivedRequest> ReceiveAsync(HttpContext context)
    {
        var request = await FakeServer.ReceiveAsync(context);
        if (RecordRequests)
        {
            _received.Enqueue(request);
        }

        return request;
    }

    private async Task ChatAsync(HttpContext context)
    {
        var request = await ReceiveAsync(context);
        if (await FaultBeforeAnswerAsync(context))
        {
            return;
        }

        var json = request.Json;
        var model = json.GetProperty("model").GetString()!;
        var stream = json.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True && !IgnoresStream;
        context.Response.Headers["x-request-id"] = "req_upstream_42";
        context.Response.Headers["x-ratelimit-remaining-requests"] = "4999";
        context.Response.Headers["openai-organization"] = "org-private";
        if (stream)
        {
            var includeUsage = json.TryGetProperty("stream_options", out var o) && o.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
            await StreamAsync(context, model, includeUsage && ReportsUsage, Choices(json));
            return;
        }

        var body = Encoding.UTF8.GetBytes(
            "{\"id\":\"chatcmpl-fake1\",\"object\":\"chat.completion\",\"created\":1764000000,\"model\":" + JsonSerializer.Serialize(model + "-2025-01-01")
            + ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + JsonSerializer.Serialize(ReplyText)
            + ",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}]"
            + (ReportsUsage ? ",\"usage\":" + UsageJson(Choices(json)) : string.Empty)
            + ",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_fake\"}");
        LastResponseBody = body;
        context.Response.ContentType = "application/json";
        context.Response.Headers["openai-processing-ms"] = "12";
        await context.Response.Body.WriteAsync(body);
    }

    /// <summary>Legacy text completions (<c>/v1/completions</c>, as vLLM and OpenRouter still serve them): JSON, or SSE chunks of <c>choices[].text</c>.</summary>
    private async Task CompletionsAsync(HttpContext context)
    {
        var request = await ReceiveAsync(context);
        if (await FaultBeforeAnswerAsync(context))
        {
            return;
        }

        var json = request.Json;
        var model = json.GetProperty("model").GetString()!;
        var head = "{\"id\":\"cmpl-fake1\",\"object\":\"text_completion\",\"created\":1764000000,\"model\":" + JsonSerializer.Serialize(model) + ",\"choices\":";
        if (json.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True)
        {
            var includeUsage = json.TryGetProperty("stream_options", out var o) && o.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True && ReportsUsage;
            var pieces = SplitIntoPieces(ReplyText);
            var events = pieces.Select(p => "data: " + head + "[{\"text\":" + JsonSerializer.Serialize(p) + ",\"index\":0,\"logprobs\":null,\"finish_reason\":null}]}\n\n").ToList();
            events.Add("data: " + head + "[{\"text\":\"\",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n");
            if (includeUsage)
            {
                events.Add("data: " + head + "[],\"usage\":" + UsageJson(Choices(json)) + "}\n\n");
            }

            events.Add("data: [DONE]\n\n");
            await SendEventsAsync(context, events, context.Items[nameof(FakeFault)] is FakeFault.CutStream ? pieces.Count / 2 : events.Count);
            return;
        }

        var body = Encoding.UTF8.GetBytes(head + "[{\"text\":" + JsonSerializer.Serialize(ReplyText) + ",\"index\":0,\"logprobs\":null,\"finish_reason\":\"stop\"}]"
            + (ReportsUsage ? ",\"usage\":" + UsageJson(Choices(json)) : string.Empty) + "}");
        LastResponseBody = body;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(body);
    }

    /// <summary>Sends the first <paramref name="count"/> events; fewer than all is a cut stream: the connection is dropped after them.</summary>
    private async Task SendEventsAsync(HttpContext context, List<string> events, int count)
    {
        var send = events.Take(count).ToList();
        LastStreamEvents = send;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        foreach (var e in send)
        {
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(e), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        if (send.Count < events.Count)
        {
            // Let Kestrel put the flushed events on the wire first: an abort discards what is still queued.
            await Task.Delay(100, context.RequestAborted);
            context.Abort();
        }
    }

    /// <summary>A call on a kept response (get, delete, cancel, input items): recorded, answered with <paramref name="json"/>.</summary>
    private async Task KeptResponseAsync(HttpContext context, string json)
    {
        await ReceiveAsync(context);
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>
    /// The Responses API: a whole <c>response</c> object, or its SSE events (<c>event:</c> and <c>data:</c> lines) —
    /// <c>response.created</c>, <c>response.output_text.delta</c> per piece, <c>response.completed</c> with the usage.
    /// </summary>
    private async Task ResponsesAsync(HttpContext context)
    {
        var request = await ReceiveAsync(context);
        if (await FaultBeforeAnswerAsync(context))
        {
            return;
        }

        var json = request.Json;
        var model = JsonSerializer.Serialize(json.GetProperty("model").GetString()! + "-2025-01-01");
        var usage = "{\"input_tokens\":" + Usage.PromptTokens + ",\"input_tokens_details\":{\"cached_tokens\":" + Usage.CachedTokens + "},\"output_tokens\":" + Usage.CompletionTokens
            + ",\"output_tokens_details\":{\"reasoning_tokens\":" + Usage.ReasoningTokens + "},\"total_tokens\":" + (Usage.PromptTokens + Usage.CompletionTokens) + "}";
        string Response(string status, string output, string? usageJson) =>
            "{\"id\":\"resp_fake1\",\"object\":\"response\",\"created_at\":1764000000,\"status\":\"" + status + "\",\"error\":null,\"incomplete_details\":null,\"instructions\":null,"
            + "\"max_output_tokens\":null,\"model\":" + model + ",\"output\":" + output + ",\"parallel_tool_calls\":true,\"previous_response_id\":null,\"store\":true,"
            + "\"temperature\":1.0,\"text\":{\"format\":{\"type\":\"text\"}},\"tool_choice\":\"auto\",\"tools\":[],\"top_p\":1.0,\"truncation\":\"disabled\","
            + "\"usage\":" + (usageJson ?? "null") + ",\"user\":null,\"metadata\":{}}";
        var message = "[" + string.Concat(ResponsesToolItems.Select(i => i + ",")) + "{\"type\":\"message\",\"id\":\"msg_fake1\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":"
            + JsonSerializer.Serialize(ReplyText) + ",\"annotations\":[]}]}]";
        if (json.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True)
        {
            var pieces = SplitIntoPieces(ReplyText);
            var sequence = 0;
            string Event(string type, string data) => "event: " + type + "\ndata: " + data.Insert(1, "\"type\":\"" + type + "\",\"sequence_number\":" + sequence++ + ",") + "\n\n";
            var events = new List<string> { Event("response.created", "{\"response\":" + Response("in_progress", "[]", null) + "}") };
            events.AddRange(pieces.Select(p => Event("response.output_text.delta", "{\"item_id\":\"msg_fake1\",\"output_index\":0,\"content_index\":0,\"delta\":" + JsonSerializer.Serialize(p) + "}")));
            events.Add(Event("response.completed", "{\"response\":" + Response("completed", message, ReportsUsage ? usage : null) + "}"));
            await SendEventsAsync(context, events, context.Items[nameof(FakeFault)] is FakeFault.CutStream ? 1 + (pieces.Count / 2) : events.Count);
            return;
        }

        var body = Encoding.UTF8.GetBytes(Response("completed", message, ReportsUsage ? usage : null));
        LastResponseBody = body;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(body);
    }

    private async Task StreamAsync(HttpContext context, string model, bool includeUsage, int choices)
    {
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        var events = new List<string>();
        var usageField = includeUsage ? ",\"usage\":null" : string.Empty;
        var head = "{\"id\":\"chatcmpl-fake2\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":" + JsonSerializer.Serialize(model) + ",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_fake\",\"choices\":";
        var pieces = SplitIntoPieces(ReplyText);
        events.Add("data: " + head + "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]" + usageField + "}\n\n");
        events.AddRange(pieces.Select(p => "data: " + head + "[{\"index\":0,\"delta\":{\"content\":" + JsonSerializer.Serialize(p) + "},\"logprobs\":null,\"finish_reason\":null}]" + usageField + "}\n\n"));
        events.Add("data: " + head + "[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]" + usageField + "}\n\n");
        if (includeUsage)
        {
            events.Add("data: " + head + "[],\"usage\":" + UsageJson(choices) + "}\n\n");
        }

        events.Add("data: [DONE]\n\n");
        var cut = context.Items[nameof(FakeFault)] is FakeFault.CutStream;
        var send = cut ? events.Take(1 + pieces.Count / 2).ToList() : events;
        if (context.Items[nameof(FakeFault)] is FakeFault.ErrorEventInStream)
        {
            var key = context.Request.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal);
            send = [events[0], "data: {\"error\":{\"message\":\"Incorrect API key provided: " + key + ". You can find your API key at https://platform.openai.com/account/api-keys.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}\n\n"];
        }

        LastStreamEvents = send;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < send.Count; i++)
        {
            var e = send[i];
            if (ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(ChunkDelay, context.RequestAborted);
            }

            if (EventPace * i - clock.Elapsed is { Ticks: > 0 } ahead)
            {
                await Task.Delay(ahead, context.RequestAborted);
            }

            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(e), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            Interlocked.Increment(ref _eventsSent);
        }

        if (cut)
        {
            // Let Kestrel put the flushed events on the wire first: an abort discards what is still queued.
            await Task.Delay(100, context.RequestAborted);
            context.Abort();
        }
    }

    private async Task EmbeddingsAsync(HttpContext context)
    {
        var request = await ReceiveAsync(context);
        if (await FaultBeforeAnswerAsync(context))
        {
            return;
        }

        var model = request.Json.GetProperty("model").GetString()!;
        var input = request.Json.TryGetProperty("input", out var given) ? given : default;
        var items = input.ValueKind == JsonValueKind.Array && input.EnumerateArray().All(e => e.ValueKind is JsonValueKind.String or JsonValueKind.Array)
            ? [.. input.EnumerateArray()]
            : new[] { input };
        Interlocked.Add(ref _embeddedItems, items.Length);
        var tokens = EmbeddingTokensPerItem is { } perItem ? perItem * items.Length : Usage.PromptTokens;
        var base64 = request.Json.TryGetProperty("encoding_format", out var format) && format.ValueKind == JsonValueKind.String && format.GetString() == "base64";
        var data = string.Join(',', items.Select((item, i) => "{\"object\":\"embedding\",\"index\":" + i + ",\"embedding\":" + Vector(item, base64, VectorOf) + "}"));
        var body = Encoding.UTF8.GetBytes(
            "{\"object\":\"list\",\"data\":[" + data + "],\"model\":" + JsonSerializer.Serialize(model)
            + ",\"usage\":{\"prompt_tokens\":" + tokens + ",\"total_tokens\":" + tokens + "}}");
        LastResponseBody = body;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(body);
    }

    /// <summary>
    /// A vector that depends on the item only (three components from a hash of its JSON), so tests can tell items
    /// apart: a JSON array of floats, or as OpenAI sends it for <c>encoding_format: base64</c>, the float32 bytes in base64.
    /// </summary>
    private static string Vector(JsonElement item, bool base64, Func<string, float[]?>? vectorOf)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(item.ValueKind == JsonValueKind.Undefined ? string.Empty : item.GetRawText()));
        var vector = (item.ValueKind == JsonValueKind.String ? vectorOf?.Invoke(item.GetString()!) : null) ?? [hash[0] / 256f, -hash[1] / 256f, hash[2] / 256f];
        if (base64)
        {
            var bytes = new byte[vector.Length * 4];
            Buffer.BlockCopy(vector, 0, bytes, 0, bytes.Length);
            return "\"" + Convert.ToBase64String(bytes) + "\"";
        }

        return "[" + string.Join(',', vector.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]";
    }

    private async Task<bool> FaultBeforeAnswerAsync(HttpContext context)
    {
        var fault = ScriptedFaults.TryDequeue(out var scripted) ? scripted : Fault;
        context.Items[nameof(FakeFault)] = fault;
        switch (fault)
        {
            case FakeFault.ErrorStatus:
                context.Response.StatusCode = FaultStatus;
                if (FaultStatus == 429 && RetryAfter is not null)
                {
                    context.Response.Headers.RetryAfter = RetryAfter;
                }

                context.Response.ContentType = "application/json";
                var quoted = EchoKeyInErrors ? " for key " + context.Request.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal) : "";
                await context.Response.WriteAsync("{\"error\":{\"message\":\"Injected failure " + FaultStatus + quoted + "\",\"type\":\"server_error\",\"param\":null,\"code\":" + (FaultCode is null ? "null" : JsonSerializer.Serialize(FaultCode)) + "}}");
                return true;
            case FakeFault.BadJson:
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"id\":\"chatcmpl-broken\",\"choices\":[{");
                return true;
            case FakeFault.SlowFirstByte:
                await Task.Delay(FirstByteDelay, context.RequestAborted);
                return false;
            case FakeFault.ConnectionReset:
                context.Abort();
                return true;
            default:
                return false;
        }
    }

    /// <summary>OpenAI bills the prompt once and every choice's completion: the usage's completion tokens are per choice.</summary>
    private static int Choices(JsonElement json) =>
        json.TryGetProperty("n", out var n) && n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var count) && count > 1 ? count : 1;

    private string UsageJson(int choices = 1) =>
        "{\"prompt_tokens\":" + Usage.PromptTokens + ",\"completion_tokens\":" + (Usage.CompletionTokens * choices)
        + ",\"total_tokens\":" + (Usage.PromptTokens + (Usage.CompletionTokens * choices))
        + ",\"prompt_tokens_details\":{\"cached_tokens\":" + Usage.CachedTokens + ",\"audio_tokens\":0}"
        + ",\"completion_tokens_details\":{\"reasoning_tokens\":" + Usage.ReasoningTokens + ",\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}";

    private static List<string> SplitIntoPieces(string text)
    {
        var pieces = new List<string>();
        var start = 0;
        for (var i = 1; i <= text.Length; i++)
        {
            if (i == text.Length || text[i] == ' ')
            {
                pieces.Add(text[start..i]);
                start = i;
            }
        }

        return pieces;
    }
}
