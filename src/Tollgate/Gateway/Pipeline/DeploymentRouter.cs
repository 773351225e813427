using System.Collections.Frozen;
using Tollgate.Configuration;
using Tollgate.Metering;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Stage 6: alias → deployment. An alias listed several times is served by its deployments in turn (round robin).
/// </summary>
public sealed class DeploymentRouter
{
    private readonly FrozenDictionary<string, AliasDeployments> _aliases;

    public DeploymentRouter(GatewayConfig config, ProviderRegistry providers, PriceCatalog catalog, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(providers);
        _aliases = config.Deployments
            .GroupBy(d => d.Alias, StringComparer.Ordinal)
            .ToFrozenDictionary(
                g => g.Key,
                g => new AliasDeployments([.. g.Select(d => new Deployment(d, providers.For(d), new DeploymentPricing(d, catalog, time)))]),
                StringComparer.Ordinal);
    }

    /// <summary>The aliases a caller may use, in configuration order.</summary>
    public IReadOnlyList<string> Aliases => [.. _aliases.Keys.Order(StringComparer.Ordinal)];

    public IEnumerable<Deployment> All => _aliases.Values.SelectMany(a => a.Deployments);

    public Deployment? Resolve(string alias) => _aliases.TryGetValue(alias, out var deployments) ? deployments.Next() : null;

    /// <summary>The alias's deployments in the order to try them: the round-robin choice first, then the others.</summary>
    public IReadOnlyList<Deployment> Candidates(string alias)
    {
        if (!_aliases.TryGetValue(alias, out var deployments))
        {
            return [];
        }

        if (deployments.Deployments.Length == 1)
        {
            return deployments.Deployments;
        }

        var first = deployments.Next();
        return [first, .. deployments.Deployments.Where(d => d != first)];
    }

    private sealed class AliasDeployments(Deployment[] deployments)
    {
        private int _next = -1;

        public Deployment[] Deployments => deployments;

        public Deployment Next() =>
            deployments.Length == 1 ? deployments[0] : deployments[(int)((uint)Interlocked.Increment(ref _next) % (uint)deployments.Length)];
    }
}
