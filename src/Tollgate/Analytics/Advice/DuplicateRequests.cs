using System.Globalization;
using Tollgate.Ledger;

namespace Tollgate.Analytics.Advice;

/// <summary>
/// Requests whose body was byte for byte one already answered in the range (equal request hashes), per feature: what
/// they cost is what an exact response cache would have saved. And near-duplicates: bodies never sent before whose
/// question hash (<see cref="UsageRecord.QuestionHash"/>: the same request with the question normalised) was — the
/// same question in other words, which an exact cache misses and the semantic cache's normalisation matches. Each
/// flagged from <see cref="MinimumShare"/> of a feature's requests and <see cref="MinimumDuplicates"/> of them.
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
        var question = record.QuestionHash is { Length: >= 16 } q ? ulong.Parse(q.AsSpan(0, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture) : (ulong?)null;
        var firstTimeAsked = question is not { } asked || feature.Questions.Add(asked);
        if (!feature.Seen.Add(ulong.Parse(hash.AsSpan(0, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture)))
        {
            feature.Duplicates++;
            feature.DuplicateCost += cost;
        }
        else if (!firstTimeAsked)
        {
            // A body never sent before whose question, normalised, was: the same question in other words.
            feature.NearDuplicates++;
            feature.NearDuplicateCost += cost;
        }
    }

    public IEnumerable<Advice> Advise(AdviceContext context) => _features.SelectMany(f => Exact(f.Key, f.Value, context).Concat(Near(f.Key, f.Value, context)));

    private static IEnumerable<Advice> Near(string name, Feature feature, AdviceContext context)
    {
        var share = feature.Requests == 0 ? 0 : (decimal)feature.NearDuplicates / feature.Requests;
        if (feature.NearDuplicates < MinimumDuplicates || share < MinimumShare || feature.NearDuplicateCost <= 0)
        {
            yield break;
        }

        yield return new Advice(
            AdviceKinds.NearDuplicates,
            $"feature {name}",
            string.Create(CultureInfo.InvariantCulture, $"{share:P1} of its requests ({feature.NearDuplicates:N0} of {feature.Requests:N0}) asked a question already answered, written differently (case, punctuation, number formats, filler words): an exact cache misses them."),
            "Turn on the semantic cache for it (cache: semantic:, docs/CACHING.md): its normalisation matches these, and its similarity can catch rewordings beyond them under a bounded wrong-hit rate.",
            context.Monthly(feature.NearDuplicateCost),
            AdviceKinds.Saving,
            new Dictionary<string, object>
            {
                ["requests"] = feature.Requests, ["near_duplicates"] = feature.NearDuplicates, ["near_duplicate_share"] = decimal.Round(share, 4),
                ["near_duplicate_cost_in_range_usd"] = feature.NearDuplicateCost,
            });
    }

    private static IEnumerable<Advice> Exact(string name, Feature feature, AdviceContext context)
    {
        var share = feature.Requests == 0 ? 0 : (decimal)feature.Duplicates / feature.Requests;
        if (feature.Duplicates < MinimumDuplicates || share < MinimumShare || feature.DuplicateCost <= 0)
        {
            yield break;
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

    private sealed class Feature
    {
        public HashSet<ulong> Seen { get; } = [];

        public HashSet<ulong> Questions { get; } = [];

        public long NearDuplicates { get; set; }

        public decimal NearDuplicateCost { get; set; }

        public long Requests { get; set; }

        public long Duplicates { get; set; }

        public decimal DuplicateCost { get; set; }
    }
}
