using System.Globalization;
using Tollgate.Analytics.UnitEconomics;
using Tollgate.Ledger;

namespace Tollgate.Analytics.Advice;

/// <summary>
/// Features that earn less than they cost, from the outcomes clients reported (<c>POST /v1/outcomes</c>): an outcome
/// tied to a request counts for that request's feature, one reported for a feature for that feature — as the unit
/// economics report joins them. Only features with some outcome are judged.
/// </summary>
internal sealed class NegativeMargins(IReadOnlyList<Outcome> outcomes) : IAdviceFinder
{
    private readonly HashSet<string> _tied = outcomes.Where(o => o.RequestId is not null).Select(o => o.RequestId!).ToHashSet(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _featureOfRequest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, decimal> _cost = new(StringComparer.Ordinal);

    public void Add(UsageRecord record)
    {
        var feature = record.Attribution.Feature ?? "(none)";
        _cost[feature] = _cost.GetValueOrDefault(feature) + (record.Cost.Total ?? 0);
        if (_tied.Contains(record.Id))
        {
            _featureOfRequest[record.Id] = feature;
        }
    }

    public IEnumerable<Advice> Advise(AdviceContext context)
    {
        var revenue = new Dictionary<string, (decimal Revenue, long Conversions)>(StringComparer.Ordinal);
        foreach (var outcome in outcomes)
        {
            var feature = outcome.RequestId is { } id ? _featureOfRequest.GetValueOrDefault(id) : outcome.Feature;
            if (feature is null)
            {
                continue;
            }

            var (sum, conversions) = revenue.GetValueOrDefault(feature);
            revenue[feature] = (sum + outcome.RevenueUsd, conversions + outcome.Conversions);
        }

        foreach (var (feature, (earned, conversions)) in revenue)
        {
            var cost = _cost.GetValueOrDefault(feature);
            var margin = earned - cost;
            if (margin >= 0)
            {
                continue;
            }

            yield return new Advice(
                AdviceKinds.NegativeMargin,
                $"feature {feature}",
                string.Create(CultureInfo.InvariantCulture, $"It cost ${cost:0.####} and earned ${earned:0.####} ({conversions:N0} conversions)."),
                "Cheaper model, shorter prompts or output, a cache — or a price that covers it.",
                context.Monthly(-margin),
                AdviceKinds.Loss,
                new Dictionary<string, object> { ["cost_in_range_usd"] = cost, ["revenue_in_range_usd"] = earned, ["conversions"] = conversions });
        }
    }
}
