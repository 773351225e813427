namespace Tollgate.Routing;

/// <summary>
/// A router (<c>routers: NAME:</c> in tollgate.yaml): a model name clients call whose requests go to one of its target
/// aliases, chosen by its rules (first match), else its difficulty strategy, else its weights (sticky per user or
/// session), else its first target.
/// The other targets follow the chosen one as fall-throughs when it is down or rate-limited.
/// </summary>
/// <param name="Name">The model name clients send.</param>
/// <param name="Targets">The aliases it routes to, in fall-through order.</param>
/// <param name="Reference">The target the counterfactual cost is priced on; null: the one with the highest list price.</param>
/// <param name="Sticky">Who the weights keep on one target.</param>
/// <param name="Rules">Tried in order; the first that matches decides.</param>
/// <param name="Weights">Shares per target when no rule matches (empty: the first target).</param>
public sealed record RouterSettings(
    string Name, IReadOnlyList<string> Targets, string? Reference, StickyBy Sticky, IReadOnlyList<RouteRule> Rules, IReadOnlyList<TargetWeight> Weights)
{
    /// <summary>The difficulty strategy, tried after the rules; null: none.</summary>
    public Difficulty.DifficultySettings? Difficulty { get; init; }

    /// <summary>The cost-aware strategy, after difficulty: the cheapest healthy target whose context window fits the request.</summary>
    public bool Cheapest { get; init; }
}

/// <summary>A target's share of a weighted router (any non-negative numbers; shares are each one's part of their sum).</summary>
public sealed record TargetWeight(string Target, decimal Weight);

/// <summary>Where a router sent a request and why: <c>rule:NAME</c>, <c>difficulty:SCORE</c>, <c>cheapest</c>, <c>weight:TARGET</c> or <c>default</c>.</summary>
public sealed record RouteChoice(string Router, string Target, string Reason)
{
    /// <summary>The prompt's vector when the difficulty strategy embedded it (kept with the record's prompt facts).</summary>
    public (string Embedder, float[] Values)? Embedding { get; init; }
}
