namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// Where kept answers live: the process's memory (<see cref="MemoryResponseCacheStore"/>) or, for several replicas,
/// the shared PostgreSQL database (<c>Ledger.Postgres.PostgresResponseCacheStore</c>, behind a <see cref="ReplicaNearCache"/>). A store that fails makes the
/// request a miss (see <see cref="ResponseCache"/>), never an error.
/// </summary>
public interface IResponseCacheStore
{
    /// <summary>
    /// The live answers under <paramref name="keys"/> (not expired), in their order, null where there is none, marked
    /// as just used: one key for a chat request, an embeddings request's items at once.
    /// </summary>
    ValueTask<CachedAnswer?[]> GetManyAsync(IReadOnlyList<string> keys, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Keeps answers (replacing those under the same keys), then evicts the least recently used past the size limit.</summary>
    ValueTask PutAsync(IReadOnlyList<CachedAnswer> answers, CancellationToken cancellationToken);

    /// <summary>Removes the answers <paramref name="filter"/> selects; returns how many.</summary>
    ValueTask<int> PurgeAsync(CachePurgeFilter filter, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>How many answers are kept and the bytes they count for.</summary>
    ValueTask<(long Entries, long Bytes)> SizeAsync(CancellationToken cancellationToken);
}

/// <summary>Reading one answer from any store.</summary>
public static class ResponseCacheStoreExtensions
{
    /// <summary>The live answer under <paramref name="key"/>, marked as just used; null when there is none.</summary>
    public static async ValueTask<CachedAnswer?> GetAsync(this IResponseCacheStore store, string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        return (await store.GetManyAsync([key], now, cancellationToken))[0];
    }
}

/// <summary>Which kept answers a purge removes: all that match every condition given (none given: everything).</summary>
/// <param name="Tenant">Only this tenant's (<c>key:ID</c>, <c>tag:NAME=VALUE</c> or <c>global</c>).</param>
/// <param name="Alias">Only answers asked of this alias.</param>
/// <param name="OlderThan">Only answers kept longer ago than this.</param>
public sealed record CachePurgeFilter(string? Tenant, string? Alias, TimeSpan? OlderThan)
{
    public bool Matches(CachedAnswer answer, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(answer);
        return (Tenant is null || answer.Tenant == Tenant)
            && (Alias is null || answer.Alias == Alias)
            && (OlderThan is not { } age || now - answer.CreatedAt > age);
    }
}
