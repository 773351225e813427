namespace Tollgate.Routing;

/// <summary>
/// Decides a router's target for one request: the first rule that matches; else a weighted draw, by a hash of the user
/// (or session) when the router is sticky so that one person stays on one target while the weights stay the same;
/// else the first target. Raising a canary's share only moves people onto the canary when it is listed last (its
/// bucket grows downwards from the top), so those already on it stay.
/// </summary>
public sealed class Router(RouterSettings settings, Gateway.Pipeline.Deployment? reference, Difficulty.DifficultyScorer? difficulty = null, ITargetFacts? facts = null)
{
    private readonly decimal _totalWeight = settings.Weights.Sum(w => w.Weight);

    public RouterSettings Settings => settings;

    /// <summary>The deployment the counterfactual cost is priced on (null: it has no per-token price).</summary>
    public Gateway.Pipeline.Deployment? Reference => reference;

    public async ValueTask<RouteChoice> DecideAsync(RouteRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        foreach (var rule in settings.Rules)
        {
            if (rule.Matches(request))
            {
                return new RouteChoice(settings.Name, rule.Target, "rule:" + rule.Name);
            }
        }

        if (difficulty is not null && await ScoreAsync(difficulty, request, cancellationToken) is { } scored
            && (scored.Strong || difficulty.Settings.Cheap is not null))
        {
            var reason = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"difficulty:{scored.Score:0.000}");
            return new RouteChoice(settings.Name, scored.Strong ? difficulty.Settings.Strong : difficulty.Settings.Cheap!, reason) { Embedding = scored.Vector is { } v ? (difficulty.EmbedderName, v) : null };
        }

        if (settings.Cheapest && facts is not null && Cheapest(request) is { } cheapest)
        {
            return new RouteChoice(settings.Name, cheapest, "cheapest");
        }

        if (_totalWeight > 0)
        {
            var key = request.StickyKey(settings.Sticky);
            var point = (decimal)(key is null ? Random.Shared.NextDouble() : Fraction(settings.Name, key)) * _totalWeight;
            var upTo = 0m;
            foreach (var weight in settings.Weights)
            {
                upTo += weight.Weight;
                if (point < upTo)
                {
                    return new RouteChoice(settings.Name, weight.Target, "weight:" + weight.Target);
                }
            }

            var last = settings.Weights.Last(w => w.Weight > 0);
            return new RouteChoice(settings.Name, last.Target, "weight:" + last.Target);
        }

        return new RouteChoice(settings.Name, settings.Targets[0], "default");
    }

    /// <summary>
    /// The difficulty score of a live prompt (embedded now), or of a replayed record by the vector kept with it — only
    /// one made by the scorer's own embedder; a record without one is not scored.
    /// </summary>
    private static async ValueTask<(double Score, bool Strong, float[]? Vector)?> ScoreAsync(
        Difficulty.DifficultyScorer difficulty, RouteRequest request, CancellationToken cancellationToken)
    {
        if (request.Replayed)
        {
            return request.RecordedFacts?.Vector is { } kept && kept.Embedder == difficulty.EmbedderName
                && await difficulty.ScoreVectorAsync(kept.ToFloats(), request.Attribution, cancellationToken) is { } replayed
                    ? (replayed.Score, replayed.Strong, null)
                    : null;
        }

        return await difficulty.ScoreAsync(request.LastUserText, request.Attribution, cancellationToken) is { } live
            ? (live.Score, live.Strong, live.Vector)
            : null;
    }

    /// <summary>The cheapest healthy target whose context window holds the prompt and the output asked for; null when none does.</summary>
    private string? Cheapest(RouteRequest request)
    {
        long? needed = null;
        foreach (var target in settings.Targets.OrderBy(t => facts!.ListPrice(t) ?? decimal.MaxValue))
        {
            if (!facts!.IsHealthy(target))
            {
                continue;
            }

            if (facts.ContextWindow(target) is { } window && (needed ??= request.PromptTokens() + request.MaxOutputTokens) > window)
            {
                continue;
            }

            return target;
        }

        return null;
    }

    /// <summary>A point in [0, 1) fixed for a router and a person: FNV-1a over both, mixed by SplitMix64's finaliser.</summary>
    public static double Fraction(string router, string key)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(key);
        var hash = 14695981039346656037UL;
        foreach (var c in router)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        hash = (hash ^ '\n') * 1099511628211UL;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        hash ^= hash >> 30;
        hash *= 0xBF58476D1CE4E5B9UL;
        hash ^= hash >> 27;
        hash *= 0x94D049BB133111EBUL;
        hash ^= hash >> 31;
        return (hash >> 11) * (1.0 / (1UL << 53));
    }
}
