using System.Globalization;
using System.Text.RegularExpressions;

namespace Tollgate.Metering;

/// <summary>One field on which two price lists disagree (null: the other list has no value for it).</summary>
public sealed record PriceDifference(string Field, string Ours, string? Theirs);

/// <summary>How one of our catalogue entries compares with another list: its counterpart there, and where they differ.</summary>
public sealed record PriceCheck(TokenPrice Ours, string? Counterpart, IReadOnlyList<PriceDifference> Differences)
{
    public bool Agrees => Counterpart is not null && Differences.Count == 0;
}

/// <summary>
/// Checks a price catalogue against a second, independent list (LiteLLM's, or another Tollgate catalogue): prices are
/// facts, so every rate we ship should be confirmed by a second source, and every disagreement looked into.
/// </summary>
public static partial class PriceComparison
{
    public static IReadOnlyList<PriceCheck> Compare(IEnumerable<TokenPrice> ours, IReadOnlyList<TokenPrice> theirs)
    {
        ArgumentNullException.ThrowIfNull(ours);
        ArgumentNullException.ThrowIfNull(theirs);
        // Every name an entry of theirs can be found by: its own, each part after a host prefix ("groq/openai/x" is also
        // "openai/x" and "x"), and its undated form.
        var byName = new Dictionary<string, List<TokenPrice>>(StringComparer.OrdinalIgnoreCase);
        foreach (var price in theirs.OrderBy(p => p.Model, StringComparer.Ordinal))
        {
            foreach (var name in Names(price.Model))
            {
                if (!byName.TryGetValue(name, out var list))
                {
                    byName[name] = list = [];
                }

                list.Add(price);
            }
        }

        // The newest entry of each model is the one in force; older ones were checked when they were current.
        return [.. ours
            .GroupBy(p => p.Model, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.MaxBy(p => p.EffectiveFrom)!)
            .Select(price =>
            {
                var counterpart = Counterpart(price, byName);
                return new PriceCheck(price, counterpart?.Model, counterpart is null ? [] : Differences(price, counterpart));
            })];
    }

    private static IEnumerable<string> Names(string model)
    {
        for (var rest = model; ; rest = rest[(rest.IndexOf('/', StringComparison.Ordinal) + 1)..])
        {
            yield return rest;
            var undated = DateSuffix().Replace(rest, string.Empty);
            if (!string.Equals(undated, rest, StringComparison.Ordinal))
            {
                yield return undated;
            }

            if (rest.IndexOf('/', StringComparison.Ordinal) is < 0 || rest.EndsWith('/'))
            {
                yield break;
            }
        }
    }

    /// <summary>The entry of the same name, preferring one with that exact name, then one of the same provider (its host prefix or provider field).</summary>
    private static TokenPrice? Counterpart(TokenPrice ours, Dictionary<string, List<TokenPrice>> byName)
    {
        if (!byName.TryGetValue(ours.Model, out var candidates))
        {
            return null;
        }

        var host = ours.Provider switch
        {
            "google" => "gemini",
            "amazon" => "bedrock",
            { } provider => provider,
            null => null,
        };
        return candidates.FirstOrDefault(c => string.Equals(c.Model, ours.Model, StringComparison.OrdinalIgnoreCase))
            ?? candidates.FirstOrDefault(c => host is not null && (c.Model.StartsWith(host + "/", StringComparison.OrdinalIgnoreCase) || string.Equals(c.Provider, host, StringComparison.OrdinalIgnoreCase)))
            ?? candidates[0];
    }

    private static List<PriceDifference> Differences(TokenPrice ours, TokenPrice theirs)
    {
        var differences = new List<PriceDifference>();
        void Check(string field, decimal? mine, decimal? other)
        {
            if (mine is { } value && other != value)
            {
                differences.Add(new PriceDifference(field, Text(value), other is { } o ? Text(o) : null));
            }
        }

        Check("input", ours.InputPerMillion, theirs.InputPerMillion);
        Check("output", ours.OutputPerMillion, theirs.OutputPerMillion);
        Check("cached_input", ours.CachedInputPerMillion, theirs.CachedInputPerMillion);
        Check("cache_write", ours.CacheWritePerMillion, theirs.CacheWritePerMillion);
        Check("cache_write_1h", ours.CacheWrite1hPerMillion, theirs.CacheWrite1hPerMillion);
        Check("reasoning", ours.ReasoningPerMillion, theirs.ReasoningPerMillion ?? theirs.OutputPerMillion);
        Check("batch_input", ours.BatchInputPerMillion, theirs.BatchInputPerMillion);
        Check("batch_output", ours.BatchOutputPerMillion, theirs.BatchOutputPerMillion);
        Check("max_output_tokens", ours.MaxOutputTokens, theirs.MaxOutputTokens);
        if (ours.LongContext is { } tier)
        {
            Check("long_context.above_prompt_tokens", tier.AbovePromptTokens, theirs.LongContext?.AbovePromptTokens);
            Check("long_context.input", tier.InputPerMillion, theirs.LongContext?.InputPerMillion);
            Check("long_context.output", tier.OutputPerMillion, theirs.LongContext?.OutputPerMillion);
        }

        return differences;
    }

    private static string Text(decimal value) => value.ToString("0.##########", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-v\d+:\d+)$", RegexOptions.CultureInvariant)]
    private static partial Regex DateSuffix();
}
