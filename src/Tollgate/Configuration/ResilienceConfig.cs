namespace Tollgate.Configuration;

/// <summary>
/// How long one call to a deployment may take, phase by phase: making the connection, waiting for the response
/// headers, waiting between two pieces of the body (stream chunks), and the whole call.
/// </summary>
public sealed record DeploymentTimeouts(TimeSpan Connect, TimeSpan FirstByte, TimeSpan Idle, TimeSpan Total)
{
    /// <summary>Connect 10 s, idle 120 s, total 600 s; first byte = total, as a non-streamed answer of a reasoning model can take minutes.</summary>
    public static DeploymentTimeouts Default { get; } = new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(600), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(600));
}

/// <summary>
/// Retries of one deployment after a 429, a 5xx or a connection error, before the first byte reaches the client.
/// The delay is exponential with full jitter, or the provider's Retry-After when it sends one (up to
/// <see cref="MaxRetryAfter"/>; a longer wait moves on to the next fallback instead). Retries of a deployment are
/// limited to <see cref="BudgetRatio"/> of its requests, so a failing provider is not hit with extra load.
/// </summary>
public sealed record RetrySettings(int MaxRetries, TimeSpan BaseDelay, TimeSpan MaxDelay, TimeSpan MaxRetryAfter, decimal BudgetRatio)
{
    public static RetrySettings Default { get; } = new(2, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(30), 0.2m);
}

/// <summary>A deployment's circuit opens after <see cref="Failures"/> failures in a row and lets one probe through every <see cref="OpenFor"/>.</summary>
public sealed record BreakerSettings(int Failures, TimeSpan OpenFor)
{
    public static BreakerSettings Default { get; } = new(5, TimeSpan.FromSeconds(30));
}
