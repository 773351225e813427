namespace Tollgate.Policy.Keys;

/// <summary>
/// A virtual key: what a caller may do and who its spend is attributed to. The secret itself is never kept, only its
/// SHA-256 <see cref="Hash"/> and a visible <see cref="Prefix"/> to recognise it by.
/// </summary>
public sealed record VirtualKey
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Prefix { get; init; }
    public required string Hash { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }

    /// <summary>Aliases this key may call; empty means every alias.</summary>
    public IReadOnlyList<string> AllowedModels { get; init; } = [];

    /// <summary>The most output tokens one request of this key may ask for.</summary>
    public int? MaxTokensCap { get; init; }

    /// <summary>The output limit set on this key's requests that have none.</summary>
    public int? MaxTokensDefault { get; init; }

    /// <summary>Attribution this key's requests carry: <c>user</c>, <c>cost_center</c>, <c>feature</c>, <c>project</c>, <c>env</c> or custom tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>When true, request headers and body cannot override <see cref="Tags"/>.</summary>
    public bool LockTags { get; init; }

    /// <summary>Requests and tokens per minute this key may use.</summary>
    public RateLimits.RateLimit RateLimit { get; init; } = new(null, null);

    /// <summary>Why this key cannot be used at <paramref name="now"/>, or null when it can.</summary>
    public string? Unusable(DateTimeOffset now) =>
        RevokedAt is { } revoked && revoked <= now ? "This API key has been revoked."
        : ExpiresAt is { } expires && expires <= now ? "This API key has expired."
        : null;

    public bool Allows(string alias) => AllowedModels.Count == 0 || AllowedModels.Contains(alias, StringComparer.Ordinal);
}
