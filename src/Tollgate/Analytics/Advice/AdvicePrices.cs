using Tollgate.Configuration;
using Tollgate.Ledger;
using Tollgate.Metering;

namespace Tollgate.Analytics.Advice;

/// <summary>
/// The per-token price a record's deployment had on its day, as the gateway priced it (a config override, <c>price_as</c>,
/// else the catalogue price of its upstream model); a deployment no longer configured is looked up by its model. Null
/// for hourly-priced deployments (a GPU's hour costs the same whatever the tokens) and unknown models.
/// </summary>
public sealed class AdvicePrices
{
    private readonly PriceCatalog _catalog;
    private readonly Dictionary<string, DeploymentPricing> _deployments;

    public AdvicePrices(PriceCatalog catalog, IEnumerable<DeploymentConfig> deployments)
    {
        ArgumentNullException.ThrowIfNull(deployments);
        _catalog = catalog;
        _deployments = deployments.GroupBy(d => d.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => new DeploymentPricing(g.First(), catalog, TimeProvider.System), StringComparer.Ordinal);
    }

    /// <summary>The per-token rates the record was priced at (peak hours resolved at its time); null when it has none.</summary>
    public TokenPrice? Of(UsageRecord record) => Scheduled(record)?.At(record.Timestamp);

    /// <summary>The record's per-token price as listed, its peak hours (where the provider has them) not yet resolved.</summary>
    public TokenPrice? Scheduled(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var day = DateOnly.FromDateTime(record.Timestamp.UtcDateTime);
        if (_deployments.TryGetValue(record.Deployment, out var pricing))
        {
            return pricing.On(day) is DeploymentPrice.PerToken perToken ? perToken.Price : null;
        }

        return _catalog.Find(record.UpstreamModel, day);
    }

    /// <summary>What a record's deployment costs an hour when it is self-hosted and priced by the hour (a rented GPU); null otherwise.</summary>
    public decimal? HourlyRateOf(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return _deployments.TryGetValue(record.Deployment, out var pricing)
            && pricing.On(DateOnly.FromDateTime(record.Timestamp.UtcDateTime)) is DeploymentPrice.PerHour perHour
            ? perHour.UsdPerHour
            : null;
    }

    /// <summary>The catalogue entry of a record's upstream model on its day, whatever the deployment was priced with; null for models the catalogue does not know.</summary>
    public TokenPrice? CatalogueEntryOf(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return _catalog.Find(record.UpstreamModel, DateOnly.FromDateTime(record.Timestamp.UtcDateTime));
    }

    /// <summary>The models of a catalogue line, each at its price in force on <paramref name="day"/>.</summary>
    public IReadOnlyList<TokenPrice> LineOn(string line, DateOnly day) =>
        [.. _catalog.All.Where(p => p.Line == line && p.EffectiveFrom <= day).GroupBy(p => p.Model, StringComparer.Ordinal).Select(g => g.MaxBy(p => p.EffectiveFrom)!)];
}
