using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tollgate.FakeProviders;

/// <summary>The usage a fake Anthropic upstream reports, in Anthropic's terms (input excludes the cache).</summary>
public sealed record FakeAnthropicUsage(int InputTokens, int OutputTokens, int CacheCreationTokens = 0, int CacheReadTokens = 0, int CacheCreation1hTokens = 0);

/// <summary>
/// A small Anthropic Messages server on 127.0.0.1 (Kestrel, port 0) speaking the exact wire format of
/// <c>POST /v1/messages</c>: a JSON message, or the SSE sequence message_start, content_block_start, ping,
/// content_block_delta…, content_block_stop, message_delta (cumulative usage), message_stop. Records what it receives.
/// </summary>
public sealed class FakeAnthropicUpstream : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private WebApplication _app = null!;

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyCollection<ReceivedRequest> Received => _received;

    public string ReplyText { get; set; } = "Xin chào! Tôi là Claude. 👋";

    public FakeAnthropicUsage Usage { get; set; } = new(25, 15);

    /// <summary>The Message Batches API of this upstream.</summary>
    public FakeAnthropicBatches Batches { get; } = new();

    /// <summary>When set, the answer (whole or streamed) ends with this <c>tool_use</c> block and stops for it.</summary>
    public (string Name, string InputJson)? ToolUse { get; set; }

    /// <summary>When set, answers with this status and Anthropic's error body.</summary>
    public int? FailWithStatus { get; set; }

    public static async Task<FakeAnthropicUpstream> StartAsync()
    {
        var fake = new FakeAnthropicUpstream();
        (fake._app, fake.BaseUrl) = await FakeServer.StartAsync(app =>
            {
                app.MapPost("/v1/messages", fake.MessagesAsync);
                fake.Batches.Map(app);
            },
            message => "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":" + JsonSerializer.Serialize(message) + "}}");
        return fake;
    }

    public async ValueTask DisposeAsync() => await FakeServer.StopAsync(_app);

    private async Task MessagesAsync(HttpContext context)
    {
        var request = await FakeServer.ReceiveAsync(context);
        _received.Enqueue(request);
        context.Response.Headers["request-id"] = "req_anthropic_1";
        if (FailWithStatus is { } status)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}");
            return;
        }

        var json = request.Json;
        var model = json.GetProperty("model").GetString()!;
        if (json.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
        {
            await StreamAsync(context, model);
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            "{\"id\":\"msg_fake1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":" + JsonSerializer.Serialize(model)
            + ",\"content\":[{\"type\":\"text\",\"text\":" + JsonSerializer.Serialize(ReplyText) + "}"
            + (ToolUse is { } tool ? ",{\"type\":\"tool_use\",\"id\":\"toolu_fake1\",\"name\":" + JsonSerializer.Serialize(tool.Name) + ",\"input\":" + tool.InputJson + "}" : string.Empty)
            + "],\"stop_reason\":" + (ToolUse is null ? "\"end_turn\"" : "\"tool_use\"") + ",\"stop_sequence\":null,"
            + "\"usage\":" + UsageJson(Usage.OutputTokens) + "}");
    }

    private async Task StreamAsync(HttpContext context, string model)
    {
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        var events = new List<string>
        {
            Event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_fake2\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":" + JsonSerializer.Serialize(model) + ",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":" + UsageJson(1) + "}}"),
            Event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}"),
            Event("ping", "{\"type\": \"ping\"}"),
        };
        var half = ReplyText.Length / 2;
        foreach (var piece in new[] { ReplyText[..half], ReplyText[half..] })
        {
            events.Add(Event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":" + JsonSerializer.Serialize(piece) + "}}"));
        }

        events.Add(Event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"));
        if (ToolUse is { } tool)
        {
            events.Add(Event("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_fake2\",\"name\":" + JsonSerializer.Serialize(tool.Name) + ",\"input\":{}}}"));
            var cut = tool.InputJson.Length / 2;
            foreach (var piece in new[] { tool.InputJson[..cut], tool.InputJson[cut..] })
            {
                events.Add(Event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":" + JsonSerializer.Serialize(piece) + "}}"));
            }

            events.Add(Event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}"));
        }

        events.Add(Event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":" + (ToolUse is null ? "\"end_turn\"" : "\"tool_use\"") + ",\"stop_sequence\":null},\"usage\":{\"output_tokens\":" + Usage.OutputTokens + "}}"));
        events.Add(Event("message_stop", "{\"type\":\"message_stop\"}"));
        foreach (var e in events)
        {
            await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(e), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }

    private string UsageJson(int outputTokens) =>
        "{\"input_tokens\":" + Usage.InputTokens + ",\"cache_creation_input_tokens\":" + Usage.CacheCreationTokens
        + ",\"cache_read_input_tokens\":" + Usage.CacheReadTokens
        + ",\"cache_creation\":{\"ephemeral_5m_input_tokens\":" + (Usage.CacheCreationTokens - Usage.CacheCreation1hTokens) + ",\"ephemeral_1h_input_tokens\":" + Usage.CacheCreation1hTokens + "}"
        + ",\"output_tokens\":" + outputTokens + ",\"service_tier\":\"standard\"}";

    private static string Event(string name, string data) => $"event: {name}\ndata: {data}\n\n";
}
