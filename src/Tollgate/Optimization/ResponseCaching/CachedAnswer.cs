using Tollgate.Metering;

namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// An answer kept for the requests that will ask the same: the bytes the client received (for a stream, every event
/// as sent, the gateway's cost comment aside), the usage the provider billed for it, and where it came from.
/// </summary>
/// <param name="Key">The request's <see cref="ResponseCacheKey"/>.</param>
/// <param name="Tenant">Who may receive it (see <see cref="CacheScope"/>).</param>
/// <param name="Alias">The alias it was asked of.</param>
/// <param name="Deployment">The deployment that answered.</param>
/// <param name="Usage">What the provider billed for the answer: a hit's saving is this usage at the day's price.</param>
/// <param name="SourceRequestId">The request whose answer this is.</param>
/// <param name="CreatedAt">When it was kept.</param>
/// <param name="ContentType">The answer's content type.</param>
/// <param name="Headers">Response headers to give back (the provider's passed-on ones).</param>
/// <param name="Body">The bytes.</param>
public sealed record CachedAnswer(
    string Key,
    string Tenant,
    string Alias,
    string Deployment,
    Usage Usage,
    string SourceRequestId,
    DateTimeOffset CreatedAt,
    string ContentType,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[] Body)
{
    /// <summary>What an entry counts against the cache's size limit: its body and headers plus a fixed 512 bytes for the rest.</summary>
    public long Bytes => Body.Length + 512 + Headers.Sum(h => (long)(h.Key.Length + h.Value.Length) * 2);
}
