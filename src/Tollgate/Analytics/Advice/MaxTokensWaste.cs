using System.Globalization;
using Tollgate.Ledger;
using Tollgate.Metering;

namespace Tollgate.Analytics.Advice;

/// <summary>
/// Output limits far above what is used: per feature and model, when the median limit granted is at least
/// <see cref="MinimumRatio"/> times the 99th percentile of output tokens produced, a cap at that percentile would have
/// covered 99% of the answers. Providers bill only the tokens produced, so this saves no spend; what it frees is the
/// worst case every such request holds on hard budgets and TPM limits — (limit − cap) output tokens at the day's price.
/// </summary>
internal sealed class MaxTokensWaste(AdvicePrices prices) : IAdviceFinder
{
    public const int MinimumRatio = 4;
    public const int MinimumRequests = 50;

    private readonly Dictionary<(string Feature, string Model), Group> _groups = [];

    public void Add(UsageRecord record)
    {
        if (record.MaxOutputTokens is not { } granted || record.Usage.OutputTokens is not { } used || record.Status != RecordStatus.Ok
            || prices.Of(record) is not { } price)
        {
            return;
        }

        var key = (record.Attribution.Feature ?? "(none)", record.UpstreamModel);
        if (!_groups.TryGetValue(key, out var group))
        {
            group = new Group();
            _groups[key] = group;
        }

        group.Requests.Add((granted, used, price.OutputPerMillion));
    }

    public IEnumerable<Advice> Advise(AdviceContext context)
    {
        foreach (var ((feature, model), group) in _groups)
        {
            if (group.Requests.Count < MinimumRequests)
            {
                continue;
            }

            var used = group.Requests.Select(r => r.Used).Order().ToList();
            var granted = group.Requests.Select(r => r.Granted).Order().ToList();
            var p99 = Percentile(used, 0.99);
            var median = Percentile(granted, 0.5);
            var cap = Math.Max(1, p99);
            if (median < MinimumRatio * cap)
            {
                continue;
            }

            var freed = group.Requests.Sum(r => Math.Max(0, r.Granted - cap) * r.OutputPerMillion / 1_000_000m);
            yield return new Advice(
                AdviceKinds.MaxTokens,
                $"feature {feature} on {model}",
                string.Create(CultureInfo.InvariantCulture, $"Requests are granted {median:N0} output tokens (median) and use {Percentile(used, 0.5):N0} (median), {p99:N0} at the 99th percentile."),
                string.Create(CultureInfo.InvariantCulture, $"Cap max_tokens at {cap:N0} for it (a key's max_tokens cap or the request's own): 99% of its answers fit, and budgets stop holding room for output never produced."),
                context.Monthly(freed),
                AdviceKinds.ReservationFreed,
                new Dictionary<string, object>
                {
                    ["requests"] = group.Requests.Count, ["granted_median"] = median, ["output_p50"] = Percentile(used, 0.5), ["output_p99"] = p99,
                    ["suggested_cap"] = cap, ["reservation_freed_in_range_usd"] = freed,
                });
        }
    }

    /// <summary>The nearest-rank percentile of sorted values.</summary>
    private static long Percentile(List<long> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private sealed class Group
    {
        public List<(long Granted, long Used, decimal OutputPerMillion)> Requests { get; } = [];
    }
}
