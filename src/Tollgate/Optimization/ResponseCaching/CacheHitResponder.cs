using System.Globalization;
using Microsoft.AspNetCore.Http;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;
using Tollgate.Metering;
using Tollgate.Providers;

namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// Answers a request from a kept answer: writes its usage record first (cost $0, the kind of hit, and what the call
/// would have cost: the kept answer's usage at the day's price of the deployment that gave it), then the answer —
/// the same body, or for a stream the same events, with the cache's headers.
/// </summary>
public sealed class CacheHitResponder(LedgerQueue ledger, Analytics.Metrics.GatewayMetrics metrics, TimeProvider time)
{
    public const string PriceSource = "response cache";

    public async Task WriteAsync(HttpContext context, Exchange exchange, IReadOnlyList<Deployment> candidates, CachedAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(answer);
        var deployment = candidates.FirstOrDefault(d => d.Name == answer.Deployment) ?? candidates[0];
        var saved = Saved(deployment, answer.Usage, exchange.StartedAt);
        await RecordAsync(exchange, deployment, saved);

        var response = context.Response;
        foreach (var (name, value) in answer.Headers)
        {
            response.Headers[name] = value;
        }

        response.Headers[ResponseCache.SourceHeader] = answer.SourceRequestId;
        await WriteBodyAsync(context, exchange, deployment, saved, answer.ContentType, answer.Body);
    }

    /// <summary>Answers an embeddings request every item of which was kept.</summary>
    public async Task WriteEmbeddingsAsync(HttpContext context, Exchange exchange, IReadOnlyList<Deployment> candidates, EmbeddingItems items)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(items);
        var deployment = candidates[0];
        var saved = Saved(deployment, items.HitUsage, exchange.StartedAt);
        await RecordAsync(exchange, deployment, saved);
        await WriteBodyAsync(context, exchange, deployment, saved, "application/json", items.AllKept(deployment.Config.Model));
    }

    private async Task RecordAsync(Exchange exchange, Deployment deployment, decimal? saved)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        var record = new UsageRecord
        {
            Id = exchange.RequestId,
            Timestamp = exchange.StartedAt,
            LatencyMs = time.GetElapsedTime(exchange.StartTimestamp).TotalMilliseconds,
            Attribution = exchange.Attribution,
            Endpoint = UsageSettler.EndpointName(exchange.Endpoint),
            Alias = exchange.Alias,
            Deployment = deployment.Name,
            Provider = deployment.Config.Provider,
            UpstreamModel = deployment.Config.Model,
            Stream = exchange.Stream,
            Status = RecordStatus.Ok,
            HttpStatus = StatusCodes.Status200OK,
            Attempts = 0,
            Usage = Usage.None,
            Cost = CostBreakdown.Flat(0),
            PriceSource = PriceSource,
            ResponseCacheHit = ResponseCacheHit.Exact,
            ResponseCacheSavedUsd = saved,
        };
        metrics.Recorded(record);
        await ledger.EnqueueAsync(record);
    }

    private static async Task WriteBodyAsync(HttpContext context, Exchange exchange, Deployment deployment, decimal? saved, string contentType, byte[] body)
    {
        var response = context.Response;
        response.Headers[ProxyRequestHandler.DeploymentHeader] = deployment.Name;
        response.Headers[ResponseCache.Header] = "hit";
        response.Headers[ProxyRequestHandler.CostHeader] = "0";
        if (saved is { } amount)
        {
            response.Headers[ResponseCache.SavedHeader] = amount.ToString(CultureInfo.InvariantCulture);
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        if (exchange.Stream)
        {
            response.Headers.CacheControl = "no-cache";
        }
        else
        {
            response.ContentLength = body.Length;
        }

        await response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>The kept answer's usage at the day's per-token price; null for a deployment priced per hour or not at all.</summary>
    public static decimal? Saved(Deployment deployment, Usage usage, DateTimeOffset at) =>
        deployment.Pricing.Hourly is null && deployment.Pricing.On(DateOnly.FromDateTime(at.UtcDateTime)) is DeploymentPrice.PerToken perToken
            ? CostCalculator.Price(usage, perToken.Price).Total
            : null;
}
