using System.Buffers;
using System.IO.Pipelines;
using System.Net.Http.Headers;
using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.Metering;
using Tollgate.Optimization.PromptCaching;
using Tollgate.Providers.Streaming;

namespace Tollgate.Providers.Anthropic;

/// <summary>
/// Anthropic's Messages API. On <c>/v1/messages</c> the client's body passes through (system blocks,
/// <c>cache_control</c>, tools, images, thinking) with only the model replaced, and the client's
/// <c>anthropic-version</c> and <c>anthropic-beta</c> are passed on. On <c>/v1/chat/completions</c> the OpenAI-format
/// request is translated to a Messages request and the answer (whole or streamed) back to OpenAI's format. The
/// deployment's key goes in <c>x-api-key</c>.
/// </summary>
public sealed class AnthropicAdapter(UpstreamHttp http, TimeProvider time) : HttpProviderAdapter(http)
{
    public const string DefaultVersion = "2023-06-01";

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    public override bool Supports(GatewayEndpoint endpoint) => endpoint is GatewayEndpoint.Messages or GatewayEndpoint.ChatCompletions or GatewayEndpoint.Responses;

    protected override bool AnswersResponsesOverChat => true;

    /// <summary>Usage and generated-text length of a whole Messages response.</summary>
    internal static (Usage Usage, long OutputCharacters) ReadMessage(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (Usage.None, 0);
            }

            var usage = root.TryGetProperty("usage", out var u) ? AnthropicUsageMapper.Map(u) : Usage.None;
            long characters = 0;
            if (root.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
            {
                foreach (var block in content.EnumerateArray())
                {
                    foreach (var field in new[] { "text", "thinking" })
                    {
                        if (block.TryGetProperty(field, out var text) && text.ValueKind == JsonValueKind.String)
                        {
                            characters += text.GetString()!.Length;
                        }
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

    /// <summary>A whole answer; on the OpenAI-format endpoint its body (message or error) is translated to OpenAI's format.</summary>
    protected override async Task<UpstreamReply> ReadWholeReplyAsync(HttpResponseMessage response, ProviderRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(request);
        var endpoint = request.Endpoint;
        var body = await ReadBodyAsync(response.Content, cancellationToken);
        var contentType = UpstreamHeaders.ContentType(response, "application/json");
        var (usage, characters) = response.IsSuccessStatusCode ? ReadMessage(body) : (Usage.None, 0);
        if (endpoint == GatewayEndpoint.ChatCompletions && response.IsSuccessStatusCode)
        {
            using var message = TryParse(body);
            if (message is not null)
            {
                body = AnthropicResponseTranslator.Completion(message.RootElement, time.GetUtcNow().ToUnixTimeSeconds());
                contentType = "application/json";
            }
        }
        else if (endpoint == GatewayEndpoint.ChatCompletions)
        {
            body = AnthropicResponseTranslator.Error(body);
        }

        return new UpstreamReply((int)response.StatusCode, body, contentType, usage, characters) { Headers = UpstreamHeaders.Select(response) };
    }

    private static JsonDocument? TryParse(byte[] body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    protected override IStreamInspector CreateStreamInspector(ProviderRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Endpoint == GatewayEndpoint.ChatCompletions
            ? new AnthropicChatStreamTranslator(request.ClientWantsStreamUsage, time.GetUtcNow().ToUnixTimeSeconds())
            : new AnthropicStreamInspector();
    }

    protected override (HttpRequestMessage? Message, ProviderFailure? Rejection) BuildRequest(ProviderRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var deployment = request.Deployment;
        var buffer = request.BodyBuffer();
        if (request.Endpoint == GatewayEndpoint.ChatCompletions)
        {
            var rejection = AnthropicRequestTranslator.Translate(request.Body, deployment.Model, AnthropicRequestTranslator.DefaultMaxTokens, buffer);
            if (rejection is not null)
            {
                return (null, new ProviderFailure(ProviderFailureKind.Rejected, rejection));
            }
        }
        else
        {
            RequestBodyRewriter.Write(request.Body, deployment.Model, askForStreamUsage: false, buffer);
        }

        var body = buffer.WrittenMemory;
        if (deployment.AutoCacheSystemPromptMinTokens is { } minTokens)
        {
            using var written = JsonDocument.Parse(body);
            if (SystemPromptCacheBreakpoint.Apply(written.RootElement, minTokens) is { } marked)
            {
                body = marked;
            }
        }

        var content = new ReadOnlyMemoryContent(body);
        content.Headers.ContentType = JsonContentType;
        var message = new HttpRequestMessage(HttpMethod.Post, deployment.BaseUrl!.AbsoluteUri.TrimEnd('/') + "/v1/messages") { Content = content };
        if (!string.IsNullOrEmpty(deployment.ApiKey))
        {
            message.Headers.Add("x-api-key", deployment.ApiKey);
        }

        var version = request.ForwardedHeaders.FirstOrDefault(h => h.Key.Equals("anthropic-version", StringComparison.OrdinalIgnoreCase)).Value;
        message.Headers.Add("anthropic-version", string.IsNullOrEmpty(version) ? DefaultVersion : version);
        foreach (var (name, value) in request.ForwardedHeaders.Where(h => h.Key.Equals("anthropic-beta", StringComparison.OrdinalIgnoreCase)))
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        message.Headers.Accept.ParseAdd(request.Stream ? "text/event-stream" : "application/json");
        return (message, null);
    }

    /// <summary>
    /// A call on Anthropic's Message Batches API (<paramref name="path"/> follows <c>/v1/messages/batches</c>: empty to
    /// create, <c>/{id}</c>, <c>/{id}/cancel</c>, <c>/{id}/results</c>), with the deployment's key and API version.
    /// </summary>
    public Task<ProviderResult<UpstreamReply>> RelayBatchCallAsync(DeploymentConfig deployment, HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var message = new HttpRequestMessage(method, deployment.BaseUrl!.AbsoluteUri.TrimEnd('/') + "/v1/messages/batches" + path) { Content = content };
        if (!string.IsNullOrEmpty(deployment.ApiKey))
        {
            message.Headers.Add("x-api-key", deployment.ApiKey);
        }

        message.Headers.Add("anthropic-version", DefaultVersion);
        return RelayAsync(message, deployment, cancellationToken);
    }
}
