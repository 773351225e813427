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

    /// <summary>Endpoints whose answers are cached whole (embeddings are cached item by item: see <see cref="LookItemsAsync"/>).</summary>
    public static bool Caches(GatewayEndpoint endpoint) => endpoint is GatewayEndpoint.ChatCompletions or GatewayEndpoint.Messages;

    private readonly RecentKeys _recentKeys = new();

    public ResponseCacheSettings Settings => settings;

    /// <summary>
    /// Looks the request up. Lookup null when the cache does not apply (off, another alias or endpoint, or the client
    /// said <c>no-store</c>); otherwise the kept answer, if any and the client allows it, and the fill that keeps a fresh
    /// one. <paramref name="bodyBytes"/> are <paramref name="body"/>'s bytes (the key of bytes seen lately is remembered).
    /// Bypassed: the client opted out of being served from the cache.
    /// </summary>
    public async ValueTask<(CacheLookup? Lookup, bool Bypassed)> LookAsync(
        string keyId, IReadOnlyDictionary<string, string>? keyTags, GatewayEndpoint endpoint, string alias, JsonElement body, ReadOnlyMemory<byte> bodyBytes, IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        if (!settings.Covers(alias) || !Caches(endpoint))
        {
            return (null, false);
        }

        var directive = CacheDirective.Read(headers);
        if (!directive.MayStore)
        {
            metrics.CacheMiss("exact", "bypass");
            return (null, true);
        }

        var tenant = settings.Scope.TenantOf(keyId, keyTags);
        var key = _recentKeys.KeyOf(tenant, endpoint, body, bodyBytes.Span);
        var bypassed = !directive.MayServe;
        var hit = bypassed ? null : (await ReadAsync([key], "exact", cancellationToken))?[0];
        if (hit is null && !bypassed)
        {
            metrics.CacheMiss("exact", "miss");
        }

        return (new CacheLookup(hit, new CacheFill(key, tenant, alias, Math.Min(settings.MaxBytes, MaxStreamBytes))), bypassed);
    }

    /// <summary>
    /// Looks each input item of an embeddings request up, in one store read. Items null when the cache does not apply
    /// (off, another alias, the client said <c>no-store</c>, or an input that is not a string or a list of strings or id
    /// arrays).
    /// </summary>
    public async ValueTask<(EmbeddingItems? Items, bool Bypassed)> LookItemsAsync(
        string keyId, IReadOnlyDictionary<string, string>? keyTags, string alias, JsonElement body, IHeaderDictionary headers, CancellationToken cancellationToken)
    {
        if (!settings.Covers(alias))
        {
            return (null, false);
        }

        var directive = CacheDirective.Read(headers);
        var bypassed = !directive.MayServe;
        if (!directive.MayStore)
        {
            metrics.CacheMiss("exact", "bypass");
            return (null, bypassed);
        }

        var tenant = settings.Scope.TenantOf(keyId, keyTags);
        if (EmbeddingItems.Split(tenant, body) is not var (inputs, keys))
        {
            return (null, bypassed);
        }

        var hits = directive.MayServe ? await ReadAsync(keys, "exact", cancellationToken) : null;
        var items = new EmbeddingItems(tenant, alias, inputs, keys, hits ?? new CachedAnswer?[keys.Length], directive.MayStore);
        if (items.Missing.Count > 0 && !bypassed && hits is not null)
        {
            metrics.CacheMiss("exact", "miss");
        }

        return (items, bypassed);
    }

    /// <summary>Keeps answers (an embeddings request's new vectors); a store that fails is logged and counted.</summary>
    public async ValueTask KeepAsync(IReadOnlyList<CachedAnswer> answers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(answers);
        if (answers.Count == 0)
        {
            return;
        }

        try
        {
            await store.PutAsync(answers, cancellationToken);
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
    public ValueTask KeepAsync(
        CacheFill fill, string deployment, Usage usage, string sourceRequestId, string contentType, IReadOnlyList<KeyValuePair<string, string>> headers, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(fill);
        return KeepAsync([new CachedAnswer(fill.Key, fill.Tenant, fill.Alias, deployment, usage, sourceRequestId, time.GetUtcNow(), contentType, headers, body.ToArray())], cancellationToken);
    }

    /// <summary>The live answer under a key (for a semantic hit, the kept answer it found); null when gone or the store fails.</summary>
    public async ValueTask<CachedAnswer?> PeekAsync(string key, CancellationToken cancellationToken) => (await ReadAsync([key], "semantic", cancellationToken))?[0];

    /// <summary>Removes the kept answers the filter selects; null when the store failed (logged).</summary>
    public async ValueTask<int?> PurgeAsync(CachePurgeFilter filter, CancellationToken cancellationToken)
    {
        try
        {
            return await store.PurgeAsync(filter, time.GetUtcNow(), cancellationToken);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
        {
            LogStoreFailed(logger, "purge", ex);
            return null;
        }
    }

    /// <summary>How many answers are kept and their bytes; null when the store failed (logged).</summary>
    public async ValueTask<(long Entries, long Bytes)?> SizeAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await store.SizeAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
        {
            LogStoreFailed(logger, "count", ex);
            return null;
        }
    }

    /// <summary>A store read; a store that throws is logged, counted under <paramref name="cacheName"/> and read as null (nothing).</summary>
    private async ValueTask<CachedAnswer?[]?> ReadAsync(IReadOnlyList<string> keys, string cacheName, CancellationToken cancellationToken)
    {
        try
        {
            return await store.GetManyAsync(keys, time.GetUtcNow(), cancellationToken);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
        {
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
