using System.Globalization;
using Tollgate.Ledger;
using Tollgate.Metering;

namespace Tollgate.Analytics.Advice;

/// <summary>
/// Features whose requests do not wait for a person: nearly all (<see cref="MinimumNightShare"/>) sent at night in the
/// configured time zone (before <see cref="NightEndsHour"/>), or marked as background work by the caller (the tag
/// <c>latency=background</c>, from <c>X-Tags</c>, the body's metadata or the key), and none streamed. Run through a provider's Batch API they
/// would cost the catalogue's batch rates (half the realtime ones where it lists none); the saving reprices each
/// record's cost components at those rates.
/// </summary>
internal sealed class BatchCandidates(AdvicePrices prices, TimeZoneInfo zone) : IAdviceFinder
{
    public const int NightEndsHour = 6;
    public const decimal MinimumNightShare = 0.9m;
    public const int MinimumRequests = 20;

    /// <summary>The tag a caller marks work nobody waits for with: <c>latency=background</c>.</summary>
    public const string LatencyTag = "latency";
    public const string Background = "background";

    private readonly Dictionary<string, Feature> _features = new(StringComparer.Ordinal);

    public void Add(UsageRecord record)
    {
        if (record.Endpoint.StartsWith("batch.", StringComparison.Ordinal) || record.ResponseCacheHit is not null || record.Cost.Total is not { } cost)
        {
            return;
        }

        var name = record.Attribution.Feature ?? "(none)";
        if (!_features.TryGetValue(name, out var feature))
        {
            feature = new Feature();
            _features[name] = feature;
        }

        feature.Requests++;
        feature.Streamed += record.Stream ? 1 : 0;
        feature.AtNight += TimeZoneInfo.ConvertTime(record.Timestamp, zone).Hour < NightEndsHour ? 1 : 0;
        feature.Background += record.Attribution.Tags.TryGetValue(LatencyTag, out var latency) && latency == Background ? 1 : 0;
        feature.Cost += cost;
        if (prices.Of(record) is { } realtime && realtime.InputPerMillion > 0 && realtime.OutputPerMillion > 0)
        {
            var (batch, _) = BatchPrice.Of(realtime);
            var c = record.Cost;
            var atBatch = ((c.Input + c.CachedInput + c.CacheWrite) * batch.InputPerMillion / realtime.InputPerMillion)
                + ((c.Output + c.Reasoning) * batch.OutputPerMillion / realtime.OutputPerMillion);
            feature.Saving += cost - atBatch;
        }
    }

    public IEnumerable<Advice> Advise(AdviceContext context)
    {
        foreach (var (name, feature) in _features)
        {
            var night = feature.Requests == 0 ? 0 : (decimal)feature.AtNight / feature.Requests;
            var background = feature.Requests == 0 ? 0 : (decimal)feature.Background / feature.Requests;
            if (feature.Requests < MinimumRequests || feature.Streamed > 0 || (night < MinimumNightShare && background < MinimumNightShare) || feature.Saving <= 0)
            {
                continue;
            }

            var why = background >= MinimumNightShare
                ? string.Create(CultureInfo.InvariantCulture, $"{background:P0} of its {feature.Requests:N0} requests are tagged {LatencyTag}={Background} and none is streamed: no one waits for them.")
                : string.Create(CultureInfo.InvariantCulture, $"{night:P0} of its {feature.Requests:N0} requests run before {NightEndsHour}:00 and none is streamed: no one waits for them.");

            yield return new Advice(
                AdviceKinds.Batch,
                $"feature {name}",
                why,
                "Send them through the Batch API (POST /v1/files + /v1/batches, or /v1/messages/batches): the gateway meters each line at batch prices.",
                context.Monthly(feature.Saving),
                AdviceKinds.Saving,
                new Dictionary<string, object>
                {
                    ["requests"] = feature.Requests, ["night_share"] = decimal.Round(night, 4), ["background_share"] = decimal.Round(background, 4), ["cost_in_range_usd"] = feature.Cost, ["saving_in_range_usd"] = feature.Saving,
                });
        }
    }

    private sealed class Feature
    {
        public long Requests { get; set; }

        public long Streamed { get; set; }

        public long AtNight { get; set; }

        public long Background { get; set; }

        public decimal Cost { get; set; }

        public decimal Saving { get; set; }
    }
}
