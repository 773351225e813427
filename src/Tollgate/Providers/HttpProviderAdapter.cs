using System.IO.Pipelines;
using Tollgate.Providers.Streaming;

namespace Tollgate.Providers;

/// <summary>
/// The one send-and-relay skeleton every HTTP provider shares: build the provider's request (or refuse it), send it
/// within the deployment's timeout, read a whole answer, or relay a stream event by event through the provider's
/// inspector. A provider supplies only the three format-specific steps.
/// </summary>
public abstract class HttpProviderAdapter(UpstreamHttp http) : IProviderAdapter
{
    public abstract bool Supports(GatewayEndpoint endpoint);

    public async Task<ProviderResult<UpstreamReply>> SendAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (message, rejection) = BuildRequest(request);
        if (rejection is not null)
        {
            return rejection;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(request.Deployment.Timeout);
        using (message)
        {
            var (response, failure) = await UpstreamCall.SendAsync(http.Invoker, message!, request.Deployment.Timeout, timeout.Token, cancellationToken);
            if (failure is not null)
            {
                return failure;
            }

            using (response)
            {
                return await ReadWholeReplyAsync(response!, request, timeout.Token);
            }
        }
    }

    public async Task<ProviderResult<StreamOutcome>> StreamAsync(ProviderRequest request, IStreamSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(sink);
        var (message, rejection) = BuildRequest(request);
        if (rejection is not null)
        {
            return rejection;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(request.Deployment.Timeout);
        HttpResponseMessage? response;
        using (message)
        {
            ProviderFailure? failure;
            (response, failure) = await UpstreamCall.SendAsync(http.Invoker, message!, request.Deployment.Timeout, timeout.Token, cancellationToken);
            if (failure is not null)
            {
                return failure;
            }
        }

        using (response)
        {
            // An error, or a server that answered a stream request with a whole body, is passed on whole.
            if (!response!.IsSuccessStatusCode || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                return StreamOutcome.FromWholeReply(await ReadWholeReplyAsync(response, request, timeout.Token));
            }

            await using var upstream = await response.Content.ReadAsStreamAsync(timeout.Token);
            return await SseRelay.RelayAsync(PipeReader.Create(upstream), CreateStreamInspector(request), UpstreamHeaders.Select(response), sink, timeout.Token, cancellationToken);
        }
    }

    /// <summary>The provider's HTTP request for <paramref name="request"/>, or why it cannot be expressed (nothing is sent).</summary>
    protected abstract (HttpRequestMessage? Message, ProviderFailure? Rejection) BuildRequest(ProviderRequest request);

    /// <summary>A whole answer: the body for the client (translated where the formats differ), its usage and headers.</summary>
    protected abstract Task<UpstreamReply> ReadWholeReplyAsync(HttpResponseMessage response, ProviderRequest request, CancellationToken cancellationToken);

    /// <summary>The inspector (or translator) for one stream of this provider.</summary>
    protected abstract IStreamInspector CreateStreamInspector(ProviderRequest request);

    /// <summary>Reads a whole body; one of known length goes straight into an array of that length.</summary>
    protected static async Task<byte[]> ReadBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (content.Headers.ContentLength is not { } length || length > int.MaxValue)
        {
            return await content.ReadAsByteArrayAsync(cancellationToken);
        }

        var body = new byte[length];
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        await stream.ReadExactlyAsync(body, cancellationToken);
        return body;
    }
}
