using System.Collections.Concurrent;

namespace Tollgate.Policy.Keys;

/// <summary>What a new key may do, as asked for through the admin API.</summary>
public sealed record KeyRequest(
    string Name,
    IReadOnlyList<string> AllowedModels,
    int? MaxTokensCap,
    IReadOnlyDictionary<string, string> Tags,
    bool LockTags,
    DateTimeOffset? ExpiresAt)
{
    public RateLimits.RateLimit RateLimit { get; init; } = new(null, null);

    public int? MaxTokensDefault { get; init; }
}

/// <summary>
/// The virtual keys a gateway accepts, held in memory (one hash lookup per request) and written through to the store.
/// Every change goes through here, so a revoked key fails on its very next request.
/// </summary>
public sealed class KeyRegistry(IKeyStore store, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, VirtualKey> _byHash = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, VirtualKey> _byId = new(StringComparer.Ordinal);
    private long _seen;

    /// <summary>How many of the latest changes each refresh reads again (see <see cref="RefreshAsync"/>).</summary>
    private const long RereadChanges = 100;

    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        if (await store.ChangedSinceAsync(0, cancellationToken) is { } all)
        {
            // A shared store: everything up to its change counter, followed from there by RefreshAsync.
            RememberAll(all.Keys);
            _seen = all.Next;
            return;
        }

        RememberAll(await store.LoadAllAsync(cancellationToken));
    }

    /// <summary>
    /// Takes in the keys other gateways on a shared store created, revoked or rotated since the last look (see
    /// <see cref="KeyRefresher"/>); false when the store is this gateway's own.
    /// </summary>
    public async Task<bool> RefreshAsync(CancellationToken cancellationToken)
    {
        // The last changes are read again each time: a save that took its counter before another but committed after it
        // is not skipped (rows hold a key's latest state, so reading one twice changes nothing).
        if (await store.ChangedSinceAsync(Math.Max(0, Volatile.Read(ref _seen) - RereadChanges), cancellationToken) is not { } changed)
        {
            return false;
        }

        RememberAll(changed.Keys);
        Volatile.Write(ref _seen, Math.Max(Volatile.Read(ref _seen), changed.Next));
        return true;
    }

    private void RememberAll(IEnumerable<VirtualKey> keys)
    {
        foreach (var key in keys)
        {
            Remember(key);
        }
    }

    public VirtualKey? FindBySecret(string secret)
    {
        var hash = KeySecret.Hash(secret);
        return _byHash.TryGetValue(hash, out var key) && KeySecret.SameHash(key.Hash, hash) ? key : null;
    }

    public IReadOnlyList<VirtualKey> List() => [.. _byId.Values.OrderBy(k => k.CreatedAt)];

    public VirtualKey? Get(string id) => _byId.GetValueOrDefault(id);

    /// <summary>Creates a key; the secret is returned this once and never kept.</summary>
    public async Task<(VirtualKey Key, string Secret)> CreateAsync(KeyRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var secret = KeySecret.New();
        var key = new VirtualKey
        {
            Id = "key_" + Guid.CreateVersion7(time.GetUtcNow()).ToString("N")[..20],
            Name = request.Name,
            Prefix = KeySecret.Prefix(secret),
            Hash = KeySecret.Hash(secret),
            CreatedAt = time.GetUtcNow(),
            ExpiresAt = request.ExpiresAt,
            AllowedModels = request.AllowedModels,
            MaxTokensCap = request.MaxTokensCap,
            Tags = request.Tags,
            LockTags = request.LockTags,
            RateLimit = request.RateLimit,
            MaxTokensDefault = request.MaxTokensDefault,
        };
        await store.SaveAsync(key, cancellationToken);
        Remember(key);
        return (key, secret);
    }

    public async Task<VirtualKey?> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        if (Get(id) is not { } key)
        {
            return null;
        }

        var revoked = key with { RevokedAt = key.RevokedAt ?? time.GetUtcNow() };
        await store.SaveAsync(revoked, cancellationToken);
        Remember(revoked);
        return revoked;
    }

    /// <summary>
    /// Issues a new secret with the same scopes under a new id; the old key keeps working for <paramref name="grace"/>
    /// (zero: it stops at once), so clients can switch without an outage.
    /// </summary>
    public async Task<(VirtualKey Key, string Secret)?> RotateAsync(string id, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (Get(id) is not { } old || old.Unusable(time.GetUtcNow()) is not null)
        {
            return null;
        }

        var replacement = await CreateAsync(new KeyRequest(old.Name, old.AllowedModels, old.MaxTokensCap, old.Tags, old.LockTags, old.ExpiresAt) { RateLimit = old.RateLimit, MaxTokensDefault = old.MaxTokensDefault }, cancellationToken);
        var until = time.GetUtcNow() + grace;
        var retired = grace <= TimeSpan.Zero ? old with { RevokedAt = time.GetUtcNow() } : old with { ExpiresAt = old.ExpiresAt is { } e && e < until ? e : until };
        await store.SaveAsync(retired, cancellationToken);
        Remember(retired);
        return replacement;
    }

    private void Remember(VirtualKey key)
    {
        _byHash[key.Hash] = key;
        _byId[key.Id] = key;
    }
}
