using Tollgate.Configuration;
using Tollgate.Metering;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>A configured deployment with what it needs at run time: its adapter and its pricing.</summary>
public sealed record Deployment(DeploymentConfig Config, IProviderAdapter Adapter, DeploymentPricing Pricing)
{
    public string Name => Config.Name;

    /// <summary>What <paramref name="usage"/> costs here at the per-token price of <paramref name="at"/>'s day; null when priced per hour or not at all.</summary>
    public decimal? PriceOf(Usage usage, DateTimeOffset at) =>
        Pricing.Hourly is null && Pricing.At(at) is DeploymentPrice.PerToken perToken
            ? CostCalculator.Price(usage, perToken.Price).Total
            : null;
}
