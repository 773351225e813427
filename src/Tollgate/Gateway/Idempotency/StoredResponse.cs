namespace Tollgate.Gateway.Idempotency;

/// <summary>
/// An answer kept for replay under an idempotency key: what the client received (for a stream, every event it was
/// sent, as sent) and the request it first answered.
/// </summary>
/// <param name="Fingerprint">SHA-256 of the endpoint and the request body; a replay needs the same.</param>
/// <param name="RequestId">The gateway's id of the request that produced the answer (and its one usage record).</param>
/// <param name="CreatedAt">When it was kept; it is replayed for the configured retention (24 h by default).</param>
/// <param name="StatusCode">The HTTP status the client received.</param>
/// <param name="ContentType">The response's content type.</param>
/// <param name="Headers">The response headers to give back (the provider's passed-on headers and the deployment used).</param>
/// <param name="Body">The bytes the client received.</param>
public sealed record StoredResponse(
    byte[] Fingerprint,
    string RequestId,
    DateTimeOffset CreatedAt,
    int StatusCode,
    string ContentType,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[] Body);
