using System.Collections.Frozen;
using Tollgate.Gateway.Pipeline;
using Tollgate.Metering;

namespace Tollgate.Routing;

/// <summary>
/// The routers in force. Replaced whole by a reload (<c>POST /admin/routers/reload</c>): a request sees either the old
/// set or the new one, and the next request after a reload is routed by the new weights and rules.
/// </summary>
public sealed class RouterTable : ITargetFacts
{
    private readonly DeploymentRouter _deployments;
    private readonly TimeProvider _time;
    private FrozenDictionary<string, Router> _routers;

    private readonly EmbedderCatalog _embedders;

    private readonly Gateway.Forwarding.DeploymentHealth _health;

    public RouterTable(Configuration.GatewayConfig config, DeploymentRouter deployments, EmbedderCatalog embedders, Gateway.Forwarding.DeploymentHealth health, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(config);
        _deployments = deployments;
        _health = health;
        _embedders = embedders;
        _time = time;
        _routers = Build(config.Routers);
    }

    public bool Any => _routers.Count > 0;

    public IReadOnlyCollection<Router> All => _routers.Values;

    public Router? Find(string model) => _routers.Count > 0 && _routers.TryGetValue(model, out var router) ? router : null;

    /// <summary>Puts <paramref name="routers"/> in force.</summary>
    public void Replace(IReadOnlyList<RouterSettings> routers) => Volatile.Write(ref _routers, Build(routers));

    private FrozenDictionary<string, Router> Build(IReadOnlyList<RouterSettings> routers) =>
        routers.ToFrozenDictionary(r => r.Name, r => new Router(r, ReferenceOf(r), ScorerOf(r), this), StringComparer.Ordinal);

    /// <summary>The router's difficulty scorer, its model read from the file (checked with the configuration).</summary>
    private Difficulty.DifficultyScorer? ScorerOf(RouterSettings router) => router.Difficulty is { } settings
        ? new Difficulty.DifficultyScorer(settings, _embedders.For(settings.Embedder),
            settings.ModelPath is { } path ? Difficulty.DifficultyModel.FromJson(File.ReadAllText(path)) : null)
        : null;

    public decimal? ListPrice(string target) =>
        First(target) is { } d && d.Pricing.Hourly is null && d.Pricing.At(_time.GetUtcNow()) is DeploymentPrice.PerToken p
            ? p.Price.InputPerMillion + p.Price.OutputPerMillion
            : null;

    public bool IsHealthy(string target) =>
        _deployments.All.Where(d => d.Config.Alias == target).Any(d => _health.Breaker(d.Name).State != Gateway.Forwarding.CircuitState.Open);

    public int? ContextWindow(string target) =>
        _deployments.All.Where(d => d.Config.Alias == target).Select(d => d.Config.ContextWindow).Min();

    /// <summary>The alias's first configured deployment (read without moving its round robin).</summary>
    public Deployment? First(string alias) => _deployments.All.FirstOrDefault(d => d.Config.Alias == alias);

    /// <summary>The named reference target's first deployment, else the target whose first deployment lists the highest price per token today.</summary>
    private Deployment? ReferenceOf(RouterSettings router)
    {
        if (router.Reference is { } named)
        {
            return First(named);
        }

        var today = DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime);
        return router.Targets
            .Select(First)
            .OfType<Deployment>()
            .Select(d => (Deployment: d, Price: d.Pricing.Hourly is null && d.Pricing.On(today) is DeploymentPrice.PerToken p ? p.Price.InputPerMillion + p.Price.OutputPerMillion : (decimal?)null))
            .Where(x => x.Price is not null)
            .OrderByDescending(x => x.Price)
            .Select(x => x.Deployment)
            .FirstOrDefault();
    }
}
