using System.Collections.Concurrent;
using Tollgate.Configuration;

namespace Tollgate.Gateway.Forwarding;

/// <summary>The circuit breaker and retry budget of every deployment, by deployment name, for the life of the process.</summary>
public sealed class DeploymentHealth(GatewayConfig config, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, CircuitBreaker> _breakers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RetryBudget> _budgets = new(StringComparer.Ordinal);

    public CircuitBreaker Breaker(string deployment) => _breakers.GetOrAdd(deployment, _ => new CircuitBreaker(config.Breaker, time));

    public RetryBudget Budget(string deployment) => _budgets.GetOrAdd(deployment, _ => new RetryBudget(config.Retries.BudgetRatio));
}
