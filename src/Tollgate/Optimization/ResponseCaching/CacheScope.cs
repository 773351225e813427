namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// Who may receive an answer another request paid for. <c>key</c> (the default): only the same API key. <c>tag:NAME</c>:
/// keys that carry the same value of the tag NAME among the tags an admin gave them (never a tag the client sends in a
/// header, which any caller could set); a key without that tag keeps its own entries. <c>global</c>: every caller.
/// </summary>
public sealed record CacheScope(string Kind, string? TagName)
{
    public static CacheScope PerKey { get; } = new("key", null);

    public static CacheScope Global { get; } = new("global", null);

    /// <summary>Reads <c>key</c>, <c>global</c> or <c>tag:NAME</c>; null for anything else.</summary>
    public static CacheScope? Parse(string text) => text switch
    {
        "key" => PerKey,
        "global" => Global,
        _ when text.StartsWith("tag:", StringComparison.Ordinal) && text.Length > 4 => new CacheScope("tag", text[4..]),
        _ => null,
    };

    /// <summary>The tenant a caller's entries belong to.</summary>
    public string TenantOf(string keyId, IReadOnlyDictionary<string, string>? keyTags)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        if (Kind == "global")
        {
            return "global";
        }

        if (TagName is { } tag && keyTags is not null && keyTags.TryGetValue(tag, out var value))
        {
            return $"tag:{tag}={value}";
        }

        return "key:" + keyId;
    }

    public override string ToString() => TagName is null ? Kind : "tag:" + TagName;
}
