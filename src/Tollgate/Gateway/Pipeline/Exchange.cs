using System.Text.Json;
using Tollgate.Ledger;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>One request's trip through the gateway: what was asked, where it went, and the clock readings.</summary>
public sealed class Exchange(string requestId, DateTimeOffset startedAt, long startTimestamp, GatewayEndpoint endpoint,
    string alias, Deployment deployment, JsonElement body, bool stream, Attribution attribution)
{
    public string RequestId { get; } = requestId;
    public DateTimeOffset StartedAt { get; } = startedAt;
    public long StartTimestamp { get; } = startTimestamp;
    public GatewayEndpoint Endpoint { get; } = endpoint;
    public string Alias { get; } = alias;
    /// <summary>The deployment of the current (finally, the last) attempt.</summary>
    public Deployment Deployment { get; private set; } = deployment;

    /// <summary>Calls made so far; see <see cref="Attempt"/>.</summary>
    public int Attempts { get; private set; }
    public JsonElement Body { get; } = body;
    public bool Stream { get; } = stream;
    /// <summary>Who it is charged to; a bounded-mode verification is marked as the response cache's work (<see cref="MarkAsCacheWork"/>).</summary>
    public Attribution Attribution { get; private set; } = attribution;

    /// <summary>Marks the call as one the response cache made for itself (<see cref="ResponseCacheWork"/>).</summary>
    public void MarkAsCacheWork(string purpose) => Attribution = ResponseCacheWork.Marked(Attribution, purpose);

    /// <summary>The provider's own id of the call that answered (for reconciling with its invoice), when it sent one.</summary>
    public string? UpstreamRequestId { get; set; }

    /// <summary>The prompt's facts kept on the record (<c>storage.record_prompt_facts</c>); null when off.</summary>
    public PromptFacts? PromptFacts { get; set; }

    /// <summary>When the first byte of the answer was sent to the client (streams).</summary>
    public long? FirstByteTimestamp { get; set; }

    /// <summary>The virtual-clock mark of an hourly-priced deployment, taken when the call began.</summary>
    public decimal HourlyMark { get; private set; }

    /// <summary>The worst-case cost held on the request's budgets until it is settled.</summary>
    public Policy.Budgets.BudgetReservation? Reservation { get; set; }

    /// <summary>
    /// A call to <paramref name="deployment"/> begins. A GPU-hour share taken for an earlier attempt is given back
    /// (that attempt produced nothing to bill), and a new one is taken.
    /// </summary>
    public void Attempt(Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (Attempts > 0)
        {
            Deployment.Pricing.Hourly?.End(HourlyMark);
        }

        Deployment = deployment;
        HourlyMark = deployment.Pricing.Hourly?.Begin() ?? 0;
        Attempts++;
    }

    /// <summary>Time spent in the forwarder (calls to providers, retry waits, and for a stream the whole relay).</summary>
    public TimeSpan UpstreamElapsed { get; set; }

    /// <summary>Time spent waiting for the record to be journaled (stage "journal" of <c>tollgate_gateway_stage_seconds</c>).</summary>
    public TimeSpan JournalElapsed { get; set; }

    /// <summary>When the record went to the journal: after the provider's time for a whole answer, inside the relay for a stream.</summary>
    public long JournalStartTimestamp { get; set; }

    /// <summary>The request's hold on its <c>Idempotency-Key</c>, when it sent one: a successful answer is kept under it.</summary>
    public Idempotency.IdempotencyClaim? IdempotencyClaim { get; set; }

    /// <summary>Set when the response cache may keep this request's answer (it missed, and the client allows keeping).</summary>
    public Optimization.ResponseCaching.CacheFill? CacheFill { get; set; }

    /// <summary>The semantic cache's look-up of this request, when it made one: its question is remembered if the answer is kept.</summary>
    public Optimization.SemanticCaching.SemanticLookup? SemanticLookup { get; set; }

    /// <summary>The kept answer a bounded-mode verification compares the fresh answer with.</summary>
    public Optimization.ResponseCaching.CachedAnswer? SemanticVerification { get; set; }

    /// <summary>An embeddings request looked up item by item: its kept vectors are merged into the provider's answer.</summary>
    public Optimization.ResponseCaching.EmbeddingItems? EmbeddingItems { get; set; }

    /// <summary><see cref="Ledger.ResponseCacheHit.Partial"/> when some embeddings items were kept, and what they saved.</summary>
    public string? ResponseCacheHit { get; set; }

    /// <inheritdoc cref="Ledger.UsageRecord.ResponseCacheSavedUsd"/>
    public decimal? ResponseCacheSavedUsd { get; set; }

    /// <summary>TPM admissions (of the key, and of each deployment called) made on the estimate, corrected with the real tokens at settlement.</summary>
    public List<Policy.RateLimits.SlidingWindowLog.Ticket> TokenTickets { get; } = [];

    /// <summary>
    /// The prompt count of the first deployment's estimate, when admission made one: the settler uses it for a usage
    /// the provider never reported instead of counting a large prompt a second time.
    /// </summary>
    public Metering.Tokenization.PromptTokenCount? CountedPrompt { get; set; }

    /// <summary>For a request to a router: where it sent it and why.</summary>
    public Routing.RouteChoice? Route { get; init; }

    /// <summary>For a routed request: the deployment its usage is also priced on, for what routing saved (null: none priced per token).</summary>
    public Deployment? RouteReference { get; init; }

    /// <summary>The prompt's tokens plus the output limit, for TPM admission; 0 when no limit needs it.</summary>
    public long EstimatedTokens { get; init; }
}
