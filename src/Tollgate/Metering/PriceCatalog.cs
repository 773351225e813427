using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace Tollgate.Metering;

/// <summary>
/// A versioned list of model prices. A model may have several prices, each from its effective date; a request is
/// priced at the one in force on its day, so an old record keeps the price of its day.
/// </summary>
public sealed partial class PriceCatalog
{
    private readonly FrozenDictionary<string, TokenPrice[]> _byModel;

    public PriceCatalog(IEnumerable<TokenPrice> prices)
    {
        ArgumentNullException.ThrowIfNull(prices);
        _byModel = prices
            .GroupBy(p => p.Model, StringComparer.OrdinalIgnoreCase)
            .ToFrozenDictionary(
                g => g.Key,
                g => g.OrderByDescending(p => p.EffectiveFrom).ToArray(),
                StringComparer.OrdinalIgnoreCase);
    }

    public IEnumerable<TokenPrice> All => _byModel.Values.SelectMany(v => v).OrderBy(p => p.Provider).ThenBy(p => p.Model).ThenBy(p => p.EffectiveFrom);

    /// <summary>
    /// The price of <paramref name="model"/> in force on <paramref name="day"/>. A dated snapshot name such as
    /// <c>gpt-4o-mini-2024-07-18</c>, <c>claude-sonnet-4-20250514</c> or <c>gemini-2.0-flash-001</c> falls back to its family's entry; a provider
    /// prefix such as <c>groq/</c> is tried with and without.
    /// </summary>
    public TokenPrice? Find(string model, DateOnly day)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var candidate in Candidates(model))
        {
            if (_byModel.TryGetValue(candidate, out var versions))
            {
                foreach (var version in versions)
                {
                    if (version.EffectiveFrom <= day)
                    {
                        return version;
                    }
                }
            }
        }

        return null;
    }

    private static IEnumerable<string> Candidates(string model)
    {
        yield return model;
        var undated = DateSuffix().Replace(model, string.Empty);
        if (!string.Equals(undated, model, StringComparison.Ordinal))
        {
            yield return undated;
        }

        var slash = model.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0 && slash < model.Length - 1)
        {
            foreach (var inner in Candidates(model[(slash + 1)..]))
            {
                yield return inner;
            }
        }
    }

    // Dated snapshots (-2024-07-18, -20250514, @20240620) and Google's stable versions (-001, -002).
    [GeneratedRegex(@"(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-0\d\d)$", RegexOptions.CultureInvariant)]
    private static partial Regex DateSuffix();
}
