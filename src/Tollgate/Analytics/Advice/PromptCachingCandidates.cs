using System.Globalization;
using Tollgate.Ledger;
using Tollgate.Metering;

namespace Tollgate.Analytics.Advice;

/// <summary>
/// Long prefixes (system instructions, tools) sent again and again without being read from the provider's prompt
/// cache. For each model and prefix of at least <see cref="MinimumPrefixTokens"/> tokens, the requests are walked in
/// time: one that comes more than <see cref="CacheLifetime"/> after the previous would write the cache (paying the
/// model's cache-write rate over input), the others would read it (the cached-input rate instead of input). The saving
/// is what those rates would have changed on the prefix tokens, at the price the record was billed at.
/// </summary>
internal sealed class PromptCachingCandidates(AdvicePrices prices) : IAdviceFinder
{
    /// <summary>The shortest prefix OpenAI, Anthropic and Gemini cache.</summary>
    public const long MinimumPrefixTokens = 1024;

    /// <summary>How long a provider keeps a cached prefix unused (five minutes for OpenAI and Anthropic by default).</summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(5);

    private readonly Dictionary<(string Model, string Prefix), Group> _groups = [];

    public void Add(UsageRecord record)
    {
        if (record.PromptPrefixHash is not { } prefix || record.PromptPrefixTokens is not { } tokens || tokens < MinimumPrefixTokens
            || record.Status != RecordStatus.Ok || record.ResponseCacheHit is not null || (record.Usage.CachedInputTokens ?? 0) >= tokens
            || prices.Of(record) is not { CachedInputPerMillion: { } read } price)
        {
            return;
        }

        if (!_groups.TryGetValue((record.UpstreamModel, prefix), out var group))
        {
            group = new Group(tokens);
            _groups[(record.UpstreamModel, prefix)] = group;
        }

        group.Features.Add(record.Attribution.Feature ?? "(none)");
        var write = price.CacheWritePerMillion ?? price.InputPerMillion;
        if (record.Timestamp - group.Last > CacheLifetime)
        {
            group.Writes++;
            group.Saving -= tokens * (write - price.InputPerMillion) / 1_000_000m;
        }
        else
        {
            group.Reads++;
            group.Saving += tokens * (price.InputPerMillion - read) / 1_000_000m;
        }

        group.Last = record.Timestamp;
    }

    public IEnumerable<Advice> Advise(AdviceContext context)
    {
        foreach (var ((model, prefix), group) in _groups.Where(g => g.Value.Reads > 0 && g.Value.Saving > 0))
        {
            var features = string.Join(", ", group.Features.Order(StringComparer.Ordinal));
            yield return new Advice(
                AdviceKinds.PromptCaching,
                $"prefix {prefix[..8]} on {model} (feature {features})",
                string.Create(CultureInfo.InvariantCulture, $"A {group.Tokens:N0}-token prefix was sent {group.Reads + group.Writes:N0} times without being read from the prompt cache."),
                "Keep the prefix first and unchanged, and cache it: cache_control on its last block for Anthropic (or 'auto_cache_system_prompt' on the deployment), automatic for OpenAI once it is identical.",
                context.Monthly(group.Saving),
                AdviceKinds.Saving,
                new Dictionary<string, object>
                {
                    ["model"] = model, ["prefix_hash"] = prefix, ["prefix_tokens"] = group.Tokens, ["requests"] = group.Reads + group.Writes,
                    ["cache_reads"] = group.Reads, ["cache_writes"] = group.Writes, ["saving_in_range_usd"] = group.Saving,
                });
        }
    }

    private sealed class Group(long tokens)
    {
        public long Tokens { get; } = tokens;

        public HashSet<string> Features { get; } = new(StringComparer.Ordinal);

        public DateTimeOffset Last { get; set; } = DateTimeOffset.MinValue;

        public long Reads { get; set; }

        public long Writes { get; set; }

        public decimal Saving { get; set; }
    }
}
