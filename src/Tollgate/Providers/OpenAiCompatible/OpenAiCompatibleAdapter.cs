using System.Buffers;
using System.IO.Pipelines;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
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

    private static readonly ConditionalWeakTable<DeploymentConfig, Uri[]> UpstreamUris = [];

    public override bool Supports(GatewayEndpoint endpoint) => endpoint is GatewayEndpoint.ChatCompletions or GatewayEndpoint.Embeddings;

    protected override IStreamInspector CreateStreamInspector(ProviderRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new OpenAiStreamInspector(request.ClientWantsStreamUsage);
    }

    protected override (HttpRequestMessage? Message, ProviderFailure? Rejection) BuildRequest(ProviderRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var deployment = request.Deployment;
        var buffer = new ArrayBufferWriter<byte>(1024);
        RequestBodyRewriter.Write(request.Body, deployment.Model, request.Stream, buffer);
        var content = new ReadOnlyMemoryContent(buffer.WrittenMemory);
        content.Headers.ContentType = JsonContentType;
        var message = new HttpRequestMessage(HttpMethod.Post, UpstreamUri(deployment, request.Endpoint)) { Content = content, Version = new Version(1, 1) };
        if (!string.IsNullOrEmpty(deployment.ApiKey))
        {
            if (KnownProviders.IsAzure(deployment.Provider))
            {
                message.Headers.Add("api-key", deployment.ApiKey);
            }
            else
            {
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", deployment.ApiKey);
            }
        }

        message.Headers.Accept.ParseAdd(request.Stream ? "text/event-stream" : "application/json");
        return (message, null);
    }

    /// <summary>A whole answer with its passed-through headers; usage is read from a successful one.</summary>
    protected override async Task<UpstreamReply> ReadWholeReplyAsync(HttpResponseMessage response, ProviderRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await ReadBodyAsync(response.Content, cancellationToken);
        var contentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
        var (usage, characters) = response.IsSuccessStatusCode ? ReadCompletion(body) : (Usage.None, 0);
        return new UpstreamReply((int)response.StatusCode, body, contentType, usage, characters) { Headers = UpstreamHeaders.Select(response) };
    }

    /// <summary>The endpoint URLs of a deployment, built once instead of parsed on every request.</summary>
    private static Uri UpstreamUri(DeploymentConfig deployment, GatewayEndpoint endpoint)
    {
        var uris = UpstreamUris.GetValue(deployment, d =>
        {
            var baseUrl = d.BaseUrl!.AbsoluteUri.TrimEnd('/');
            if (KnownProviders.IsAzure(d.Provider))
            {
                // Azure OpenAI: the model is the Azure deployment's name, in the path; the version is a query parameter.
                var deploymentBase = $"{baseUrl}/openai/deployments/{Uri.EscapeDataString(d.Model)}";
                var version = "?api-version=" + Uri.EscapeDataString(d.ApiVersion ?? KnownProviders.DefaultAzureApiVersion);
                return [new Uri(deploymentBase + "/chat/completions" + version), new Uri(deploymentBase + "/embeddings" + version)];
            }

            return [new Uri(baseUrl + "/chat/completions"), new Uri(baseUrl + "/embeddings")];
        });
        return uris[endpoint == GatewayEndpoint.Embeddings ? 1 : 0];
    }

    /// <summary>Usage and generated-text length of a whole chat completion or embeddings response.</summary>
    internal static (Usage Usage, long OutputCharacters) ReadCompletion(ReadOnlyMemory<byte> body)
    {
        var facts = OpenAiChunkInspector.Inspect(body.Span);
        return (facts.Usage ?? Usage.None, facts.ContentCharacters);
    }
}
