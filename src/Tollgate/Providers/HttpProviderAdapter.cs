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

    /// <summary>
    /// True for a provider with no Responses API whose adapter translates chat completions (Anthropic, Gemini): a
    /// Responses request is translated to chat (<see cref="ResponsesOverChat.ResponsesChatRequest"/>) and its answer,
    /// whole or streamed, back to the Responses format.
    /// </summary>
    protected virtual bool AnswersResponsesOverChat => false;

    public async Task<ProviderResult<UpstreamReply>> SendAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Endpoint == GatewayEndpoint.Responses && AnswersResponsesOverChat)
        {
            var (chat, refusal) = ResponsesOverChat.ResponsesChatRequest.Translate(request.Body);
            if (chat is null)
            {
                return new ProviderFailure(ProviderFailureKind.Rejected, refusal!);
            }

            using var document = System.Text.Json.JsonDocument.Parse(chat);
            var answer = await SendAsync(request with { Endpoint = GatewayEndpoint.ChatCompletions, Body = document.RootElement, ClientWantsStreamUsage = false }, cancellationToken);
            return answer.Value is { IsSuccess: true } reply ? reply with { Body = ResponsesOverChat.ResponsesChatAnswer.FromChat(reply.Body, reply.Usage) } : answer;
        }

        var (message, rejection) = BuildRequest(request);
        if (rejection is not null)
        {
            return rejection;
        }

        using var timer = new AttemptTimer(request.Deployment.Timeouts, cancellationToken);
        using (message)
        {
            HttpResponseMessage response;
            try
            {
                response = await UpstreamCall.Start(http.Invoker, message!, request.Deployment, timer);
                timer.Answered();
            }
            catch (Exception ex) when (UpstreamCall.FailureOf(ex, timer, cancellationToken) is { } failure)
            {
                return failure;
            }

            using (response)
            {
                return await ReadWholeAsync(response, request, timer, cancellationToken);
            }
        }
    }

    public async Task<ProviderResult<StreamOutcome>> StreamAsync(ProviderRequest request, IStreamSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(sink);
        if (request.Endpoint == GatewayEndpoint.Responses && AnswersResponsesOverChat)
        {
            var (chat, refusal) = ResponsesOverChat.ResponsesChatRequest.Translate(request.Body);
            if (chat is null)
            {
                return new ProviderFailure(ProviderFailureKind.Rejected, refusal!);
            }

            using var document = System.Text.Json.JsonDocument.Parse(chat);
            var streamed = await StreamAsync(
                request with { Endpoint = GatewayEndpoint.ChatCompletions, Body = document.RootElement, ClientWantsStreamUsage = false },
                new ResponsesOverChat.ResponsesChatStreamSink(sink), cancellationToken);
            return streamed.Value is { WholeReply: { IsSuccess: true } whole } outcome
                ? outcome with { WholeReply = whole with { Body = ResponsesOverChat.ResponsesChatAnswer.FromChat(whole.Body, whole.Usage) } }
                : streamed;
        }

        var (message, rejection) = BuildRequest(request);
        if (rejection is not null)
        {
            return rejection;
        }

        // Reading on after the client leaves: the call's timers no longer follow the client, only its own timeouts.
        var readOn = request.Deployment.ReadUsageAfterClientLeaves;
        var callToken = readOn ? CancellationToken.None : cancellationToken;
        using var timer = new AttemptTimer(request.Deployment.Timeouts, callToken);
        HttpResponseMessage response;
        using (message)
        {
            try
            {
                response = await UpstreamCall.Start(http.Invoker, message!, request.Deployment, timer);
                timer.Answered();
            }
            catch (Exception ex) when (UpstreamCall.FailureOf(ex, timer, callToken) is { } failure)
            {
                return failure;
            }
        }

        using (response)
        {
            // An error, or a server that answered a stream request with a whole body, is passed on whole.
            if (!response.IsSuccessStatusCode || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                var whole = await ReadWholeAsync(response, request, timer, callToken);
                return whole.Failure ?? (ProviderResult<StreamOutcome>)StreamOutcome.FromWholeReply(whole.Value!);
            }

            await using var upstream = await response.Content.ReadAsStreamAsync(timer.Token);
            var outcome = await SseRelay.RelayAsync(PipeReader.Create(upstream, UpstreamReading), CreateStreamInspector(request), UpstreamHeaders.Select(response), sink, timer.Token, cancellationToken, timer.Progressed, readOn);
            return outcome.Failure is { Kind: ProviderFailureKind.Timeout } ? outcome with { Failure = outcome.Failure with { Message = timer.Describe() } } : outcome;
        }
    }

    /// <summary>
    /// How a stream's body is read: a zero-byte read first waits for the provider's next bytes without holding a buffer,
    /// so a stream that waits between events (most of a stream's life) holds none — with a thousand streams open that
    /// is megabytes not kept.
    /// </summary>
    private static readonly StreamPipeReaderOptions UpstreamReading = new(useZeroByteReads: true);

    /// <summary>Reads a whole answer within the timer; a timeout or a body cut on the way is a failure value.</summary>
    private async Task<ProviderResult<UpstreamReply>> ReadWholeAsync(HttpResponseMessage response, ProviderRequest request, AttemptTimer timer, CancellationToken clientToken)
    {
        try
        {
            return await ReadWholeReplyAsync(response, request, timer.Token);
        }
        catch (OperationCanceledException) when (!clientToken.IsCancellationRequested)
        {
            return new ProviderFailure(ProviderFailureKind.Timeout, timer.Describe());
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return new ProviderFailure(ProviderFailureKind.Unreachable, "the provider's answer was cut: " + ex.Message);
        }
    }

    /// <summary>
    /// Sends a call that is not metered (reading or deleting something the provider keeps) and returns the provider's
    /// answer as it is: status, body, content type and the passed-through headers.
    /// </summary>
    protected async Task<ProviderResult<UpstreamReply>> RelayAsync(HttpRequestMessage message, Configuration.DeploymentConfig deployment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(deployment);
        using var sent = message;
        using var timer = new AttemptTimer(deployment.Timeouts, cancellationToken);
        HttpResponseMessage response;
        try
        {
            response = await UpstreamCall.Start(http.Invoker, message, deployment, timer);
            timer.Answered();
        }
        catch (Exception ex) when (UpstreamCall.FailureOf(ex, timer, cancellationToken) is { } failure)
        {
            return failure;
        }

        using (response)
        {
            var body = await ReadBodyAsync(response.Content, cancellationToken);
            return new UpstreamReply((int)response.StatusCode, body, UpstreamHeaders.ContentType(response, "application/json"), Metering.Usage.None, 0) { Headers = UpstreamHeaders.Select(response) };
        }
    }

    /// <summary>The provider's HTTP request for <paramref name="request"/>, or why it cannot be expressed (nothing is sent).</summary>
    protected abstract (HttpRequestMessage? Message, ProviderFailure? Rejection) BuildRequest(ProviderRequest request);

    /// <summary>A whole answer: the body for the client (translated where the formats differ), its usage and headers.</summary>
    protected abstract Task<UpstreamReply> ReadWholeReplyAsync(HttpResponseMessage response, ProviderRequest request, CancellationToken cancellationToken);

    /// <summary>The inspector (or translator) for one stream of this provider.</summary>
    protected abstract IStreamInspector CreateStreamInspector(ProviderRequest request);

    /// <summary>Reads a whole answer (see <see cref="WholeBody"/>).</summary>
    protected static async ValueTask<byte[]> ReadBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);

        // A provider's answer is the connection's own stream: opening it does no I/O, so there is nothing to await.
        await using var stream = content.ReadAsStream(cancellationToken);
        return await WholeBody.ReadAsync(stream, content.Headers.ContentLength, long.MaxValue, cancellationToken);
    }
}
