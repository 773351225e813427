using Tollgate.Configuration;
using Tollgate.Metering;

namespace Tollgate.Routing.Simulation;

/// <summary>
/// What the configuration says of each alias, for a simulation away from the running gateway: its first deployment's
/// per-token price today (its <c>price</c> override, else the catalogue's price of its <c>price_as</c> or model) and its
/// context window. Every target is taken as healthy: the ledger does not say which circuits were open.
/// </summary>
public sealed class ConfiguredTargets(GatewayConfig config, PriceCatalog catalog, DateOnly today) : ITargetFacts
{
    public TokenPrice? PriceOf(string target)
    {
        if (config.Deployments.FirstOrDefault(d => d.Alias == target) is not { } deployment || deployment.Price is { UsdPerHour: not null })
        {
            return null;
        }

        if (deployment.Price is { InputPerMillion: { } input, OutputPerMillion: { } output } price)
        {
            return new TokenPrice
            {
                Model = deployment.Model, EffectiveFrom = DateOnly.MinValue, InputPerMillion = input, OutputPerMillion = output,
                CachedInputPerMillion = price.CachedInputPerMillion, CacheWritePerMillion = price.CacheWritePerMillion, ReasoningPerMillion = price.ReasoningPerMillion,
                Peak = price.Peak,
            };
        }

        return catalog.Find(deployment.PriceAs ?? deployment.Model, today);
    }

    public decimal? ListPrice(string target) => PriceOf(target) is { } price ? price.InputPerMillion + price.OutputPerMillion : null;

    public bool IsHealthy(string target) => true;

    public int? ContextWindow(string target) => config.Deployments.Where(d => d.Alias == target).Select(d => d.ContextWindow).Min();
}
