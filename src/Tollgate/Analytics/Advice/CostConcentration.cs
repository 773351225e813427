using System.Globalization;
using Tollgate.Ledger;

namespace Tollgate.Analytics.Advice;

/// <summary>
/// Where the money goes out of proportion: a feature or model with at least <see cref="MinimumCostShare"/> of the
/// range's cost on no more than a <see cref="MinimumRatio"/>th of that share of its requests — where to look first.
/// Its monthly figure is its cost, not a saving.
/// </summary>
internal sealed class CostConcentration : IAdviceFinder
{
    public const decimal MinimumCostShare = 0.4m;
    public const int MinimumRatio = 4;

    private readonly Dictionary<(string Dimension, string Value), (long Requests, decimal Cost)> _groups = [];
    private long _requests;
    private decimal _cost;

    public void Add(UsageRecord record)
    {
        if (record.Cost.Total is not { } cost)
        {
            return;
        }

        _requests++;
        _cost += cost;
        foreach (var key in new[] { ("feature", record.Attribution.Feature ?? "(none)"), ("model", record.UpstreamModel) })
        {
            var (requests, sum) = _groups.GetValueOrDefault(key);
            _groups[key] = (requests + 1, sum + cost);
        }
    }

    public IEnumerable<Advice> Advise(AdviceContext context)
    {
        if (_cost <= 0)
        {
            yield break;
        }

        foreach (var ((dimension, value), (requests, cost)) in _groups)
        {
            var costShare = cost / _cost;
            var requestShare = (decimal)requests / _requests;
            if (costShare < MinimumCostShare || requestShare * MinimumRatio > costShare)
            {
                continue;
            }

            yield return new Advice(
                AdviceKinds.Concentration,
                $"{dimension} {value}",
                string.Create(CultureInfo.InvariantCulture, $"{costShare:P0} of the cost on {requestShare:P0} of the requests."),
                "Look here first: its prompts, output limits and model are where a change moves the bill.",
                context.Monthly(cost),
                AdviceKinds.Cost,
                new Dictionary<string, object>
                {
                    ["cost_share"] = decimal.Round(costShare, 4), ["request_share"] = decimal.Round(requestShare, 4), ["requests"] = requests, ["cost_in_range_usd"] = cost,
                });
        }
    }
}
