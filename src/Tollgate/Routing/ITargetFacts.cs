namespace Tollgate.Routing;

/// <summary>What a router's <c>cheapest</c> strategy knows of each target: its list price, its health and its context window.</summary>
public interface ITargetFacts
{
    /// <summary>Input plus output price per million tokens of the target's first deployment today; null when not priced per token.</summary>
    decimal? ListPrice(string target);

    /// <summary>False while every deployment of the target has its circuit open.</summary>
    bool IsHealthy(string target);

    /// <summary>The smallest configured context window among the target's deployments, in tokens; null when none is configured.</summary>
    int? ContextWindow(string target);
}
