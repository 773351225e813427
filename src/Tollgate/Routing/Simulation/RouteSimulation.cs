using System.Globalization;
using System.Text;
using System.Text.Json;
using Tollgate.Ledger;
using Tollgate.Metering;

namespace Tollgate.Routing.Simulation;

/// <summary>
/// <c>tollgate route simulate</c>: what a router would have spent on recorded traffic. Each record (of the aliases
/// given, by default the router's targets) is routed again from what the ledger keeps — key, feature, tags, user and
/// session, prompt and output tokens — and its usage priced at the chosen target's price. The ledger never keeps
/// prompts: a record that kept its prompt's facts (<c>storage.record_prompt_facts</c>) replays the rules on characters,
/// tools, images and response format too, and the difficulty strategy when it kept a vector of the strategy's
/// embedder (and <paramref name="difficulty"/> is given); rules on a regex never replay. What could not decide is
/// left out for that record, and the report says which and how often.
/// </summary>
public sealed class RouteSimulation(RouterSettings router, ConfiguredTargets targets, Difficulty.DifficultyScorer? difficulty = null)
{
    /// <summary>For records that kept their prompt's facts: every rule but the regex ones, and the difficulty strategy.</summary>
    private readonly Router _withFacts = new(
        router with { Rules = [.. router.Rules.Where(r => r.Pattern is null)] }, null, router.Difficulty is null ? null : difficulty, targets);

    /// <summary>For records without: only what the ledger always keeps.</summary>
    private readonly Router _withoutFacts = new(
        router with { Rules = [.. router.Rules.Where(r => !ReadsPrompt(r))], Difficulty = null }, null, null, targets);

    /// <summary>The rules that never replay (they read the prompt's text).</summary>
    public IReadOnlyList<string> SkippedRules { get; } = [.. router.Rules.Where(r => r.Pattern is not null).Select(r => r.Name)];

    /// <summary>The rules that replay only on records that kept their prompt's facts.</summary>
    public IReadOnlyList<string> FactRules { get; } = [.. router.Rules.Where(r => r.Pattern is null && ReadsPrompt(r)).Select(r => r.Name)];

    public async Task<SimulationResult> RunAsync(IAsyncEnumerable<UsageRecord> records, IReadOnlySet<string> aliases, DateTimeOffset until, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(aliases);
        var rows = new Dictionary<string, SimulatedTarget>(StringComparer.Ordinal);
        var unpriced = 0L;
        var withFacts = 0L;
        var withVector = 0L;
        var replayed = 0L;
        var difficultyName = router.Difficulty?.Embedder;
        await foreach (var record in records.WithCancellation(cancellationToken))
        {
            // Only calls a provider was paid for: cache hits and errors without usage would be routed for nothing.
            if (record.Timestamp >= until || !aliases.Contains(record.Alias) || record.ResponseCacheHit is ResponseCacheHit.Exact or ResponseCacheHit.Semantic || !record.Usage.IsReported)
            {
                continue;
            }

            replayed++;
            var facts = record.PromptFacts;
            withFacts += facts is null ? 0 : 1;
            withVector += facts?.Vector?.Embedder is { } name && name == difficultyName ? 1 : 0;
            var request = new RouteRequest(default, record.Attribution, () => record.Usage.InputTokens ?? 0)
            {
                RecordedOutputTokens = record.Usage.OutputTokens ?? 0,
                RecordedFacts = facts,
            };
            var choice = await (facts is null ? _withoutFacts : _withFacts).DecideAsync(request, cancellationToken);
            var row = rows.TryGetValue(choice.Target, out var known) ? known : rows[choice.Target] = new SimulatedTarget(choice.Target);
            var simulated = targets.PriceOf(choice.Target) is { } price ? CostCalculator.Price(record.Usage, price.At(record.Timestamp)).Total : null;
            if (simulated is null || record.Cost.Total is null)
            {
                unpriced++;
                continue;
            }

            row.Requests++;
            row.RecordedUsd += record.Cost.Total.Value;
            row.SimulatedUsd += simulated.Value;
            row.Reasons[choice.Reason] = row.Reasons.GetValueOrDefault(choice.Reason) + 1;
        }

        return new SimulationResult([.. rows.Values.OrderBy(r => r.Target, StringComparer.Ordinal)], unpriced, SkippedRules, router.Difficulty is not null)
        {
            Replayed = replayed,
            WithFacts = withFacts,
            WithVector = withVector,
            FactRules = FactRules,
            DifficultyEmbedder = router.Difficulty is null ? null : difficulty is null ? null : difficultyName,
        };
    }

    private static bool ReadsPrompt(RouteRule rule) =>
        rule.MinChars is not null || rule.MaxChars is not null || rule.Tools is not null || rule.Images is not null || rule.ResponseFormat is not null || rule.Pattern is not null;
}

/// <summary>The records a simulation sent to one target: what they cost as recorded, and what they would have cost there.</summary>
public sealed class SimulatedTarget(string target)
{
    public string Target { get; } = target;
    public long Requests { get; set; }
    public decimal RecordedUsd { get; set; }
    public decimal SimulatedUsd { get; set; }
    public Dictionary<string, long> Reasons { get; } = new(StringComparer.Ordinal);
}

public sealed record SimulationResult(IReadOnlyList<SimulatedTarget> Targets, long Unpriced, IReadOnlyList<string> SkippedRules, bool HasDifficulty)
{
    /// <summary>Records routed again.</summary>
    public long Replayed { get; init; }

    /// <summary>Of those, the ones that kept their prompt's facts (the rules in <see cref="FactRules"/> replayed on them).</summary>
    public long WithFacts { get; init; }

    /// <summary>Of those, the ones whose kept vector is the difficulty strategy's embedder's.</summary>
    public long WithVector { get; init; }

    /// <summary>Rules that replay on records that kept their prompt's facts only.</summary>
    public IReadOnlyList<string> FactRules { get; init; } = [];

    /// <summary>The difficulty strategy's embedder when the strategy was replayed (null: not replayed at all).</summary>
    public string? DifficultyEmbedder { get; init; }

    public string Report(string router)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine($"Router {router}, replayed on recorded requests:");
        text.AppendLine();
        text.AppendLine("| target | requests | as recorded (USD) | routed (USD) | decided by |");
        text.AppendLine("|---|---:|---:|---:|---|");
        foreach (var t in Targets)
        {
            text.AppendLine(string.Create(c, $"| {t.Target} | {t.Requests:N0} | {t.RecordedUsd} | {t.SimulatedUsd} | {string.Join(", ", t.Reasons.OrderByDescending(r => r.Value).Select(r => $"{r.Key} ×{r.Value}"))} |"));
        }

        var recorded = Targets.Sum(t => t.RecordedUsd);
        var simulated = Targets.Sum(t => t.SimulatedUsd);
        text.AppendLine(string.Create(c, $"| total | {Targets.Sum(t => t.Requests):N0} | {recorded} | {simulated} | |"));
        text.AppendLine();
        text.AppendLine(string.Create(c, $"Routed, these requests would have cost {simulated} USD against {recorded} USD as recorded ({(recorded == 0 ? 0 : (simulated - recorded) / recorded):+0.0%;-0.0%;0%})."));
        if (Unpriced > 0)
        {
            text.AppendLine(string.Create(c, $"{Unpriced:N0} requests were left out: no price for them as recorded or on the target chosen."));
        }

        if (FactRules.Count > 0 || HasDifficulty)
        {
            text.AppendLine(string.Create(c, $"Prompt facts (storage.record_prompt_facts) were kept by {WithFacts:N0} of the {Replayed:N0} records replayed: on those only, {Describe(FactRules.Select(r => $"rule {r}"))} decided; on the others they were skipped."));
        }

        if (HasDifficulty)
        {
            text.AppendLine(DifficultyEmbedder is { } embedder
                ? string.Create(c, $"The difficulty strategy scored the {WithVector:N0} records that kept a vector of its embedder ({embedder}: storage.prompt_facts_embedder); the others went on to the next strategy.")
                : "Not replayed: the difficulty strategy (its embedder cannot run offline, or its vectors were not kept).");
        }

        if (SkippedRules.Count > 0)
        {
            text.AppendLine($"Not replayed (the ledger never keeps prompt text): {string.Join(", ", SkippedRules.Select(r => $"rule {r}"))}.");
        }

        return text.ToString();
    }

    private string Describe(IEnumerable<string> rules)
    {
        var all = rules.Concat(HasDifficulty && DifficultyEmbedder is not null ? ["the difficulty strategy (with a kept vector)"] : []).ToList();
        return all.Count == 0 ? "nothing more" : string.Join(", ", all);
    }
}
