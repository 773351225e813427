using Tollgate.Gateway.Errors;

namespace Tollgate.Gateway.Idempotency;

/// <summary>
/// What <see cref="IdempotencyGate"/> decided: go ahead under <paramref name="Claim"/>, replay <paramref name="Replay"/>,
/// or refuse with <paramref name="Conflict"/> (409). <paramref name="StillRunning"/>: the conflict is the first request
/// with the key still running, so the client may retry shortly and get its answer.
/// </summary>
public sealed record IdempotencyDecision(IdempotencyClaim? Claim, StoredResponse? Replay, GatewayError? Conflict, bool StillRunning = false)
{
    public static IdempotencyDecision Running { get; } = new(null, null, new GatewayError(
        409, "invalid_request_error", "idempotency_key_in_use", "A request with this Idempotency-Key is still running; retry shortly to receive its answer."), true);

    public static IdempotencyDecision BodyDiffers(TimeSpan retention) => new(null, null, new GatewayError(
        409, "invalid_request_error", "idempotency_key_reused",
        $"This Idempotency-Key was used for a different request in the last {retention.TotalHours:0.##} h; use a new key for a new request."));
}
