namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// Where kept answers live: the process's memory (<see cref="MemoryResponseCacheStore"/>) or, for several replicas,
/// the shared PostgreSQL database (<c>Ledger.Postgres.PostgresResponseCacheStore</c>). A store that fails makes the
/// request a miss (see <see cref="ResponseCache"/>), never an error.
/// </summary>
public interface IResponseCacheStore
{
    /// <summary>The live answer under <paramref name="key"/> (not expired), marked as just used; null when there is none.</summary>
    ValueTask<CachedAnswer?> GetAsync(string key, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The live answers under <paramref name="keys"/>, in their order (null where there is none): an embeddings request's items at once.</summary>
    ValueTask<CachedAnswer?[]> GetManyAsync(IReadOnlyList<string> keys, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Keeps answers (replacing those under the same keys), then evicts the least recently used past the size limit.</summary>
    ValueTask PutAsync(IReadOnlyList<CachedAnswer> answers, CancellationToken cancellationToken);

    /// <summary>Removes the answers <paramref name="filter"/> selects; returns how many.</summary>
    ValueTask<int> PurgeAsync(CachePurgeFilter filter, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>How many answers are kept and the bytes they count for.</summary>
    ValueTask<(long Entries, long Bytes)> SizeAsync(CancellationToken cancellationToken);
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
