using Tollgate.Ledger;
using Tollgate.Metering;

namespace Tollgate.Analytics;

/// <summary>
/// Prices recorded usage again at other prices: "what would this traffic have cost". The usage is the provider's
/// own count from the ledger; only the price changes. Returns null for a record it has no price for.
/// </summary>
public sealed class Repricer(Func<UsageRecord, TokenPrice?> priceOf, string description)
{
    public string Description { get; } = description;

    /// <summary>Each record at the price another catalogue gives its own model on its day.</summary>
    public static Repricer WithCatalog(PriceCatalog catalog, string name)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new Repricer(r => catalog.Find(r.UpstreamModel, Day(r)), $"at the prices in {name}");
    }

    /// <summary>Every record as if <paramref name="model"/> had served it, at that model's price of <paramref name="today"/>.</summary>
    public static Repricer AsModel(PriceCatalog catalog, string model, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var price = catalog.Find(model, today);
        return new Repricer(_ => price, $"as {model}");
    }

    public decimal? Cost(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Status == RecordStatus.UpstreamError && !record.Usage.IsReported)
        {
            return 0m;
        }

        return priceOf(record) is { } price ? CostCalculator.Price(record.Usage, price.At(record.Timestamp)).Total : null;
    }

    private static DateOnly Day(UsageRecord record) => DateOnly.FromDateTime(record.Timestamp.UtcDateTime);
}
