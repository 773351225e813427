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

    /// <summary>Answers from a kept answer: an exact hit, or (with <paramref name="similarity"/>) a semantic one.</summary>
    /// <param name="context">The request.</param>
    /// <param name="exchange">The request's trip through the gateway.</param>
    /// <param name="candidates">The alias's deployments (the saving is priced on the one that gave the answer).</param>
    /// <param name="answer">The kept answer.</param>
    /// <param name="similarity">For a semantic hit, the similarity of the question to the kept one; null for an exact hit.</param>
    public async Task WriteAsync(HttpContext context, Exchange exchange, IReadOnlyList<Deployment> candidates, CachedAnswer answer, double? similarity = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(answer);
        var deployment = candidates.FirstOrDefault(d => d.Name == answer.Deployment) ?? candidates[0];
        var saved = Saved(deployment, answer.Usage, exchange.StartedAt);
        await RecordAsync(exchange, deployment, saved, similarity);

        var response = context.Response;
        foreach (var (name, value) in answer.Headers)
        {
            response.Headers[name] = value;
        }

        response.Headers[ResponseCache.SourceHeader] = answer.SourceRequestId;
        await WriteBodyAsync(context, exchange, deployment, saved, answer.ContentType, answer.Body, similarity);
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
        await RecordAsync(exchange, deployment, saved, null);
        await WriteBodyAsync(context, exchange, deployment, saved, "application/json", items.AllKept(deployment.Config.Model), null);
    }

    private async Task RecordAsync(Exchange exchange, Deployment deployment, decimal? saved, double? similarity)
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
            ResponseCacheHit = similarity is null ? ResponseCacheHit.Exact : ResponseCacheHit.Semantic,
            ResponseCacheSimilarity = similarity,
            ResponseCacheSavedUsd = saved,
        };
        metrics.Recorded(record);
        await ledger.EnqueueAsync(record);
    }

    private static async Task WriteBodyAsync(HttpContext context, Exchange exchange, Deployment deployment, decimal? saved, string contentType, byte[] body, double? similarity)
    {
        var response = context.Response;
        response.Headers[ProxyRequestHandler.DeploymentHeader] = deployment.Name;
        response.Headers[ResponseCache.Header] = similarity is { } s ? string.Create(CultureInfo.InvariantCulture, $"semantic; similarity={s:0.0000}") : "hit";
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
    public static decimal? Saved(Deployment deployment, Usage usage, DateTimeOffset at) => deployment?.PriceOf(usage, at);
}
