using System.Globalization;
using Tollgate.Ledger;
using Tollgate.Metering;

namespace Tollgate.Analytics.Advice;

/// <summary>
/// A feature's usage of a model repriced, record by record, on the other models of the same catalogue line (the
/// vendor's models for the same tier of work across generations: <c>claude-opus-4-1</c> and <c>claude-opus-4-5</c>)
/// at their prices of <paramref name="today"/>; the cheapest that saves at least <see cref="MinimumSaving"/> of what the
/// feature paid is advised. The same tokens are assumed on the other model, and whether it answers as well is not
/// known: each move is labelled quality-unverified, to be tried on a share of traffic first.
/// </summary>
internal sealed class ModelMoves(AdvicePrices prices, DateOnly today) : IAdviceFinder
{
    public const decimal MinimumSaving = 0.10m;
    public const int MinimumRequests = 20;

    private readonly Dictionary<string, IReadOnlyList<TokenPrice>> _siblings = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Feature, string Model), Group> _groups = [];

    public void Add(UsageRecord record)
    {
        if (record.Status != RecordStatus.Ok || record.ResponseCacheHit is not null || record.Cost.Total is not { } cost
            || prices.Of(record) is null || prices.CatalogueEntryOf(record) is not { Line: { } line } entry)
        {
            return;
        }

        if (!_siblings.TryGetValue(entry.Model, out var siblings))
        {
            siblings = [.. prices.LineOn(line, today).Where(p => !string.Equals(p.Model, entry.Model, StringComparison.Ordinal))];
            _siblings[entry.Model] = siblings;
        }

        if (siblings.Count == 0)
        {
            return;
        }

        var key = (record.Attribution.Feature ?? "(none)", entry.Model);
        if (!_groups.TryGetValue(key, out var group))
        {
            group = new Group(siblings);
            _groups[key] = group;
        }

        group.Requests++;
        group.Cost += cost;
        for (var i = 0; i < siblings.Count; i++)
        {
            group.Repriced[i] += CostCalculator.Price(record.Usage, siblings[i].At(record.Timestamp)).Total ?? 0;
        }
    }

    public IEnumerable<Advice> Advise(AdviceContext context)
    {
        foreach (var ((feature, model), group) in _groups)
        {
            if (group.Requests < MinimumRequests || group.Cost <= 0)
            {
                continue;
            }

            var best = Enumerable.Range(0, group.Siblings.Count).MinBy(i => group.Repriced[i]);
            var saving = group.Cost - group.Repriced[best];
            if (saving < MinimumSaving * group.Cost)
            {
                continue;
            }

            var target = group.Siblings[best];
            yield return new Advice(
                AdviceKinds.ModelMove,
                $"feature {feature} on {model}",
                string.Create(CultureInfo.InvariantCulture, $"Its {group.Requests:N0} requests cost ${group.Cost:0.00}; the same tokens on {target.Model}, the same vendor line ({target.Line}), would have cost ${group.Repriced[best]:0.00} ({saving / group.Cost:P0} less)."),
                $"Try {target.Model} on a share of its traffic (a canary router, docs/ROUTING.md) and compare the answers before moving it all: quality unverified.",
                context.Monthly(saving),
                AdviceKinds.Saving,
                new Dictionary<string, object>
                {
                    ["requests"] = group.Requests, ["cost_in_range_usd"] = group.Cost, ["to_model"] = target.Model, ["line"] = target.Line!,
                    ["repriced_in_range_usd"] = group.Repriced[best], ["saving_in_range_usd"] = saving, ["quality"] = "unverified",
                    ["alternatives"] = Enumerable.Range(0, group.Siblings.Count).OrderBy(i => group.Repriced[i])
                        .Select(i => new Dictionary<string, object> { ["model"] = group.Siblings[i].Model, ["repriced_in_range_usd"] = group.Repriced[i] }).ToList(),
                });
        }
    }

    private sealed class Group(IReadOnlyList<TokenPrice> siblings)
    {
        public IReadOnlyList<TokenPrice> Siblings { get; } = siblings;

        public decimal[] Repriced { get; } = new decimal[siblings.Count];

        public long Requests { get; set; }

        public decimal Cost { get; set; }
    }
}
