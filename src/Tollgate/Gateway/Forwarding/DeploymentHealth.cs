using System.Collections.Concurrent;
using Tollgate.Configuration;

namespace Tollgate.Gateway.Forwarding;

/// <summary>The circuit breaker and retry budget of every deployment, by deployment name, for the life of the process.</summary>
public sealed class DeploymentHealth(GatewayConfig config, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, CircuitBreaker> _breakers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RetryBudget> _budgets = new(StringComparer.Ordinal);

    // Static factories given their arguments: a lambda capturing them would be a new delegate on every call (per request).
    public CircuitBreaker Breaker(string deployment) =>
        _breakers.GetOrAdd(deployment, static (_, made) => new CircuitBreaker(made.Settings, made.Time), (Settings: config.Breaker, Time: time));

    public RetryBudget Budget(string deployment) =>
        _budgets.GetOrAdd(deployment, static (_, ratio) => new RetryBudget(ratio), config.Retries.BudgetRatio);
}
