using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tollgate.FakeProviders;

/// <summary>The usage a fake Gemini upstream reports, in Gemini's terms (thoughts apart from candidates).</summary>
public sealed record FakeGeminiUsage(int PromptTokens, int CandidatesTokens, int ThoughtsTokens = 0, int CachedTokens = 0);

/// <summary>
/// A small Gemini server on 127.0.0.1 (Kestrel, port 0) speaking <c>models/{model}:generateContent</c> and
/// <c>:streamGenerateContent?alt=sse</c> (partial responses, cumulative usageMetadata, no end marker).
/// </summary>
public sealed class FakeGeminiUpstream : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private WebApplication _app = null!;

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyCollection<ReceivedRequest> Received => _received;

    public string ReplyText { get; set; } = "Xin chào từ Gemini! ✨";

    public FakeGeminiUsage Usage { get; set; } = new(20, 10, ThoughtsTokens: 5);

    public static async Task<FakeGeminiUpstream> StartAsync()
    {
        var fake = new FakeGeminiUpstream();
        (fake._app, fake.BaseUrl) = await FakeServer.StartAsync(app => app.MapPost("/v1beta/models/{*modelAndMethod}", fake.GenerateAsync),
            message => "{\"error\":{\"code\":400,\"message\":" + JsonSerializer.Serialize(message) + ",\"status\":\"INVALID_ARGUMENT\"}}");
        return fake;
    }

    public async ValueTask DisposeAsync() => await FakeServer.StopAsync(_app);

    private async Task GenerateAsync(HttpContext context, string modelAndMethod)
    {
        _received.Enqueue(await FakeServer.ReceiveAsync(context));
        var model = modelAndMethod.Split(':')[0];
        if (modelAndMethod.EndsWith(":streamGenerateContent", StringComparison.Ordinal))
        {
            context.Response.ContentType = "text/event-stream";
            var half = ReplyText.Length / 2;
            var partial = "{\"promptTokenCount\":" + Usage.PromptTokens + ",\"totalTokenCount\":" + Usage.PromptTokens + "}";
            foreach (var (piece, finish, usage) in new[] { (ReplyText[..half], (string?)null, partial), (ReplyText[half..], "STOP", UsageJson()) })
            {
                var chunk = "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":" + JsonSerializer.Serialize(piece) + "}],\"role\":\"model\"}"
                    + (finish is null ? string.Empty : ",\"finishReason\":\"" + finish + "\"") + ",\"index\":0}],\"usageMetadata\":" + usage
                    + ",\"modelVersion\":" + JsonSerializer.Serialize(model) + ",\"responseId\":\"resp_fake\"}";
                await context.Response.WriteAsync("data: " + chunk + "\r\n\r\n");
                await context.Response.Body.FlushAsync();
            }

            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("{\"candidates\":[{\"content\":{\"parts\":[{\"text\":" + JsonSerializer.Serialize(ReplyText)
            + "}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":" + UsageJson()
            + ",\"modelVersion\":" + JsonSerializer.Serialize(model) + ",\"responseId\":\"resp_fake\"}");
    }

    private string UsageJson() =>
        "{\"promptTokenCount\":" + Usage.PromptTokens + ",\"candidatesTokenCount\":" + Usage.CandidatesTokens
        + ",\"totalTokenCount\":" + (Usage.PromptTokens + Usage.CandidatesTokens + Usage.ThoughtsTokens)
        + (Usage.CachedTokens > 0 ? ",\"cachedContentTokenCount\":" + Usage.CachedTokens : string.Empty)
        + (Usage.ThoughtsTokens > 0 ? ",\"thoughtsTokenCount\":" + Usage.ThoughtsTokens : string.Empty) + "}";
}
