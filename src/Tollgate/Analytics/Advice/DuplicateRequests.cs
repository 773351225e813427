using System.Globalization;
using Tollgate.Ledger;

namespace Tollgate.Analytics.Advice;

/// <summary>
/// Requests whose body was byte for byte one already answered in the range (equal request hashes), per feature: what
/// they cost is what an exact response cache would have saved. Flagged from <see cref="MinimumShare"/> of a
/// feature's requests and <see cref="MinimumDuplicates"/> of them.
/// </summary>
internal sealed class DuplicateRequests : IAdviceFinder
{
    public const decimal MinimumShare = 0.10m;
    public const int MinimumDuplicates = 10;

    private readonly Dictionary<string, Feature> _features = new(StringComparer.Ordinal);

    public void Add(UsageRecord record)
    {
        if (record.RequestHash is not { Length: >= 16 } hash || record.ResponseCacheHit is not null || record.Status != RecordStatus.Ok || record.Cost.Total is not { } cost)
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
        if (!feature.Seen.Add(ulong.Parse(hash.AsSpan(0, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture)))
        {
            feature.Duplicates++;
            feature.DuplicateCost += cost;
        }
    }

    public IEnumerable<Advice> Advise(AdviceContext context)
    {
        foreach (var (name, feature) in _features)
        {
            var share = feature.Requests == 0 ? 0 : (decimal)feature.Duplicates / feature.Requests;
            if (feature.Duplicates < MinimumDuplicates || share < MinimumShare || feature.DuplicateCost <= 0)
            {
                continue;
            }

            yield return new Advice(
                AdviceKinds.Duplicates,
                $"feature {name}",
                string.Create(CultureInfo.InvariantCulture, $"{share:P1} of its requests ({feature.Duplicates:N0} of {feature.Requests:N0}) repeated one already answered, byte for byte."),
                "Turn on the exact response cache (cache: exact:) for it; the semantic cache may catch near-duplicates too.",
                context.Monthly(feature.DuplicateCost),
                AdviceKinds.Saving,
                new Dictionary<string, object>
                {
                    ["requests"] = feature.Requests, ["duplicates"] = feature.Duplicates, ["duplicate_share"] = decimal.Round(share, 4),
                    ["duplicate_cost_in_range_usd"] = feature.DuplicateCost,
                });
        }
    }

    private sealed class Feature
    {
        public HashSet<ulong> Seen { get; } = [];

        public long Requests { get; set; }

        public long Duplicates { get; set; }

        public decimal DuplicateCost { get; set; }
    }
}
