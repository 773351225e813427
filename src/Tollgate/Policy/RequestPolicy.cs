namespace Tollgate.Policy;

/// <summary>
/// Gateway-wide request discipline: tags every request must carry, and a <c>max_tokens</c> default and cap, globally and
/// per feature (a feature's own setting wins). From config <c>policies:</c>.
/// </summary>
public sealed record RequestPolicy(IReadOnlyList<string> RequiredTags, MaxTokensRule Global, IReadOnlyDictionary<string, MaxTokensRule> ByFeature)
{
    public static RequestPolicy None { get; } = new([], new MaxTokensRule(null, null), new Dictionary<string, MaxTokensRule>());

    /// <summary>When true, a chat request without <c>max_tokens</c> (or <c>max_completion_tokens</c>) is refused.</summary>
    public bool RequireMaxTokens { get; init; }

    /// <summary>The rule for a request of <paramref name="feature"/>: the feature's values, else the global ones.</summary>
    public MaxTokensRule RuleFor(string? feature) =>
        feature is not null && ByFeature.TryGetValue(feature, out var rule)
            ? new MaxTokensRule(rule.Default ?? Global.Default, rule.Cap ?? Global.Cap)
            : Global;
}

/// <summary><c>max_tokens</c> to set when a request has none, and the most a request may ask for.</summary>
public sealed record MaxTokensRule(int? Default, int? Cap);
