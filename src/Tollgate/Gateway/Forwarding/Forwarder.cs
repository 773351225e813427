using System.Text;
using Tollgate.Configuration;
using Tollgate.Gateway.Pipeline;
using Tollgate.Providers;

namespace Tollgate.Gateway.Forwarding;

/// <summary>
/// Stage 7: sends a request to its deployments in order until one answers. A 429, a 5xx or a connection error is
/// retried on the same deployment (exponential backoff with full jitter, or the provider's Retry-After, within the
/// deployment's retry budget) and then moved to the next candidate: the alias's other deployments, then its
/// fallback aliases. A deployment whose circuit is open is skipped. A prompt too long for the model moves to the
/// alias's context-window fallbacks. A deployment at its own <c>rpm</c>/<c>tpm</c> is skipped like an open one. Nothing
/// is retried once a byte has gone to the client, nor after a timeout (the provider may have done, and billed, the work).
/// </summary>
public sealed class Forwarder(DeploymentHealth health, GatewayConfig config, DeploymentRouter router, Policy.RateLimits.RateLimiter rateLimiter, TimeProvider time)
{
    /// <summary>The deployments a request for <paramref name="alias"/> may be served by, in the order they are tried.</summary>
    public IReadOnlyList<Deployment> Candidates(string alias)
    {
        var own = router.Candidates(alias);
        if (own.Count == 0 || !config.Fallbacks.TryGetValue(alias, out var fallbacks))
        {
            return own;
        }

        var candidates = new List<Deployment>(own);
        foreach (var fallback in fallbacks)
        {
            candidates.AddRange(router.Candidates(fallback).Where(d => !candidates.Contains(d)));
        }

        return candidates;
    }

    /// <param name="exchange">The request; its deployment and attempt count follow each call.</param>
    /// <param name="candidates">From <see cref="Candidates"/>, those that serve the endpoint.</param>
    /// <param name="attempt">Sends the request to one deployment.</param>
    /// <param name="wholeReplyOf">The whole answer in a result (null for a stream that ran), to judge it.</param>
    /// <param name="mayRetry">False once anything has been sent to the client.</param>
    /// <param name="cancellationToken">The client's; a backoff wait ends when the client leaves.</param>
    public async Task<ProviderResult<T>> ForwardAsync<T>(
        Exchange exchange,
        IReadOnlyList<Deployment> candidates,
        Func<Deployment, Task<ProviderResult<T>>> attempt,
        Func<T, UpstreamReply?> wholeReplyOf,
        Func<bool> mayRetry,
        CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(attempt);
        ArgumentNullException.ThrowIfNull(wholeReplyOf);
        ArgumentNullException.ThrowIfNull(mayRetry);
        // Copied only when a context-window fallback changes what is left to try.
        var queue = candidates;
        var contextFallbackTaken = false;
        ProviderResult<T>? last = null;
        ProviderFailure? rateLimited = null;
        for (var next = 0; next < queue.Count; next++)
        {
            var deployment = queue[next];
            var breaker = health.Breaker(deployment.Name);
            if (!deployment.Adapter.Supports(exchange.Endpoint) || !breaker.TryPass())
            {
                continue;
            }

            var budget = health.Budget(deployment.Name);
            budget.Requested();
            for (var retry = 1; ; retry++)
            {
                if (await AdmitCallAsync(exchange, deployment, cancellationToken) is { } refusal)
                {
                    rateLimited = refusal.RetryAfter < rateLimited?.RetryAfter ? refusal : rateLimited ?? refusal;
                    break;
                }

                exchange.Attempt(deployment);
                ProviderResult<T> result;
                try
                {
                    result = await attempt(deployment);
                }
                catch (OperationCanceledException)
                {
                    breaker.Abandoned();
                    throw;
                }

                last = result;
                var reply = result.Value is { } value ? wholeReplyOf(value) : null;
                var verdict = Judge(result.Failure, reply, result.Value is not null && reply is null);
                Report(breaker, verdict);
                if (verdict is Verdict.Answered or Verdict.Final || !mayRetry())
                {
                    return result;
                }

                if (verdict == Verdict.ContextWindow)
                {
                    if (!contextFallbackTaken && config.ContextWindowFallbacks.TryGetValue(exchange.Alias, out var larger))
                    {
                        contextFallbackTaken = true;
                        var tried = queue.Take(next + 1).ToList();
                        tried.AddRange(larger.SelectMany(router.Candidates).Where(d => !tried.Contains(d)));
                        queue = tried;
                    }
                    else
                    {
                        return result;
                    }

                    break;
                }

                var wait = Backoff.Delay(retry, reply is null ? null : RetryAfter.Parse(reply.Headers, time.GetUtcNow()), config.Retries, Random.Shared);
                var allowed = deployment.Config.MaxRetries ?? config.Retries.MaxRetries;
                if (retry > allowed || wait > config.Retries.MaxRetryAfter || breaker.State != CircuitState.Closed || !budget.TryRetry())
                {
                    break;
                }

                await RetryWait.UntilAsync(wait, time, cancellationToken);
                if (breaker.State != CircuitState.Closed)
                {
                    // Opened by other requests while this one waited: only its probe may go now.
                    break;
                }
            }
        }

        return last ?? rateLimited ?? AllUnavailable(exchange.Alias, candidates);
    }

    /// <summary>
    /// A call (first or retry) counts against the deployment's own limits (across replicas, with PostgreSQL); at a
    /// limit, the deployment is passed over.
    /// </summary>
    private async ValueTask<ProviderFailure?> AdmitCallAsync(Exchange exchange, Deployment deployment, CancellationToken cancellationToken)
    {
        if (!deployment.Config.RateLimit.IsSet)
        {
            return null;
        }

        var (tickets, error, wait) = await rateLimiter.AdmitAsync([($"deployment {deployment.Name}", deployment.Config.RateLimit)], exchange.EstimatedTokens, cancellationToken);
        if (error is not null)
        {
            return new ProviderFailure(ProviderFailureKind.RateLimited, error.Message) { RetryAfter = wait };
        }

        exchange.TokenTickets.AddRange(tickets);
        return null;
    }

    /// <summary>Every candidate's circuit is open: nothing was sent. The client is told when the first probe may go.</summary>
    private ProviderFailure AllUnavailable(string alias, IReadOnlyList<Deployment> candidates)
    {
        var now = time.GetUtcNow();
        var soonest = candidates.Select(d => health.Breaker(d.Name).OpenUntil).Where(t => t is not null).Min() ?? now;
        return new ProviderFailure(ProviderFailureKind.Unavailable, $"every deployment of '{alias}' is failing and paused; try again shortly")
        {
            RetryAfter = soonest > now ? soonest - now : TimeSpan.FromSeconds(1),
        };
    }

    private static void Report(CircuitBreaker breaker, Verdict verdict)
    {
        if (verdict is Verdict.Retryable or Verdict.Final)
        {
            breaker.Failed();
        }
        else
        {
            breaker.Succeeded();
        }
    }

    private static Verdict Judge(ProviderFailure? failure, UpstreamReply? reply, bool streamRan)
    {
        if (failure is not null)
        {
            return failure.Kind switch
            {
                ProviderFailureKind.Unreachable => Verdict.Retryable,
                ProviderFailureKind.Timeout => Verdict.Final,
                _ => Verdict.Answered,
            };
        }

        if (streamRan || reply is null || reply.IsSuccess)
        {
            return Verdict.Answered;
        }

        return reply.StatusCode switch
        {
            429 or >= 500 => Verdict.Retryable,
            400 when IsContextWindowError(reply.Body.Span) => Verdict.ContextWindow,
            _ => Verdict.Answered,
        };
    }

    /// <summary>The providers' ways of saying the prompt does not fit the model's context window.</summary>
    private static bool IsContextWindowError(ReadOnlySpan<byte> body)
    {
        var text = Encoding.UTF8.GetString(body);
        return text.Contains("context_length_exceeded", StringComparison.Ordinal)
            || text.Contains("maximum context length", StringComparison.OrdinalIgnoreCase)
            || text.Contains("prompt is too long", StringComparison.OrdinalIgnoreCase)
            || text.Contains("exceeds the maximum number of tokens", StringComparison.OrdinalIgnoreCase);
    }

    private enum Verdict
    {
        /// <summary>The deployment answered; the answer goes to the client as it is.</summary>
        Answered,

        /// <summary>A 429, 5xx or connection error: worth another try.</summary>
        Retryable,

        /// <summary>A failure that must not be retried (a timeout: the provider may have billed the work).</summary>
        Final,

        /// <summary>The prompt is too long for this model.</summary>
        ContextWindow,
    }
}
