using Tollgate.Configuration;

namespace Tollgate.Metering;

/// <summary>
/// Resolves how one deployment is priced on a given day: a per-token override from config, a per-hour price
/// (shared out by <see cref="HourlyCostAllocator"/>), the catalogue price of <c>price_as</c> or of the upstream
/// model, or unknown.
/// </summary>
public sealed class DeploymentPricing
{
    private static readonly DateOnly OverrideEffectiveFrom = DateOnly.MinValue;

    private readonly DeploymentConfig _deployment;
    private readonly PriceCatalog _catalog;
    private readonly DeploymentPrice? _fixed;

    /// <summary>The last day priced and its price, swapped as one reference: a day's requests look the catalogue up once.</summary>
    private DayPrice? _lastLookup;

    public DeploymentPricing(DeploymentConfig deployment, PriceCatalog catalog, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(catalog);
        _deployment = deployment;
        _catalog = catalog;
        if (deployment.Price is { UsdPerHour: { } perHour })
        {
            _fixed = new DeploymentPrice.PerHour(perHour);
            Hourly = new HourlyCostAllocator(perHour, time);
        }
        else if (deployment.Price is { InputPerMillion: { } input, OutputPerMillion: { } output } price)
        {
            _fixed = new DeploymentPrice.PerToken(
                new TokenPrice
                {
                    Model = deployment.Model,
                    Provider = deployment.Provider,
                    EffectiveFrom = OverrideEffectiveFrom,
                    InputPerMillion = input,
                    OutputPerMillion = output,
                    CachedInputPerMillion = price.CachedInputPerMillion,
                    CacheWritePerMillion = price.CacheWritePerMillion,
                    ReasoningPerMillion = price.ReasoningPerMillion,
                    BatchInputPerMillion = price.BatchInputPerMillion,
                    BatchOutputPerMillion = price.BatchOutputPerMillion,
                    Peak = price.Peak,
                },
                "config override");
        }
    }

    /// <summary>Set when the deployment is priced per hour.</summary>
    public HourlyCostAllocator? Hourly { get; }

    public DeploymentPrice On(DateOnly day)
    {
        if (_fixed is not null)
        {
            return _fixed;
        }

        if (_lastLookup is { } last && last.Day == day)
        {
            return last.Price;
        }

        var model = _deployment.PriceAs ?? _deployment.Model;
        DeploymentPrice resolved = _catalog.Find(model, day) is { } price
            ? new DeploymentPrice.PerToken(price, $"catalogue {price.Model} from {price.EffectiveFrom:yyyy-MM-dd}")
            : new DeploymentPrice.Unknown($"no catalogue price for '{model}'");
        _lastLookup = new DayPrice(day, resolved);
        return resolved;
    }

    /// <summary>
    /// The price of a request that started at <paramref name="at"/>: the day's price, with a per-token price that has
    /// peak hours resolved to the peak or the off-peak rates of that moment.
    /// </summary>
    public DeploymentPrice At(DateTimeOffset at)
    {
        var price = On(DateOnly.FromDateTime(at.UtcDateTime));
        return price is DeploymentPrice.PerToken { Price.Peak: { } peak } perToken
            ? new DeploymentPrice.PerToken(perToken.Price.At(at), perToken.Source + (peak.Covers(at) ? ", peak hours" : ", off-peak"))
            : price;
    }

    private sealed record DayPrice(DateOnly Day, DeploymentPrice Price);
}
