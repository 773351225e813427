using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Http.Headers;
using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.Metering;
using Tollgate.Providers.Streaming;

namespace Tollgate.Providers.OpenAiCompatible;

/// <summary>
/// Serves every host that speaks OpenAI's chat-completions format (OpenAI, Groq, DeepSeek, Together, OpenRouter,
/// vLLM, Ollama, llama.cpp server). Bodies pass through; streams are relayed event by event as they arrive.
/// </summary>
public sealed class OpenAiCompatibleAdapter(UpstreamHttp http) : HttpProviderAdapter(http)
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    /// <summary>Each deployment's URLs and key header, by the deployment's identity (a lookup, not a hash of its fields).</summary>
    private readonly ConcurrentDictionary<DeploymentConfig, UpstreamTarget> _targets = new(ReferenceEqualityComparer.Instance);

    public override bool Supports(GatewayEndpoint endpoint) =>
        endpoint is GatewayEndpoint.ChatCompletions or GatewayEndpoint.Embeddings or GatewayEndpoint.Completions or GatewayEndpoint.Responses;

    protected override IStreamInspector CreateStreamInspector(ProviderRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Endpoint == GatewayEndpoint.Responses ? new ResponsesStreamInspector() : new OpenAiStreamInspector(request.ClientWantsStreamUsage);
    }

    protected override (HttpRequestMessage? Message, ProviderFailure? Rejection) BuildRequest(ProviderRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var deployment = request.Deployment;
        var buffer = request.BodyBuffer();
        // The Responses API reports usage in its last event unasked (and refuses stream_options).
        RequestBodyRewriter.Write(request.Body, deployment.Model, request.Stream && request.Endpoint != GatewayEndpoint.Responses, buffer);
        var content = new ReadOnlyMemoryContent(buffer.WrittenMemory);
        content.Headers.ContentType = JsonContentType;
        var target = Target(deployment);
        var url = request.Endpoint switch
        {
            GatewayEndpoint.Embeddings => target.Embeddings,
            GatewayEndpoint.Completions => target.Completions,
            GatewayEndpoint.Responses => target.Responses,
            _ => target.Chat,
        };
        var message = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = content,
            Version = new Version(1, 1),
        };
        if (target.KeyHeader is { } keyHeader)
        {
            message.Headers.TryAddWithoutValidation(keyHeader.Name, keyHeader.Value);
        }

        message.Headers.TryAddWithoutValidation("Accept", request.Stream ? "text/event-stream" : "application/json");
        return (message, null);
    }

    /// <summary>A whole answer with its passed-through headers; usage is read from a successful one.</summary>
    protected override async Task<UpstreamReply> ReadWholeReplyAsync(HttpResponseMessage response, ProviderRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await ReadBodyAsync(response.Content, cancellationToken);
        var contentType = UpstreamHeaders.ContentType(response, "application/json");
        var (usage, characters) = !response.IsSuccessStatusCode ? (Usage.None, 0)
            : request.Endpoint == GatewayEndpoint.Responses ? ResponsesStreamInspector.ReadResponse(body)
            : ReadCompletion(body);
        return new UpstreamReply((int)response.StatusCode, body, contentType, usage, characters) { Headers = UpstreamHeaders.Select(response) };
    }

    /// <summary>
    /// A Responses API call on a kept response — <c>GET /responses/{id}</c>, <c>DELETE</c>, <c>POST …/cancel</c>,
    /// <c>GET …/input_items</c> — passed to the deployment as asked (<paramref name="path"/> follows <c>/responses/</c>).
    /// </summary>
    public Task<ProviderResult<UpstreamReply>> RelayResponseCallAsync(DeploymentConfig deployment, HttpMethod method, string path, string query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var target = Target(deployment);
        var url = new UriBuilder(target.Responses) { Query = query.TrimStart('?') };
        url.Path = url.Path.TrimEnd('/') + "/" + path;
        return RelayAsync(Message(method, url.Uri, target, null), deployment, cancellationToken);
    }

    /// <summary>
    /// A call on the provider's files and batches (<c>files</c>, <c>files/{id}/content</c>, <c>batches/{id}/cancel</c>…;
    /// <paramref name="path"/> follows the base URL, or Azure's <c>/openai/</c>), passed as asked.
    /// </summary>
    public Task<ProviderResult<UpstreamReply>> RelayAccountCallAsync(
        DeploymentConfig deployment, HttpMethod method, string path, string query, HttpContent? content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var target = Target(deployment);
        var baseUrl = deployment.BaseUrl!.AbsoluteUri.TrimEnd('/');
        var url = KnownProviders.IsAzure(deployment.Provider)
            ? new UriBuilder($"{baseUrl}/openai/{path}") { Query = JoinQuery(query, "api-version=" + Uri.EscapeDataString(deployment.ApiVersion ?? KnownProviders.DefaultAzureApiVersion)) }
            : new UriBuilder($"{baseUrl}/{path}") { Query = query.TrimStart('?') };
        return RelayAsync(Message(method, url.Uri, target, content), deployment, cancellationToken);
    }

    private static string JoinQuery(string query, string extra) => query.TrimStart('?') is { Length: > 0 } q ? q + "&" + extra : extra;

    private static HttpRequestMessage Message(HttpMethod method, Uri url, UpstreamTarget target, HttpContent? content)
    {
        var message = new HttpRequestMessage(method, url) { Version = new Version(1, 1), Content = content };
        if (target.KeyHeader is { } keyHeader)
        {
            message.Headers.TryAddWithoutValidation(keyHeader.Name, keyHeader.Value);
        }

        message.Headers.TryAddWithoutValidation("Accept", "application/json");
        return message;
    }

    /// <summary>A deployment's endpoint URLs and key header, built once instead of on every request.</summary>
    private UpstreamTarget Target(DeploymentConfig deployment) => _targets.GetOrAdd(deployment, static d =>
    {
        var baseUrl = d.BaseUrl!.AbsoluteUri.TrimEnd('/');
        var azure = KnownProviders.IsAzure(d.Provider);
        (string, string)? keyHeader = string.IsNullOrEmpty(d.ApiKey) ? null : azure ? ("api-key", d.ApiKey) : ("Authorization", "Bearer " + d.ApiKey);
        if (azure)
        {
            // Azure OpenAI: the model is the Azure deployment's name, in the path; the version is a query parameter.
            var deploymentBase = $"{baseUrl}/openai/deployments/{Uri.EscapeDataString(d.Model)}";
            var version = "?api-version=" + Uri.EscapeDataString(d.ApiVersion ?? KnownProviders.DefaultAzureApiVersion);
            return new UpstreamTarget(
                new Uri(deploymentBase + "/chat/completions" + version), new Uri(deploymentBase + "/embeddings" + version), new Uri(deploymentBase + "/completions" + version),
                new Uri($"{baseUrl}/openai/v1/responses"), keyHeader);
        }

        return new UpstreamTarget(new Uri(baseUrl + "/chat/completions"), new Uri(baseUrl + "/embeddings"), new Uri(baseUrl + "/completions"), new Uri(baseUrl + "/responses"), keyHeader);
    });

    /// <summary>Usage and generated-text length of a whole chat completion or embeddings response.</summary>
    internal static (Usage Usage, long OutputCharacters) ReadCompletion(ReadOnlyMemory<byte> body)
    {
        var facts = OpenAiChunkInspector.Inspect(body.Span, measureText: false);
        if (facts.Usage is { InputTokens: not null, OutputTokens: not null } usage)
        {
            return (usage, 0);
        }

        // Usage is missing or partial: the generated text is measured, to estimate what is missing.
        facts = OpenAiChunkInspector.Inspect(body.Span);
        return (facts.Usage ?? Usage.None, facts.ContentCharacters);
    }

    private sealed record UpstreamTarget(Uri Chat, Uri Embeddings, Uri Completions, Uri Responses, (string Name, string Value)? KeyHeader);
}
