using Microsoft.AspNetCore.Http;
using Tollgate.Ledger;
using Tollgate.Optimization.ResponseCaching;
using Tollgate.Optimization.SemanticCaching;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// The response-cache stage: before limits and budgets (a kept answer costs nothing), answers the request from the
/// exact cache, the semantic cache, or — for embeddings — the kept vectors of every input; otherwise marks the exchange
/// so that its answer is kept, and says in <see cref="ResponseCache.Header"/> what happened.
/// </summary>
public sealed class ResponseCacheStage(ResponseCache cache, SemanticCache semanticCache, CacheHitResponder hits)
{
    /// <summary>
    /// Embeddings are looked up item by item before anything counts the request: the body is cut down to the inputs not
    /// kept, so that only those are counted, limited, reserved for and sent.
    /// </summary>
    public async ValueTask<(EmbeddingItems? Items, bool Bypassed)> PrepareEmbeddingsAsync(
        CallerIdentity caller, GatewayEndpoint endpoint, ParsedRequest parsed, IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(parsed);
        if (endpoint != GatewayEndpoint.Embeddings)
        {
            return (null, false);
        }

        var (items, bypassed) = await cache.LookItemsAsync(caller.KeyId, caller.Key?.Tags, parsed.Model, parsed.Body, headers, cancellationToken);
        if (items is { Missing.Count: > 0 } && items.Missing.Count < items.Count)
        {
            parsed.ReplaceBody(items.BodyWithMissing(parsed.Body));
        }

        return (items, bypassed);
    }

    /// <summary>Answers from the caches when they can (true: the response is written); else prepares the exchange to fill them.</summary>
    public async Task<bool> TryAnswerAsync(
        HttpContext context, Exchange exchange, IReadOnlyList<Deployment> candidates, CallerIdentity caller, ParsedRequest parsed, EmbeddingItems? embeddingItems, bool bypassed)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(parsed);
        if (embeddingItems is not null)
        {
            if (embeddingItems.Missing.Count == 0)
            {
                await hits.WriteEmbeddingsAsync(context, exchange, candidates, embeddingItems);
                return true;
            }

            exchange.EmbeddingItems = embeddingItems;
            if (embeddingItems.Missing.Count < embeddingItems.Count)
            {
                exchange.ResponseCacheHit = ResponseCacheHit.Partial;
                exchange.ResponseCacheSavedUsd = CacheHitResponder.Saved(exchange.Deployment, embeddingItems.HitUsage, exchange.StartedAt);
            }
        }
        // Responses are stateful (stored by the provider, chained by previous_response_id): not answered from the cache.
        else if (exchange.Endpoint is not (GatewayEndpoint.Embeddings or GatewayEndpoint.Responses))
        {
            (var lookup, bypassed) = await cache.LookAsync(
                caller.KeyId, caller.Key?.Tags, exchange.Endpoint, parsed.Model, parsed.Body, parsed.BodyBytes, context.Request.Headers, context.RequestAborted);
            if (lookup?.Hit is { } hit)
            {
                await hits.WriteAsync(context, exchange, candidates, hit);
                return true;
            }

            if (lookup is not null)
            {
                exchange.CacheFill = lookup.Fill;
                if (!bypassed && await TrySemanticAsync(context, exchange, candidates, parsed, lookup.Fill.Tenant))
                {
                    return true;
                }
            }
        }

        if (exchange.CacheFill is not null || exchange.EmbeddingItems is not null || bypassed)
        {
            context.Response.Headers[ResponseCache.Header] = bypassed ? "bypass" : exchange.ResponseCacheHit == ResponseCacheHit.Partial ? "partial" : "miss";
        }

        return false;
    }

    /// <summary>A question worded otherwise, in the same context: served, verified against the fresh answer, or a miss.</summary>
    private async Task<bool> TrySemanticAsync(HttpContext context, Exchange exchange, IReadOnlyList<Deployment> candidates, ParsedRequest parsed, string tenant)
    {
        if (await semanticCache.LookAsync(tenant, exchange.Endpoint, parsed.Model, exchange.Attribution, parsed.Body, context.RequestAborted) is not { } semantic)
        {
            return false;
        }

        CachedAnswer? kept = null;
        if (semantic is { Nearest: { } nearest, Decision: not BoundedDecision.Miss })
        {
            kept = await cache.PeekAsync(nearest.ExactKey, context.RequestAborted);
            if (kept is null)
            {
                semanticCache.Forget(semantic); // its answer left the exact cache
            }
        }

        if (kept is not null && semantic.Decision == BoundedDecision.Serve)
        {
            await hits.WriteAsync(context, exchange, candidates, kept, semantic.Similarity);
            return true;
        }

        exchange.SemanticLookup = semantic;
        exchange.SemanticVerification = kept;
        if (kept is not null)
        {
            exchange.MarkAsCacheWork(ResponseCacheWork.Verification); // forwarded only to check the kept answer
        }
        return false;
    }

    /// <summary>After a whole answer was kept: the semantic cache remembers its question, and learns from a verification.</summary>
    public async Task KeptAsync(Exchange exchange, ReadOnlyMemory<byte> body, string exactKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        if (exchange.SemanticLookup is not { } semantic)
        {
            return;
        }

        if (exchange.SemanticVerification is { } kept)
        {
            await semanticCache.LearnAsync(exchange.Alias, semantic, kept.Body, body, exchange.Attribution, cancellationToken);
        }

        semanticCache.Remember(semantic, exactKey);
    }
}
