using System.Text.RegularExpressions;
using Tollgate.Ledger;

namespace Tollgate.Analytics.Reconciliation;

/// <summary>One day × model (× project) where the ledger and the provider's export disagree.</summary>
/// <param name="Day">The UTC day.</param>
/// <param name="Model">The model, without its date suffix.</param>
/// <param name="Kind"><c>missing_in_export</c>, <c>missing_in_ledger</c> or <c>differs</c>.</param>
/// <param name="LedgerUsd">What the ledger recorded.</param>
/// <param name="ProviderUsd">What the provider's export says.</param>
/// <param name="LedgerRecords">How many records the ledger holds there.</param>
/// <param name="UpstreamRequestIds">The provider's ids of the ledger's calls that day on that model (at most 20): what to look up in its logs.</param>
/// <param name="Project">The provider's project or workspace, when the export is grouped by it; null otherwise.</param>
public sealed record InvoiceDifference(
    DateOnly Day, string Model, string Kind, decimal LedgerUsd, decimal ProviderUsd, int LedgerRecords, IReadOnlyList<string> UpstreamRequestIds, string? Project = null)
{
    public decimal DifferenceUsd => ProviderUsd - LedgerUsd;
}

/// <summary>
/// <c>tollgate reconcile</c>: the ledger against a provider's cost export, per UTC day and model, over the days the
/// export covers. Model names are compared without their date suffix (<c>gpt-4o-mini-2024-07-18</c> is
/// <c>gpt-4o-mini</c>, <c>claude-sonnet-4-5-20250929</c> is <c>claude-sonnet-4-5</c>). A day and model differs when the
/// two amounts are more than the tolerance apart; one side without the other is missing there. When the export is
/// grouped by project (OpenAI) or workspace (Anthropic), so is the comparison: a record's project is its deployment's
/// <c>provider_project</c> (the one its API key belongs to), and a record of a deployment without one is in none.
/// </summary>
public static partial class Reconciler
{
    public const decimal DefaultTolerance = 0.001m;

    /// <summary>The project of lines and records without one (an export not grouped by project, a deployment without <c>provider_project</c>).</summary>
    private const string NoProject = "";
    private const int IdsShown = 20;

    public static async Task<IReadOnlyList<InvoiceDifference>> ReconcileAsync(
        ILedgerStore ledger, IReadOnlyList<InvoiceLine> export, string? provider, decimal tolerance, CancellationToken cancellationToken,
        Func<UsageRecord, string?>? projectOf = null)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(export);
        if (export.Count == 0)
        {
            return [];
        }

        var first = export.Min(l => l.Day);
        var last = export.Max(l => l.Day);
        var byProject = export.Any(l => l.Project is not null);
        var ours = new Dictionary<(DateOnly Day, string Model, string Project), (decimal Cost, int Records, List<string> Ids)>();
        var from = new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var to = new DateTimeOffset(last.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        await foreach (var record in ledger.ReadAsync(from, to, cancellationToken))
        {
            if ((provider is not null && !string.Equals(record.Provider, provider, StringComparison.OrdinalIgnoreCase)) || record.Cost.Total is not { } cost || record.ResponseCacheHit is not null)
            {
                continue;
            }

            var key = (DateOnly.FromDateTime(record.Timestamp.UtcDateTime), Normalize(record.UpstreamModel), byProject ? projectOf?.Invoke(record) ?? NoProject : NoProject);
            var (sum, count, ids) = ours.TryGetValue(key, out var known) ? known : (0m, 0, new List<string>());
            if (record.UpstreamRequestId is { } id && ids.Count < IdsShown && cost > 0)
            {
                ids.Add(id);
            }

            ours[key] = (sum + cost, count + 1, ids);
        }

        var theirs = export.GroupBy(l => (l.Day, Normalize(l.Model), l.Project ?? NoProject)).ToDictionary(g => g.Key, g => g.Sum(l => l.CostUsd));
        var differences = new List<InvoiceDifference>();
        foreach (var key in ours.Keys.Union(theirs.Keys).OrderBy(k => k.Item1).ThenBy(k => k.Item2, StringComparer.Ordinal).ThenBy(k => k.Item3, StringComparer.Ordinal))
        {
            var (cost, count, ids) = ours.TryGetValue(key, out var mine) ? mine : (0m, 0, new List<string>());
            var billed = theirs.GetValueOrDefault(key);
            var kind = !theirs.ContainsKey(key) ? (cost > tolerance ? "missing_in_export" : null)
                : !ours.ContainsKey(key) ? (billed > tolerance ? "missing_in_ledger" : null)
                : Math.Abs(billed - cost) > tolerance ? "differs" : null;
            if (kind is not null)
            {
                differences.Add(new InvoiceDifference(key.Item1, key.Item2, kind, cost, billed, count, ids, byProject ? key.Item3 : null));
            }
        }

        return differences;
    }

    /// <summary>A model name without its date suffix, lower case.</summary>
    public static string Normalize(string model) => DateSuffix().Replace(model?.Trim().ToLowerInvariant() ?? string.Empty, string.Empty);

    [GeneratedRegex(@"-(\d{4}-\d{2}-\d{2}|\d{8})$")]
    private static partial Regex DateSuffix();
}
