namespace Tollgate.Optimization.ResponseCaching;

/// <summary>Where kept answers live. A store that fails makes the request a miss (see <see cref="ResponseCache"/>), never an error.</summary>
public interface IResponseCacheStore
{
    /// <summary>The live answer under <paramref name="key"/> (not expired), marked as just used; null when there is none.</summary>
    CachedAnswer? Get(string key, DateTimeOffset now);

    /// <summary>Keeps an answer (replacing one under the same key), then evicts the least recently used past the size limit.</summary>
    void Put(CachedAnswer answer);

    /// <summary>Removes the answers <paramref name="filter"/> selects; returns how many.</summary>
    int Purge(CachePurgeFilter filter, DateTimeOffset now);

    /// <summary>How many answers are kept and the bytes they count for.</summary>
    (long Entries, long Bytes) Size { get; }
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
