using Microsoft.AspNetCore.Http;
using Tollgate.Analytics.Metrics;
using Tollgate.Gateway.Errors;
using Tollgate.Ledger;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Refuses requests bound for a provider while more records wait for the ledger than
/// <c>storage.max_unwritten_records</c> — the database has been unreachable for a while. Each of them would reach a
/// provider and leave a record the gateway cannot write yet; refusing before the call keeps "one record per provider
/// call" and bounds what an outage holds in memory and in the journal. Requests already admitted finish and are
/// journaled (the queue has room for them past the bound).
/// </summary>
public sealed class LedgerBacklogGate(LedgerQueue queue, int maxUnwritten, GatewayMetrics metrics)
{
    /// <summary>Room in the queue past the bound, for requests admitted before it was reached.</summary>
    public const int InFlightRoom = 10_000;

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (!context.Request.Path.StartsWithSegments("/v1") || queue.Pending < maxUnwritten)
        {
            return next(context);
        }

        metrics.Rejected("ledger_backlog");
        context.Response.Headers.RetryAfter = "5";
        return OpenAiErrorWriter.WriteAsync(context.Response, new GatewayError(
            StatusCodes.Status503ServiceUnavailable, "api_error", "ledger_backlog",
            $"The gateway cannot write its usage ledger at the moment ({queue.Pending} records are waiting); requests are refused until it catches up. Try again shortly."));
    }
}
