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

    public IEnumerable<Advice> Advise(AdviceContext context) => _features.SelectMany(f => new[]
    {
        Flag(AdviceKinds.Duplicates, "duplicate", f.Key, f.Value.Requests, f.Value.Duplicates, f.Value.DuplicateCost, context,
            share => $"{share:P1} of its requests ({f.Value.Duplicates:N0} of {f.Value.Requests:N0}) repeated one already answered, byte for byte.",
            "Turn on the exact response cache (cache: exact:) for it; the semantic cache may catch near-duplicates too."),
        Flag(AdviceKinds.NearDuplicates, "near_duplicate", f.Key, f.Value.Requests, f.Value.NearDuplicates, f.Value.NearDuplicateCost, context,
            share => $"{share:P1} of its requests ({f.Value.NearDuplicates:N0} of {f.Value.Requests:N0}) asked a question already answered, written differently (case, punctuation, number formats, filler words): an exact cache misses them.",
            "Turn on the semantic cache for it (cache: semantic:, docs/CACHING.md): its normalisation matches these, and its similarity can catch rewordings beyond them under a bounded wrong-hit rate."),
    }.OfType<Advice>());

    /// <summary>One kind of repeat, flagged when there are enough of them; what they cost is what the cache would have saved.</summary>
    private static Advice? Flag(
        string kind, string evidence, string feature, long requests, long repeats, decimal cost, AdviceContext context, Func<decimal, FormattableString> finding, string action)
    {
        var share = requests == 0 ? 0 : (decimal)repeats / requests;
        if (repeats < MinimumDuplicates || share < MinimumShare || cost <= 0)
        {
            return null;
        }

        return new Advice(
            kind,
            $"feature {feature}",
            FormattableString.Invariant(finding(share)),
            action,
            context.Monthly(cost),
            AdviceKinds.Saving,
            new Dictionary<string, object>
            {
                ["requests"] = requests, [evidence + "s"] = repeats, [evidence + "_share"] = decimal.Round(share, 4), [evidence + "_cost_in_range_usd"] = cost,
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
