using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Tollgate.Metering;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Writes a relayed stream to the client: headers once, then each event flushed as it comes, and a final SSE
/// comment with the request's cost (clients ignore comments, so SDKs are not disturbed).
/// </summary>
public sealed class SseResponseSink(HttpResponse response, Exchange exchange, TimeProvider time) : IStreamSink
{
    public bool Begun { get; private set; }

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

    public async ValueTask WriteTrailerAsync(Usage usage, CancellationToken cancellationToken)
    {
        if (UsageSettler.PreviewCost(exchange, usage) is { } cost)
        {
            var comment = Encoding.UTF8.GetBytes($": tollgate cost_usd={cost.ToString(CultureInfo.InvariantCulture)}\n\n");
            await response.BodyWriter.WriteAsync(comment, cancellationToken);
        }
    }
}
