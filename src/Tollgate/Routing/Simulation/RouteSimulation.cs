using System.Globalization;
using System.Text;
using System.Text.Json;
using Tollgate.Ledger;
using Tollgate.Metering;

namespace Tollgate.Routing.Simulation;

/// <summary>
/// <c>tollgate route simulate</c>: what a router would have spent on recorded traffic. Each record (of the aliases
/// given, by default the router's targets) is routed again from what the ledger keeps — key, feature, tags, user and
/// session, prompt and output tokens — and its usage priced at the chosen target's price. The ledger does not keep
/// prompts, so rules that read the prompt (characters, tools, images, response format, a regex) and the difficulty
/// strategy cannot decide here: they are left out, and the report says which.
/// </summary>
public sealed class RouteSimulation(RouterSettings router, ConfiguredTargets targets)
{
    private readonly Router _replayed = new(
        router with { Rules = [.. router.Rules.Where(r => !ReadsPrompt(r))], Difficulty = null }, null, null, targets);

    /// <summary>The rules the ledger cannot evaluate (they read the prompt's text or shape).</summary>
    public IReadOnlyList<string> SkippedRules { get; } = [.. router.Rules.Where(ReadsPrompt).Select(r => r.Name)];

    public async Task<SimulationResult> RunAsync(IAsyncEnumerable<UsageRecord> records, IReadOnlySet<string> aliases, DateTimeOffset until, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(aliases);
        var rows = new Dictionary<string, SimulatedTarget>(StringComparer.Ordinal);
        var unpriced = 0L;
        await foreach (var record in records.WithCancellation(cancellationToken))
        {
            // Only calls a provider was paid for: cache hits and errors without usage would be routed for nothing.
            if (record.Timestamp >= until || !aliases.Contains(record.Alias) || record.ResponseCacheHit is ResponseCacheHit.Exact or ResponseCacheHit.Semantic || !record.Usage.IsReported)
            {
                continue;
            }

            var request = new RouteRequest(default, record.Attribution, () => record.Usage.InputTokens ?? 0) { RecordedOutputTokens = record.Usage.OutputTokens ?? 0 };
            var choice = await _replayed.DecideAsync(request, cancellationToken);
            var row = rows.TryGetValue(choice.Target, out var known) ? known : rows[choice.Target] = new SimulatedTarget(choice.Target);
            var simulated = targets.PriceOf(choice.Target) is { } price ? CostCalculator.Price(record.Usage, price).Total : null;
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

        return new SimulationResult([.. rows.Values.OrderBy(r => r.Target, StringComparer.Ordinal)], unpriced, SkippedRules, router.Difficulty is not null);
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

public sealed record SimulationResult(IReadOnlyList<SimulatedTarget> Targets, long Unpriced, IReadOnlyList<string> SkippedRules, bool SkippedDifficulty)
{
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

        if (SkippedRules.Count > 0 || SkippedDifficulty)
        {
            text.AppendLine($"Not replayed (the ledger keeps no prompts): {string.Join(", ", SkippedRules.Select(r => $"rule {r}").Concat(SkippedDifficulty ? ["the difficulty strategy"] : []))}.");
        }

        return text.ToString();
    }
}
