namespace Tollgate.Configuration;

/// <summary>
/// How long an answer given under an <c>Idempotency-Key</c> is kept for replay, and the largest answer kept (a
/// larger one is not stored: a retry with the same key calls the provider again, and the gateway logs a warning).
/// </summary>
public sealed record IdempotencySettings(TimeSpan Retention, int MaxResponseBytes)
{
    public static IdempotencySettings Default { get; } = new(TimeSpan.FromHours(24), 4 * 1024 * 1024);
}
