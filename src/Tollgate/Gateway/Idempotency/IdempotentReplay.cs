using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Tollgate.Gateway.Idempotency;

/// <summary>
/// Sends a kept answer again: same status, body (a stream's events all at once) and headers, marked as a replay
/// and costing nothing — no provider was called and no usage record is written.
/// </summary>
public static class IdempotentReplay
{
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const string ReplayOfHeader = "X-Tollgate-Replay-Of";

    public static async Task WriteAsync(HttpResponse response, StoredResponse kept, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(kept);
        foreach (var (name, value) in kept.Headers)
        {
            response.Headers[name] = value;
        }

        response.Headers[ReplayedHeader] = "true";
        response.Headers[ReplayOfHeader] = kept.RequestId;
        response.Headers[Pipeline.ProxyRequestHandler.CostHeader] = 0m.ToString(CultureInfo.InvariantCulture);
        response.StatusCode = kept.StatusCode;
        response.ContentType = kept.ContentType;
        response.ContentLength = kept.Body.Length;
        await response.Body.WriteAsync(kept.Body, cancellationToken);
    }
}
