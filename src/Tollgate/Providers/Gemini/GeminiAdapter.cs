using System.Buffers;
using System.IO.Pipelines;
using System.Net.Http.Headers;
using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.Metering;
using Tollgate.Providers.Streaming;

namespace Tollgate.Providers.Gemini;

/// <summary>
/// Google Gemini behind OpenAI-format chat: requests are translated to <c>generateContent</c> /
/// <c>streamGenerateContent?alt=sse</c>, answers back to chat completions; the key goes in <c>x-goog-api-key</c>.
/// </summary>
public sealed class GeminiAdapter(UpstreamHttp http, TimeProvider time) : HttpProviderAdapter(http)
{
    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    public override bool Supports(GatewayEndpoint endpoint) => endpoint is GatewayEndpoint.ChatCompletions or GatewayEndpoint.Responses;

    protected override bool AnswersResponsesOverChat => true;

    protected override IStreamInspector CreateStreamInspector(ProviderRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new GeminiChatStreamTranslator(request.Deployment.Model, request.ClientWantsStreamUsage, time.GetUtcNow().ToUnixTimeSeconds());
    }

    protected override async Task<UpstreamReply> ReadWholeReplyAsync(HttpResponseMessage response, ProviderRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(request);
        var deployment = request.Deployment;
        var body = await ReadBodyAsync(response.Content, cancellationToken);
        var usage = Usage.None;
        long characters = 0;
        if (response.IsSuccessStatusCode)
        {
            try
            {
                using var document = JsonDocument.Parse(body);
                usage = GeminiResponseTranslator.UsageOf(document.RootElement);
                characters = GeminiResponseTranslator.Candidate(document.RootElement).Text.Length;
                body = GeminiResponseTranslator.Completion(document.RootElement, deployment.Model, time.GetUtcNow().ToUnixTimeSeconds());
            }
            catch (JsonException)
            {
                // Not JSON: passed on as it came, and the usage estimated.
            }
        }
        else
        {
            body = GeminiResponseTranslator.Error(body);
        }

        return new UpstreamReply((int)response.StatusCode, body, "application/json", usage, characters) { Headers = UpstreamHeaders.Select(response) };
    }

    protected override (HttpRequestMessage? Message, ProviderFailure? Rejection) BuildRequest(ProviderRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var deployment = request.Deployment;
        var buffer = request.BodyBuffer();
        var rejection = GeminiRequestTranslator.Translate(request.Body, buffer);
        if (rejection is not null)
        {
            return (null, new ProviderFailure(ProviderFailureKind.Rejected, rejection));
        }

        var content = new ReadOnlyMemoryContent(buffer.WrittenMemory);
        content.Headers.ContentType = JsonContentType;
        var method = request.Stream ? "streamGenerateContent?alt=sse" : "generateContent";
        var url = $"{deployment.BaseUrl!.AbsoluteUri.TrimEnd('/')}/v1beta/models/{Uri.EscapeDataString(deployment.Model)}:{method}";
        var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        if (!string.IsNullOrEmpty(deployment.ApiKey))
        {
            message.Headers.Add("x-goog-api-key", deployment.ApiKey);
        }

        return (message, null);
    }
}
