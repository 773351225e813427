using System.Buffers;
using System.IO.Pipelines;
using System.Net.Http.Headers;
using System.Text.Json;
using Tollgate.Metering;
using Tollgate.Providers.Streaming;

namespace Tollgate.Providers.Anthropic;

/// <summary>
/// Anthropic's Messages API, served natively on <c>/v1/messages</c>: the client's body passes through (system
/// blocks, <c>cache_control</c>, tools, images, thinking) with only the model replaced; the deployment's key goes in
/// <c>x-api-key</c>; the client's <c>anthropic-version</c> and <c>anthropic-beta</c> are passed on.
/// </summary>
public sealed class AnthropicAdapter(UpstreamHttp http) : IProviderAdapter
{
    public const string DefaultVersion = "2023-06-01";

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    public bool Supports(GatewayEndpoint endpoint) => endpoint == GatewayEndpoint.Messages;

    public async Task<ProviderResult<UpstreamReply>> SendAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
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
        ArgumentNullException.ThrowIfNull(request);
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
            return await SseRelay.RelayAsync(PipeReader.Create(upstream), new AnthropicStreamInspector(), UpstreamHeaders.Select(response), sink, timeout.Token, cancellationToken);
        }
    }

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

    private static async Task<UpstreamReply> ReadWholeReplyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var contentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
        var (usage, characters) = response.IsSuccessStatusCode ? ReadMessage(body) : (Usage.None, 0);
        return new UpstreamReply((int)response.StatusCode, body, contentType, usage, characters) { Headers = UpstreamHeaders.Select(response) };
    }

    private static HttpRequestMessage BuildRequest(ProviderRequest request)
    {
        var deployment = request.Deployment;
        var buffer = new ArrayBufferWriter<byte>(1024);
        RequestBodyRewriter.Write(request.Body, deployment.Model, askForStreamUsage: false, buffer);
        var content = new ReadOnlyMemoryContent(buffer.WrittenMemory);
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
        return message;
    }
}
