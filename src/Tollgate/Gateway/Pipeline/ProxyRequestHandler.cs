using System.Globalization;
using Microsoft.AspNetCore.Http;
using Tollgate.Gateway.Errors;
using Tollgate.Ledger;
using Tollgate.Metering;
using Tollgate.Policy;
using Tollgate.Policy.Budgets;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Runs a chat-completions or embeddings request through the stages in order: authenticate, read and guard the
/// body, attribute, route, forward, meter and settle. Each stage is its own class; this one only sequences them
/// and answers with the first error value any of them returns.
/// </summary>
public sealed class ProxyRequestHandler(
    Authenticator authenticator,
    RequestBodyReader bodyReader,
    RequestPolicy policy,
    Forwarding.Forwarder forwarder,
    BudgetGuard budgets,
    Policy.RateLimits.RateLimiter rateLimiter,
    UsageSettler settler,
    Idempotency.IdempotencyGate idempotency,
    Analytics.Metrics.GatewayMetrics metrics,
    SecretScrubber scrubber,
    Optimization.ResponseCaching.ResponseCache cache,
    ResponseCacheStage cacheStage,
    Routing.RouterTable routers,
    Responses.ResponseOwnership responses,
    PromptFactsRecorder promptFacts,
    TimeProvider time)
{
    public const string RequestIdHeader = "X-Request-ID";
    public const string DeploymentHeader = "X-Tollgate-Model";
    public const string CostHeader = "X-Tollgate-Cost-USD";
    public const string BudgetRemainingHeader = "X-Tollgate-Budget-Remaining";
    public const string RouteHeader = "X-Tollgate-Route";

    public async Task HandleAsync(HttpContext context, GatewayEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(context);
        var startTimestamp = time.GetTimestamp();
        var startedAt = time.GetUtcNow();
        var requestId = RequestId.New(startedAt);
        context.Response.Headers[RequestIdHeader] = requestId;

        var caller = authenticator.Authenticate(context.Request, out var authError);
        if (caller is null)
        {
            await RejectAsync(context, endpoint, authError!);
            return;
        }

        var (parsed, bodyError) = await bodyReader.ReadAsync(context.Request, endpoint, context.RequestAborted);
        if (parsed is null)
        {
            await RejectAsync(context, endpoint, bodyError!);
            return;
        }

        using (parsed)
        {
            var (attribution, attributionError) = AttributionReader.Read(context.Request.Headers, parsed.Body, caller);
            if (attribution is null)
            {
                await RejectAsync(context, endpoint, attributionError!);
                return;
            }

            if (caller.Key is { } key && !key.Allows(parsed.Model))
            {
                await RejectAsync(context, endpoint, new GatewayError(
                    StatusCodes.Status403Forbidden, "permission_error", "model_not_allowed", $"This API key may not use the model '{parsed.Model}'.", "model"));
                return;
            }

            if (RequestPolicyEnforcer.Apply(policy, attribution, parsed.Body, endpoint, out var rewritten, caller.Key?.MaxTokensCap, caller.Key?.MaxTokensDefault) is { } policyError)
            {
                await RejectAsync(context, endpoint, policyError);
                return;
            }

            if (rewritten is not null)
            {
                parsed.ReplaceBody(rewritten);
            }

            var idempotencyKey = Idempotency.IdempotencyKeyHeader.Read(context.Request.Headers, out var keyError);
            if (keyError is not null)
            {
                await RejectAsync(context, endpoint, keyError);
                return;
            }

            Idempotency.IdempotencyClaim? claim = null;
            if (idempotencyKey is not null)
            {
                var decision = await idempotency.BeginAsync(
                    caller.KeyId, idempotencyKey, Idempotency.IdempotencyKeyHeader.Fingerprint(endpoint, parsed.RawBody.Span), context.RequestAborted);
                if (decision.Replay is { } kept)
                {
                    metrics.CacheHit("idempotency");
                    await Idempotency.IdempotentReplay.WriteAsync(context.Response, kept, context.RequestAborted);
                    return;
                }

                if (decision.Conflict is { } conflict)
                {
                    if (decision.StillRunning)
                    {
                        context.Response.Headers.RetryAfter = "1";
                    }

                    await RejectAsync(context, endpoint, conflict);
                    return;
                }

                claim = decision.Claim;
            }

            // Frees the key on every way out; a successful answer has been kept by then.
            await using var heldClaim = claim;

            var router = routers.Find(parsed.Model);
            Routing.RouteChoice? route = null;
            IReadOnlyList<Deployment> all;
            if (router is not null)
            {
                route = await router.DecideAsync(new Routing.RouteRequest(parsed.Body, attribution, () => CountPromptTokens(parsed, router)), context.RequestAborted);
                all = RoutedCandidates(router, route.Target);
                context.Response.Headers[RouteHeader] = $"{route.Target}; reason={route.Reason}";
            }
            else
            {
                all = forwarder.Candidates(parsed.Model);
            }

            if (all.Count == 0)
            {
                await RejectAsync(context, endpoint, GatewayError.ModelNotFound(parsed.Model));
                return;
            }

            var candidates = Supporting(all, endpoint);
            if (candidates.Count == 0)
            {
                await RejectAsync(context, endpoint, WrongEndpoint(parsed.Model, all[0], endpoint));
                return;
            }

            var deployment = candidates[0];
            context.Response.Headers[DeploymentHeader] = deployment.Name;

            var (embeddingItems, bypassed) = await cacheStage.PrepareEmbeddingsAsync(caller, endpoint, parsed, context.Request.Headers, context.RequestAborted);

            // Counted at most once, and only when a limit or a budget needs it.
            RequestEstimate? estimate = null;
            RequestEstimate Estimate() => estimate ??= RequestEstimate.Of(parsed.Body, parsed.RawBody.Span, deployment, startedAt);
            var exchange = new Exchange(requestId, startedAt, startTimestamp, endpoint, parsed.Model, deployment, parsed.Body, parsed.Stream, attribution)
            {
                IdempotencyClaim = claim,
                Route = route,
                RouteReference = router?.Reference,
                EstimatedTokens = candidates.Any(c => c.Config.RateLimit.TokensPerMinute is not null) ? Estimate().Tokens : 0,
            };
            var forwardedHeaders = ForwardedHeaders(context.Request.Headers, endpoint, out var headerError);
            if (headerError is not null)
            {
                await RejectAsync(context, endpoint, headerError);
                return;
            }

            // A kept answer costs nothing: it is served before rate limits and budgets, which guard provider calls.
            if (await cacheStage.TryAnswerAsync(context, exchange, candidates, caller, parsed, embeddingItems, bypassed))
            {
                return;
            }

            exchange.PromptFacts = await promptFacts.OfAsync(parsed.Body, attribution, route, context.RequestAborted);
            var wantsStreamUsage = RequestBodyRewriter.ClientWantsStreamUsage(parsed.Body);
            var shown = deployment;
            ProviderRequest RequestFor(Deployment target)
            {
                if (target != shown)
                {
                    context.Response.Headers[DeploymentHeader] = target.Name;
                    shown = target;
                }

                return new ProviderRequest(target.Config, endpoint, parsed.Body, parsed.Stream, wantsStreamUsage) { ForwardedHeaders = forwardedHeaders };
            }

            // The key's limits are admitted here; a deployment's are admitted by the forwarder, call by call, so a
            // deployment at its limit passes the request on to the next candidate.
            if (caller.Key is { RateLimit.IsSet: true } limitedKey)
            {
                var (tickets, limitError, wait) = await rateLimiter.AdmitAsync([($"key {limitedKey.Id}", limitedKey.RateLimit)], Estimate().Tokens, context.RequestAborted);
                if (limitError is not null)
                {
                    context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                    await RejectAsync(context, endpoint, limitError);
                    return;
                }

                exchange.TokenTickets.AddRange(tickets);
            }

            if (budgets.Any)
            {
                // A fallback may cost more than the first choice: the most expensive candidate is held.
                var worstCase = Estimate().WorstCaseUsd() ?? 0;
                var unbounded = Estimate().CannotBound(deployment);
                foreach (var other in candidates.Skip(1))
                {
                    var otherEstimate = RequestEstimate.Of(parsed.Body, parsed.RawBody.Span, other, startedAt);
                    worstCase = Math.Max(worstCase, otherEstimate.WorstCaseUsd() ?? 0);
                    unbounded ??= otherEstimate.CannotBound(other);
                }

                var (reservation, budgetError, remaining) = await budgets.AdmitAsync(attribution, worstCase, unbounded, context.RequestAborted);
                if (budgetError is not null)
                {
                    await RejectAsync(context, endpoint, budgetError);
                    return;
                }

                exchange.Reservation = reservation;
                if (remaining is { } left)
                {
                    context.Response.Headers[BudgetRemainingHeader] = Math.Max(0, left).ToString(CultureInfo.InvariantCulture);
                }
            }

            exchange.CountedPrompt = estimate?.Prompt;
            var forwardStart = time.GetTimestamp();
            try
            {
                if (parsed.Stream)
                {
                    await StreamAsync(context, exchange, candidates, RequestFor, forwardStart);
                }
                else
                {
                    await SendAsync(context, exchange, candidates, RequestFor, forwardStart);
                }
            }
            finally
            {
                if (exchange.Attempts > 0)
                {
                    // A stream's record is journaled inside the relay, in the provider's time: only a whole answer's
                    // journal wait is a stage of the gateway's own.
                    var journalAfterUpstream = exchange.JournalStartTimestamp != 0 && time.GetElapsedTime(forwardStart, exchange.JournalStartTimestamp) >= exchange.UpstreamElapsed;
                    metrics.Timed(
                        exchange.Deployment.Name, time.GetElapsedTime(startTimestamp), exchange.UpstreamElapsed, time.GetElapsedTime(startTimestamp, forwardStart),
                        journalAfterUpstream ? exchange.JournalElapsed : null);
                }
            }
        }
    }

    /// <summary>
    /// A routed request's deployments: the chosen target's, then the router's other targets' in their order, so that a
    /// target that is down or rate-limited falls through to the next.
    /// </summary>
    private List<Deployment> RoutedCandidates(Routing.Router router, string target)
    {
        var candidates = new List<Deployment>(forwarder.Candidates(target));
        foreach (var other in router.Settings.Targets)
        {
            if (other != target)
            {
                candidates.AddRange(forwarder.Candidates(other).Where(d => !candidates.Contains(d)));
            }
        }

        return candidates;
    }

    /// <summary>The prompt's tokens for a rule on length, counted with the tokenizer of the router's first target.</summary>
    private long CountPromptTokens(ParsedRequest parsed, Routing.Router router)
    {
        // Read from the configuration: asking the forwarder for candidates would move the target's round robin.
        var model = routers.First(router.Settings.Targets[0])?.Config.Model ?? parsed.Model;
        return Metering.Tokenization.PromptTokenCounter.Count(parsed.Body, model).Tokens;
    }

    /// <summary>Refuses the request before any provider call; <c>/metrics</c> counts refusals by error code.</summary>
    private Task RejectAsync(HttpContext context, GatewayEndpoint endpoint, GatewayError error)
    {
        metrics.Rejected(error.Code);
        return ErrorResponder.WriteAsync(context.Response, endpoint, error);
    }

    private async Task SendAsync(HttpContext context, Exchange exchange, IReadOnlyList<Deployment> candidates, Func<Deployment, ProviderRequest> requestFor, long forwardStart)
    {
        ProviderResult<UpstreamReply> result;
        try
        {
            result = await forwarder.ForwardAsync(
                exchange, candidates, d => d.Adapter.SendAsync(requestFor(d), context.RequestAborted), reply => reply, () => true, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            await ClientLeftAsync(exchange);
            return;
        }
        finally
        {
            exchange.UpstreamElapsed = time.GetElapsedTime(forwardStart);
        }

        if (result.Failure is { } failure)
        {
            await FailAsync(context, exchange, failure);
            return;
        }

        await SettleAndWriteAsync(context, exchange, result.Value!);
    }

    /// <summary>The client left while the provider was working (or between retries): the provider may still bill the prompt.</summary>
    private ValueTask<UsageRecord> ClientLeftAsync(Exchange exchange) =>
        settler.SettleAsync(exchange, new ExchangeResult(RecordStatus.ClientCancelled, 499, Usage.None, 0, exchange.Attempts > 0, "the client closed the connection"));

    /// <summary>
    /// A call that failed before any answer. A request the adapter could not express in the provider's format never
    /// left the gateway: it is a 400 and leaves no record. Anything else may have reached the provider: one record.
    /// </summary>
    private async Task FailAsync(HttpContext context, Exchange exchange, ProviderFailure failure)
    {
        if (failure.Kind is ProviderFailureKind.Unavailable or ProviderFailureKind.RateLimited)
        {
            budgets.Settle(exchange.Reservation, 0);
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling((failure.RetryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            if (failure.Kind == ProviderFailureKind.RateLimited)
            {
                await RejectAsync(context, exchange.Endpoint, new GatewayError(StatusCodes.Status429TooManyRequests, "rate_limit_error", "rate_limit_exceeded", failure.Message));
            }
            else
            {
                metrics.Rejected("circuit_open");
                await ErrorResponder.WriteAsync(context.Response, exchange.Endpoint, GatewayError.Upstream(StatusCodes.Status503ServiceUnavailable, failure.Message));
            }

            return;
        }

        if (failure.Kind == ProviderFailureKind.Rejected)
        {
            exchange.Deployment.Pricing.Hourly?.End(exchange.HourlyMark);
            budgets.Settle(exchange.Reservation, 0);
            await RejectAsync(context, exchange.Endpoint, GatewayError.InvalidRequest(failure.Message, "unsupported_for_provider"));
            return;
        }

        var error = ToError(failure with { Message = scrubber.Scrub(failure.Message) });
        await settler.SettleAsync(exchange, new ExchangeResult(RecordStatus.UpstreamError, error.Status, Usage.None, 0, false, failure.Message));
        await ErrorResponder.WriteAsync(context.Response, exchange.Endpoint, error);
    }

    /// <summary>Records a whole answer from the provider and passes it to the client with its status, headers and cost.</summary>
    private async Task SettleAndWriteAsync(HttpContext context, Exchange exchange, UpstreamReply reply)
    {
        var status = reply.IsSuccess ? RecordStatus.Ok : RecordStatus.UpstreamError;
        exchange.UpstreamRequestId = UpstreamHeaders.RequestIdIn(reply.Headers);
        var record = await settler.SettleAsync(exchange, new ExchangeResult(
            status, reply.StatusCode, reply.Usage, reply.OutputCharacters, true, reply.IsSuccess ? null : $"provider answered {reply.StatusCode}"));
        foreach (var (name, value) in reply.Headers)
        {
            context.Response.Headers[name] = value;
        }

        if (record.Cost.Total is { } cost)
        {
            context.Response.Headers[CostHeader] = cost.ToString(CultureInfo.InvariantCulture);
        }

        var body = reply.IsSuccess ? reply.Body : scrubber.Scrub(reply.Body);
        if (reply.IsSuccess && exchange.EmbeddingItems is { } items)
        {
            var (merged, fresh) = items.Merge(body, record.Usage.InputTokens, exchange.Deployment.Name, exchange.Deployment.Config.Model, exchange.RequestId, time.GetUtcNow());
            await cache.KeepAsync(fresh, context.RequestAborted);
            if (items.Missing.Count < items.Count)
            {
                if (merged is null)
                {
                    await ErrorResponder.WriteAsync(context.Response, exchange.Endpoint, GatewayError.Upstream(
                        StatusCodes.Status502BadGateway, "The provider's embeddings answer did not hold one vector per input sent, so it could not be merged with the kept vectors."));
                    return;
                }

                body = merged;
            }
        }
        if (reply.IsSuccess && exchange.Endpoint == GatewayEndpoint.Responses)
        {
            await responses.RememberAsync(exchange, Responses.ResponseOwnership.IdOf(body), context.RequestAborted);
        }

        if (reply.IsSuccess && exchange.IdempotencyClaim is { } claim)
        {
            await claim.KeepAsync(exchange.RequestId, reply.StatusCode, reply.ContentType, [.. reply.Headers, new(DeploymentHeader, exchange.Deployment.Name)], body);
        }

        if (reply.IsSuccess && !exchange.Stream && exchange.CacheFill is { } fill)
        {
            await cache.KeepAsync(fill, exchange.Deployment.Name, record.Usage, exchange.RequestId, reply.ContentType, reply.Headers, body, context.RequestAborted);
            await cacheStage.KeptAsync(exchange, body, fill.Key, context.RequestAborted);
        }

        context.Response.StatusCode = reply.StatusCode;
        context.Response.ContentType = reply.ContentType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private async Task StreamAsync(HttpContext context, Exchange exchange, IReadOnlyList<Deployment> candidates, Func<Deployment, ProviderRequest> requestFor, long forwardStart)
    {
        var sink = new SseResponseSink(context.Response, exchange, settler, scrubber, time);
        ProviderResult<StreamOutcome> result;
        try
        {
            result = await forwarder.ForwardAsync(
                exchange, candidates, d => d.Adapter.StreamAsync(requestFor(d), sink, context.RequestAborted), outcome => outcome.WholeReply, () => !sink.Begun, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            await ClientLeftAsync(exchange);
            return;
        }
        finally
        {
            // For a stream this is the whole relay: the provider's pace sets it, the gateway's work per event is inside.
            exchange.UpstreamElapsed = time.GetElapsedTime(forwardStart);
        }

        if (result.Failure is { } failure)
        {
            await FailAsync(context, exchange, failure);
            return;
        }

        var outcome = result.Value!;
        if (outcome.WholeReply is { } whole)
        {
            await SettleAndWriteAsync(context, exchange, whole);
            return;
        }

        if (exchange.Endpoint == GatewayEndpoint.Responses && outcome.Failure is null)
        {
            await responses.RememberAsync(exchange, outcome.ProviderObjectId, context.RequestAborted);
        }

        if (sink.Record is { } finished)
        {
            // A stream whose end event was not forwarded is kept here, after its last byte.
            await sink.KeepAsync();
            await KeepStreamAsync(exchange, sink, finished, context.RequestAborted);
            return;
        }

        var (status, httpStatus) = outcome.Failure?.Kind switch
        {
            null => (RecordStatus.Ok, StatusCodes.Status200OK),
            ProviderFailureKind.ClientCancelled => (RecordStatus.ClientCancelled, 499),
            _ => (RecordStatus.StreamCut, StatusCodes.Status502BadGateway),
        };
        var record = await settler.SettleAsync(exchange, new ExchangeResult(status, httpStatus, outcome.Usage, outcome.OutputCharacters, true, outcome.Failure?.Message));
        if (status == RecordStatus.Ok)
        {
            await sink.KeepAsync();
            await KeepStreamAsync(exchange, sink, record, context.RequestAborted);
        }

        if (outcome.Failure is { Kind: not ProviderFailureKind.ClientCancelled } cut && sink.Begun)
        {
            await WriteStreamErrorAsync(context, exchange.Endpoint, GatewayError.Upstream(StatusCodes.Status502BadGateway, scrubber.Scrub(cut.Message)));
        }
    }

    /// <summary>Keeps a stream that ended well in the response cache, when the request may fill it.</summary>
    private async Task KeepStreamAsync(Exchange exchange, SseResponseSink sink, UsageRecord record, CancellationToken cancellationToken)
    {
        if (exchange.CacheFill is { Overflowed: false, Events: { } events } fill && sink.Begun)
        {
            await cache.KeepAsync(fill, exchange.Deployment.Name, record.Usage, exchange.RequestId, Idempotency.IdempotencyClaim.StreamContentType, sink.UpstreamHeaders, events, cancellationToken);
            await cacheStage.KeptAsync(exchange, events, fill.Key, cancellationToken);
        }
    }

    /// <summary>An error inside a stream that has begun: one SSE event with OpenAI's error object.</summary>
    private static async Task WriteStreamErrorAsync(HttpContext context, GatewayEndpoint endpoint, GatewayError error)
    {
        try
        {
            await context.Response.BodyWriter.WriteAsync(ErrorResponder.StreamEvent(endpoint, error), context.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The client is gone too; the record is already written.
        }
    }

    /// <summary>
    /// The client headers a provider's protocol needs, by allow-list; nothing else of the client's goes upstream (its
    /// Authorization never does). A value with control characters (CR/LF: header injection) is refused.
    /// </summary>
    private static IReadOnlyList<KeyValuePair<string, string>> ForwardedHeaders(IHeaderDictionary headers, GatewayEndpoint endpoint, out GatewayError? error)
    {
        error = null;
        if (endpoint != GatewayEndpoint.Messages)
        {
            return [];
        }

        List<KeyValuePair<string, string>> forwarded = [];
        foreach (var name in new[] { "anthropic-version", "anthropic-beta" })
        {
            if (headers.TryGetValue(name, out var value) && value.Count > 0)
            {
                var text = value.ToString();
                if (text.Any(c => char.IsControl(c)))
                {
                    error = GatewayError.InvalidRequest($"The header '{name}' contains control characters.", "invalid_header");
                    return [];
                }

                forwarded.Add(new(name, text));
            }
        }

        return forwarded;
    }

    private static GatewayError WrongEndpoint(string alias, Deployment deployment, GatewayEndpoint endpoint) => GatewayError.InvalidRequest(
        endpoint == GatewayEndpoint.Messages
            ? $"The model '{alias}' is served by {deployment.Config.Provider}, which speaks the OpenAI format: call POST /v1/chat/completions."
            : $"The model '{alias}' is served by {deployment.Config.Provider}, which cannot serve this endpoint.",
        "unsupported_endpoint",
        "model");

    private static GatewayError ToError(ProviderFailure failure) => failure.Kind switch
    {
        ProviderFailureKind.Timeout => GatewayError.Upstream(StatusCodes.Status504GatewayTimeout, "The provider did not answer in time: " + failure.Message),
        _ => GatewayError.Upstream(StatusCodes.Status502BadGateway, "The provider could not be reached: " + failure.Message),
    };

    /// <summary>The candidates whose provider serves this endpoint (the same list when all of them do, as usual).</summary>
    private static IReadOnlyList<Deployment> Supporting(IReadOnlyList<Deployment> all, GatewayEndpoint endpoint)
    {
        for (var i = 0; i < all.Count; i++)
        {
            if (!all[i].Adapter.Supports(endpoint))
            {
                return [.. all.Where(d => d.Adapter.Supports(endpoint))];
            }
        }

        return all;
    }
}
