namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// The exact response cache (<c>cache: exact:</c> in tollgate.yaml). Off unless configured: a cache changes what a
/// client receives (a sampled answer is given again), so a team turns it on knowingly.
/// </summary>
/// <param name="Enabled">Whether answers are kept and served.</param>
/// <param name="Ttl">How long an answer is served after it was kept.</param>
/// <param name="MaxBytes">The most the kept answers may take (bodies plus a fixed overhead each); the least recently used go first.</param>
/// <param name="Scope">Who shares answers.</param>
/// <param name="Aliases">The aliases whose answers are cached; empty: every alias.</param>
public sealed record ResponseCacheSettings(bool Enabled, TimeSpan Ttl, long MaxBytes, CacheScope Scope, IReadOnlyList<string> Aliases)
{
    /// <summary>Whether answers are kept in the shared PostgreSQL database (every replica serves them; they survive a restart) rather than in memory.</summary>
    public bool Shared { get; init; }

    public static ResponseCacheSettings Off { get; } = new(false, TimeSpan.FromHours(1), 256L * 1024 * 1024, CacheScope.PerKey, []);

    /// <summary>Whether requests to <paramref name="alias"/> are served from and kept in the cache.</summary>
    public bool Covers(string alias) => Enabled && (Aliases.Count == 0 || Aliases.Contains(alias, StringComparer.Ordinal));
}
