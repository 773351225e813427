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
public sealed class OpenAiCompatibleAdapter(UpstreamHttp http) : IProviderAdapter
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private static readonly ConditionalWeakTable<DeploymentConfig, Uri[]> UpstreamUris = [];

    public bool Supports(GatewayEndpoint endpoint) => endpoint is GatewayEndpoint.ChatCompletions or GatewayEndpoint.Embeddings;

    public async Task<ProviderResult<UpstreamReply>> SendAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(request.Deployment.Timeout);
        try
        {
            using var message = BuildRequest(request);
            using var response = await http.Invoker.SendAsync(message, timeout.Token);
            return await ReadWholeReplyAsync(response, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProviderFailure(ProviderFailureKind.Timeout, $"no answer within {request.Deployment.Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            return new ProviderFailure(ProviderFailureKind.Unreachable, ex.Message);
        }
    }

    public async Task<ProviderResult<StreamOutcome>> StreamAsync(ProviderRequest request, IStreamSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(request.Deployment.Timeout);
        HttpResponseMessage response;
        try
        {
            using var message = BuildRequest(request);
            response = await http.Invoker.SendAsync(message, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ProviderFailure(ProviderFailureKind.Timeout, $"no answer within {request.Deployment.Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            return new ProviderFailure(ProviderFailureKind.Unreachable, ex.Message);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                return StreamOutcome.FromWholeReply(await ReadWholeReplyAsync(response, timeout.Token));
            }

            await using var upstream = await response.Content.ReadAsStreamAsync(timeout.Token);
            return await SseRelay.RelayAsync(PipeReader.Create(upstream), new OpenAiStreamInspector(request.ClientWantsStreamUsage), UpstreamHeaders.Select(response), sink, timeout.Token, cancellationToken);
        }
    }

    private static HttpRequestMessage BuildRequest(ProviderRequest request)
    {
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
        return message;
    }

    /// <summary>A whole answer with its passed-through headers; usage is read from a successful one.</summary>
    private static async Task<UpstreamReply> ReadWholeReplyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(response.Content, cancellationToken);
        var contentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
        var (usage, characters) = response.IsSuccessStatusCode ? ReadCompletion(body) : (Usage.None, 0);
        return new UpstreamReply((int)response.StatusCode, body, contentType, usage, characters) { Headers = UpstreamHeaders.Select(response) };
    }

    /// <summary>Reads a whole body; one of known length goes straight into an array of that length.</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is not { } length || length > int.MaxValue)
        {
            return await content.ReadAsByteArrayAsync(cancellationToken);
        }

        var body = new byte[length];
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        await stream.ReadExactlyAsync(body, cancellationToken);
        return body;
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
