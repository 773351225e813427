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
/// request's cost (clients ignore comments, so SDKs are not disturbed).
/// </summary>
public sealed class SseResponseSink(HttpResponse response, Exchange exchange, UsageSettler settler, TimeProvider time) : IStreamSink
{
    public bool Begun { get; private set; }

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
        exchange.FirstByteTimestamp ??= time.GetTimestamp();
        await response.BodyWriter.WriteAsync(sseEvent, cancellationToken);
    }

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
