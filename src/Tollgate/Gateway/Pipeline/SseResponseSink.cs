using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Tollgate.Ledger;
using Tollgate.Metering;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Writes a relayed stream to the client: headers once, then each event flushed as it comes. When the stream's end
/// arrives, the exchange is recorded (journaled) before the end marker goes out, and a final SSE comment carries the
/// request's cost (clients ignore comments, so SDKs are not disturbed). Under an idempotency key, the events are
/// collected and kept (the cost comment aside) before the end event goes out. Every event passes the secret scrubber.
/// </summary>
public sealed class SseResponseSink(HttpResponse response, Exchange exchange, UsageSettler settler, Errors.SecretScrubber scrubber, TimeProvider time) : IStreamSink
{
    private IReadOnlyList<KeyValuePair<string, string>> _upstreamHeaders = [];

    public bool Begun { get; private set; }

    /// <summary>The provider's headers passed on to the client.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> UpstreamHeaders => _upstreamHeaders;

    /// <summary>The record written when the stream finished; null while it runs or when it never finished.</summary>
    public UsageRecord? Record { get; private set; }

    public async Task BeginAsync(IReadOnlyList<KeyValuePair<string, string>> upstreamHeaders, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upstreamHeaders);
        if (Begun)
        {
            return;
        }

        Begun = true;
        _upstreamHeaders = upstreamHeaders;
        exchange.UpstreamRequestId = Providers.UpstreamHeaders.RequestIdIn(upstreamHeaders);
        foreach (var (name, value) in upstreamHeaders)
        {
            response.Headers[name] = value;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(cancellationToken);
    }

    public async ValueTask WriteEventAsync(ReadOnlyMemory<byte> sseEvent, CancellationToken cancellationToken)
    {
        // A provider may quote the key it was sent in an error event inside a 200 stream, as in an error body.
        sseEvent = scrubber.Scrub(sseEvent);
        exchange.FirstByteTimestamp ??= time.GetTimestamp();
        exchange.CacheFill?.Capture(sseEvent.Span);
        if (exchange.IdempotencyClaim is { } claim)
        {
            claim.Capture(sseEvent.Span);
            if (Record is not null)
            {
                // The end event: the answer is complete, and kept before its last byte leaves.
                await KeepAsync();
            }
        }

        await response.BodyWriter.WriteAsync(sseEvent, cancellationToken);
    }

    /// <summary>Keeps the stream sent so far under the request's idempotency key (once; later calls do nothing).</summary>
    public Task KeepAsync() => exchange.IdempotencyClaim is { } claim
        ? claim.KeepStreamAsync(exchange.RequestId, [.. _upstreamHeaders, new(ProxyRequestHandler.DeploymentHeader, exchange.Deployment.Name)])
        : Task.CompletedTask;

    public async ValueTask FinishAsync(Usage usage, long outputCharacters, CancellationToken cancellationToken)
    {
        Record = await settler.SettleAsync(exchange, new ExchangeResult(RecordStatus.Ok, StatusCodes.Status200OK, usage, outputCharacters, true, null));
        if (Record.Cost.Total is { } cost)
        {
            var comment = Encoding.UTF8.GetBytes($": tollgate cost_usd={cost.ToString(CultureInfo.InvariantCulture)}\n\n");
            await response.BodyWriter.WriteAsync(comment, cancellationToken);
        }
    }
}
