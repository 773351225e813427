using Tollgate.Configuration;
using Tollgate.Metering;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>A configured deployment with what it needs at run time: its adapter and its pricing.</summary>
public sealed record Deployment(DeploymentConfig Config, IProviderAdapter Adapter, DeploymentPricing Pricing)
{
    public string Name => Config.Name;
}
