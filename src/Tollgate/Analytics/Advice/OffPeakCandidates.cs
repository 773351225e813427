using System.Globalization;
using Tollgate.Ledger;
using Tollgate.Metering;

namespace Tollgate.Analytics.Advice;

/// <summary>
/// Work sent in a provider's peak hours (DeepSeek bills its V4 models at twice the off-peak rate 01:00–04:00 and
/// 06:00–10:00 UTC on weekdays) that could run outside them: per feature and model, what its peak-hour records cost and
/// what the same usage costs at the off-peak rates — each record's cost components repriced. Said as "if it can wait":
/// stronger where the requests are tagged <c>latency=background</c> or none is streamed.
/// </summary>
internal sealed class OffPeakCandidates(AdvicePrices prices) : IAdviceFinder
{
    public const int MinimumRequests = 20;

    private readonly Dictionary<(string Feature, string Model), Group> _groups = [];

    public void Add(UsageRecord record)
    {
        if (record.ResponseCacheHit is not null || record.Cost.Total is not { } cost || prices.Scheduled(record) is not { Peak: { } peak } scheduled
            || !peak.Covers(record.Timestamp))
        {
            return;
        }

        var key = (record.Attribution.Feature ?? "(none)", record.UpstreamModel);
        if (!_groups.TryGetValue(key, out var group))
        {
            group = new Group(peak);
            _groups[key] = group;
        }

        var atPeak = scheduled.At(record.Timestamp);
        var offPeak = scheduled with { Peak = null };
        var c = record.Cost;
        var repriced = (c.Input * Ratio(offPeak.InputPerMillion, atPeak.InputPerMillion))
            + (c.CachedInput * Ratio(offPeak.CachedInputPerMillion ?? offPeak.InputPerMillion, atPeak.CachedInputPerMillion ?? atPeak.InputPerMillion))
            + (c.CacheWrite * Ratio(offPeak.CacheWritePerMillion ?? offPeak.InputPerMillion, atPeak.CacheWritePerMillion ?? atPeak.InputPerMillion))
            + ((c.Output + c.Reasoning) * Ratio(offPeak.OutputPerMillion, atPeak.OutputPerMillion));
        group.Requests++;
        group.Streamed += record.Stream ? 1 : 0;
        group.Background += record.Attribution.Tags.TryGetValue(BatchCandidates.LatencyTag, out var latency) && latency == BatchCandidates.Background ? 1 : 0;
        group.Cost += cost;
        group.Saving += cost - repriced;
    }

    public IEnumerable<Advice> Advise(AdviceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var ((feature, model), group) in _groups)
        {
            if (group.Requests < MinimumRequests || group.Saving <= 0)
            {
                continue;
            }

            var hours = string.Join(" and ", group.Peak.WindowTexts) + " UTC" + (group.Peak.WeekdaysOnly ? " on weekdays" : string.Empty);
            var background = (decimal)group.Background / group.Requests;
            var waits = background >= BatchCandidates.MinimumNightShare
                ? $"{background:P0} of them are tagged {BatchCandidates.LatencyTag}={BatchCandidates.Background}: no one waits for them."
                : group.Streamed == 0 ? "None is streamed: if no one waits for them, they can run later." : "Some are streamed (someone waits): only the part that can wait saves this.";
            yield return new Advice(
                AdviceKinds.OffPeak,
                $"feature {feature} on {model}",
                string.Create(CultureInfo.InvariantCulture, $"{group.Requests:N0} requests (${group.Cost:0.####}) ran in {model}'s peak hours ({hours}), where it costs more. {waits}"),
                $"Run this work outside {hours}: the same usage at the off-peak rates.",
                context.Monthly(group.Saving),
                AdviceKinds.Saving,
                new Dictionary<string, object>
                {
                    ["requests_at_peak"] = group.Requests, ["cost_at_peak_usd"] = group.Cost, ["saving_in_range_usd"] = group.Saving,
                    ["background_share"] = decimal.Round(background, 4), ["streamed"] = group.Streamed,
                });
        }
    }

    private static decimal Ratio(decimal? offPeak, decimal? atPeak) => atPeak is > 0 && offPeak is { } off ? off / atPeak.Value : 1m;

    private sealed class Group(PeakHours peak)
    {
        public PeakHours Peak { get; } = peak;

        public long Requests { get; set; }

        public long Streamed { get; set; }

        public long Background { get; set; }

        public decimal Cost { get; set; }

        public decimal Saving { get; set; }
    }
}
