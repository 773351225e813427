using Tollgate.Metering;

namespace Tollgate.Ledger;

/// <summary>Who a request is charged to: the key plus every attribution field and custom tags.</summary>
public sealed record Attribution(
    string? KeyId,
    string? User,
    string? Session,
    string? CostCenter,
    string? Feature,
    string? Project,
    string? Env,
    IReadOnlyDictionary<string, string> Tags)
{
    public static Attribution Empty { get; } = new(null, null, null, null, null, null, null, new Dictionary<string, string>());
}

/// <summary>Outcome of a request as recorded in the ledger.</summary>
public static class RecordStatus
{
    public const string Ok = "ok";
    public const string UpstreamError = "upstream_error";
    public const string ClientCancelled = "client_cancelled";
    public const string StreamCut = "stream_cut";

    /// <summary>A batch line the provider did not run before the batch's completion window ended (not billed).</summary>
    public const string Expired = "expired";

    /// <summary>A batch line the provider did not run because the batch was cancelled (not billed).</summary>
    public const string Cancelled = "cancelled";
}

/// <summary>The kinds of response-cache hit a record can show.</summary>
public static class ResponseCacheHit
{
    public const string Exact = "exact";
    public const string Semantic = "semantic";

    /// <summary>An embeddings request some of whose items were kept: the rest went to the provider, in the same record.</summary>
    public const string Partial = "partial";
}

/// <summary>
/// The calls the response cache makes for itself, marked by a tag on their records so that their cost is shown apart
/// (reports' <c>response_cache_spent_usd</c>, in every grouping): the semantic cache's embeddings through an alias, and
/// the bounded mode's verifications (would-be hits forwarded anyway to check the kept answer).
/// </summary>
public static class ResponseCacheWork
{
    public const string Tag = "tollgate_cache";
    public const string Embedding = "embedding";
    public const string Verification = "verification";

    /// <summary>Whether the record is of a call the response cache made for itself.</summary>
    public static bool Of(UsageRecord record) => record?.Attribution.Tags.ContainsKey(Tag) == true;

    /// <summary><paramref name="attribution"/> with the tag saying the call was made for <paramref name="purpose"/>.</summary>
    public static Attribution Marked(Attribution attribution, string purpose)
    {
        ArgumentNullException.ThrowIfNull(attribution);
        return attribution with { Tags = new Dictionary<string, string>(attribution.Tags, StringComparer.Ordinal) { [Tag] = purpose } };
    }
}

/// <summary>Exactly one of these is written for every request that reached a provider.</summary>
public sealed record UsageRecord
{
    public required string Id { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public required double LatencyMs { get; init; }
    public double? TimeToFirstByteMs { get; init; }
    public required Attribution Attribution { get; init; }
    public required string Endpoint { get; init; }
    public required string Alias { get; init; }
    public required string Deployment { get; init; }
    public required string Provider { get; init; }
    public required string UpstreamModel { get; init; }
    public required bool Stream { get; init; }
    public required string Status { get; init; }
    public required int HttpStatus { get; init; }

    /// <summary>Calls made to providers for this request: 1, plus retries and fallbacks that failed before an answer.</summary>
    public int Attempts { get; init; } = 1;
    public required Usage Usage { get; init; }
    public required CostBreakdown Cost { get; init; }

    /// <summary>Where the price came from (catalogue entry and date, override, hourly), or why it is unknown.</summary>
    public required string PriceSource { get; init; }

    /// <summary>What prompt caching saved on this request (negative for a request that only wrote to the cache); null when unpriced.</summary>
    public decimal? CacheSavingsUsd { get; init; }

    /// <summary>
    /// How the answer came from the response cache — <see cref="ResponseCacheHit.Exact"/> or
    /// <see cref="ResponseCacheHit.Semantic"/> with no provider call, <see cref="ResponseCacheHit.Partial"/> for an
    /// embeddings request whose missing items the provider embedded; null for an answer wholly from a provider.
    /// </summary>
    public string? ResponseCacheHit { get; init; }

    /// <summary>For a semantic hit, the similarity of the query to the cached one.</summary>
    public double? ResponseCacheSimilarity { get; init; }

    /// <summary>For a cache hit, what the call (or the kept items) would have cost from the provider at the day's price; null when unpriced.</summary>
    public decimal? ResponseCacheSavedUsd { get; init; }

    /// <summary>For a request to a router: the target alias it chose (the alias the client called is <see cref="Alias"/>).</summary>
    public string? RouteTarget { get; init; }

    /// <summary>Why the router chose it: <c>rule:NAME</c>, <c>weight:TARGET</c>, or <c>default</c>.</summary>
    public string? RouteReason { get; init; }

    /// <summary>
    /// For a routed request, what its usage would have cost on the router's reference target (by default its most expensive)
    /// at the day's price; null when either side is unpriced. Saved by routing = this − <see cref="CostBreakdown.Total"/>.
    /// </summary>
    public decimal? RouteReferenceCostUsd { get; init; }

    /// <summary>What routing saved on this request (reference cost − cost), or null when it was not routed or either is unknown.</summary>
    public decimal? RoutingSavedUsd => RouteReferenceCostUsd is { } reference && Cost.Total is { } cost ? reference - cost : null;

    /// <summary>For a line of a batch (Batch API): the provider's batch id, which links the line to its batch.</summary>
    public string? BatchId { get; init; }

    /// <summary>
    /// For a line of a batch, what its usage would have cost at the realtime price of the same day; null when unpriced.
    /// Saved by batching = this − <see cref="CostBreakdown.Total"/>.
    /// </summary>
    public decimal? RealtimeCostUsd { get; init; }

    /// <summary>What running the request in a batch saved (realtime cost − cost), or null when it was not a batch line or either is unknown.</summary>
    public decimal? BatchSavedUsd => RealtimeCostUsd is { } realtime && Cost.Total is { } cost ? realtime - cost : null;

    /// <summary>The output limit the request was granted (its own, or the one the <c>max_tokens</c> policy set); null when none.</summary>
    public long? MaxOutputTokens { get; init; }

    /// <summary>
    /// A hash of the request's stable prefix — system or developer instructions and tool definitions — so that repeats
    /// of a long prefix (prompt-caching candidates) can be found; null when it has none, or when
    /// <c>storage.record_prompt_hashes</c> is off. See <see cref="Gateway.Pipeline.RequestFingerprint"/>.
    /// </summary>
    public string? PromptPrefixHash { get; init; }

    /// <summary>The prefix's length in tokens (the model's encoding, else about four characters a token).</summary>
    public long? PromptPrefixTokens { get; init; }

    /// <summary>A hash of the whole request body as sent: equal hashes are exact duplicates (null when hashes are off).</summary>
    public string? RequestHash { get; init; }

    /// <summary>
    /// A hash of the request's question as the semantic cache normalises it (its last user message: case, punctuation,
    /// number formats and filler words aside) with everything else in the body: equal question hashes under different
    /// request hashes are near-duplicates an exact cache misses. Null when hashes are off or there is no plain question.
    /// </summary>
    public string? QuestionHash { get; init; }

    /// <summary>
    /// The prompt's length, shape and (when an embedder is named) its last user message's vector, for
    /// <c>tollgate route simulate</c>; null unless <c>storage.record_prompt_facts</c> is on. Never text.
    /// </summary>
    public PromptFacts? PromptFacts { get; init; }

    /// <summary>The provider's own id of the call (OpenAI's <c>x-request-id</c>, Anthropic's <c>request-id</c>), for reconciling with its invoice.</summary>
    public string? UpstreamRequestId { get; init; }

    public string? Error { get; init; }
}
