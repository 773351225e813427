using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tollgate.Metering;
using Tollgate.Providers;

namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// The exact response cache's decisions: whether a request may be served from the cache or kept in it, its key, and
/// keeping and purging answers. A store that throws is logged and counted, and the request goes on as a miss: the
/// cache can make a request cheaper, never make it fail.
/// </summary>
public sealed partial class ResponseCache(
    ResponseCacheSettings settings, IResponseCacheStore store, Analytics.Metrics.GatewayMetrics metrics, TimeProvider time, ILogger<ResponseCache> logger)
{
    /// <summary>Response header: <c>hit</c>, <c>miss</c> (the answer was kept), or <c>bypass</c> (the client opted out).</summary>
    public const string Header = "X-Tollgate-Cache";

    /// <summary>Response header of a hit: the request whose answer it is.</summary>
    public const string SourceHeader = "X-Tollgate-Cache-Of";

    /// <summary>Response header of a hit: what the call would have cost from the provider.</summary>
    public const string SavedHeader = "X-Tollgate-Saved-USD";

    /// <summary>Endpoints whose answers are cached whole (embeddings are cached item by item: see <see cref="LookItems"/>).</summary>
    public static bool Caches(GatewayEndpoint endpoint) => endpoint is GatewayEndpoint.ChatCompletions or GatewayEndpoint.Messages;

    private readonly RecentKeys _recentKeys = new();

    public ResponseCacheSettings Settings => settings;

    public IResponseCacheStore Store => store;

    /// <summary>
    /// Looks the request up. Null when the cache does not apply (off, another alias or endpoint, or the client said
    /// <c>no-store</c>); otherwise the kept answer, if any and the client allows it, and the fill that keeps a fresh one.
    /// <paramref name="bodyBytes"/> are <paramref name="body"/>'s bytes (the key of bytes seen lately is remembered).
    /// </summary>
    public CacheLookup? Look(
        string keyId, IReadOnlyDictionary<string, string>? keyTags, GatewayEndpoint endpoint, string alias, JsonElement body, ReadOnlySpan<byte> bodyBytes, IHeaderDictionary headers, out bool bypassed)
    {
        bypassed = false;
        if (!settings.Covers(alias) || !Caches(endpoint))
        {
            return null;
        }

        var directive = CacheDirective.Read(headers);
        if (!directive.MayStore)
        {
            bypassed = true;
            metrics.CacheMiss("exact", "bypass");
            return null;
        }

        var tenant = settings.Scope.TenantOf(keyId, keyTags);
        var key = _recentKeys.KeyOf(tenant, endpoint, body, bodyBytes);
        CachedAnswer? hit = null;
        if (directive.MayServe)
        {
            hit = Read(key, time.GetUtcNow(), "exact", out _);
        }
        else
        {
            bypassed = true;
        }

        if (hit is null && !bypassed)
        {
            metrics.CacheMiss("exact", "miss");
        }

        return new CacheLookup(hit, new CacheFill(key, tenant, alias, Math.Min(settings.MaxBytes, MaxStreamBytes)));
    }

    /// <summary>
    /// Looks each input item of an embeddings request up. Null when the cache does not apply (off, another alias, the
    /// client said <c>no-store</c>, or an input that is not a string or a list of strings or id arrays).
    /// </summary>
    public EmbeddingItems? LookItems(string keyId, IReadOnlyDictionary<string, string>? keyTags, string alias, JsonElement body, IHeaderDictionary headers, out bool bypassed)
    {
        bypassed = false;
        if (!settings.Covers(alias))
        {
            return null;
        }

        var directive = CacheDirective.Read(headers);
        bypassed = !directive.MayServe;
        if (!directive.MayStore)
        {
            metrics.CacheMiss("exact", "bypass");
            return null;
        }

        var now = time.GetUtcNow();
        var failed = false;
        CachedAnswer? Get(string key) => failed ? null : Read(key, now, "exact", out failed);

        var items = EmbeddingItems.Look(settings.Scope.TenantOf(keyId, keyTags), alias, body, directive.MayServe, directive.MayStore, Get);
        if (items is { Missing.Count: > 0 } && !bypassed && !failed)
        {
            metrics.CacheMiss("exact", "miss");
        }

        return items;
    }

    /// <summary>Keeps one answer (an embeddings item's vector); a store that fails is logged and counted.</summary>
    public void Keep(CachedAnswer answer)
    {
        try
        {
            store.Put(answer);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            metrics.CacheMiss("exact", "store_error");
            LogStoreFailed(logger, "write", ex);
        }
    }

    /// <summary>The largest stream collected for keeping; a longer one is passed on and not kept.</summary>
    public const long MaxStreamBytes = 16L * 1024 * 1024;

    /// <summary>Keeps a successful answer for the requests that will ask the same.</summary>
    public void Keep(CacheFill fill, string deployment, Usage usage, string sourceRequestId, string contentType, IReadOnlyList<KeyValuePair<string, string>> headers, ReadOnlyMemory<byte> body)
    {
        ArgumentNullException.ThrowIfNull(fill);
        Keep(new CachedAnswer(fill.Key, fill.Tenant, fill.Alias, deployment, usage, sourceRequestId, time.GetUtcNow(), contentType, headers, body.ToArray()));
    }

    /// <summary>The live answer under a key (for a semantic hit, the kept answer it found); null when gone or the store fails.</summary>
    public CachedAnswer? Peek(string key) => Read(key, time.GetUtcNow(), "semantic", out _);

    /// <summary>Removes the kept answers the filter selects; null when the store failed (logged).</summary>
    public int? Purge(CachePurgeFilter filter)
    {
        try
        {
            return store.Purge(filter, time.GetUtcNow());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogStoreFailed(logger, "purge", ex);
            return null;
        }
    }

    /// <summary>A store read; a store that throws is logged, counted under <paramref name="cacheName"/> and read as nothing.</summary>
    private CachedAnswer? Read(string key, DateTimeOffset now, string cacheName, out bool failed)
    {
        failed = false;
        try
        {
            return store.Get(key, now);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            failed = true;
            metrics.CacheMiss(cacheName, "store_error");
            LogStoreFailed(logger, "read", ex);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The response cache failed to {Operation}; a request is served as a miss, a purge is refused.")]
    private static partial void LogStoreFailed(ILogger logger, string operation, Exception exception);
}

/// <summary>A cache look-up's result: the kept answer (null on a miss) and the fill that keeps the fresh answer.</summary>
public sealed record CacheLookup(CachedAnswer? Hit, CacheFill Fill);
