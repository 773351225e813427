using System.Collections.Concurrent;
using Tollgate.Gateway.Errors;

namespace Tollgate.Policy.RateLimits;

/// <summary>Requests and tokens per minute for one subject (a key or a deployment).</summary>
public sealed record RateLimit(int? RequestsPerMinute, int? TokensPerMinute)
{
    public bool IsSet => RequestsPerMinute is not null || TokensPerMinute is not null;
}

/// <summary>
/// Stage 4 (admit, rate part): RPM and TPM per virtual key and per deployment, each an exact one-minute sliding log.
/// TPM admits on the estimate (prompt tokens plus the output limit) and is corrected with the real usage afterwards.
/// A refusal is 429 <c>rate_limit_exceeded</c> with the seconds to wait.
/// </summary>
public sealed class RateLimiter(TimeProvider time, SharedRequestRates? shared = null)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<(string Subject, LimitKind Kind), SlidingWindowLog> _logs = new();

    /// <summary>Admits one request of <paramref name="estimatedTokens"/> for every subject, or refuses with the wait.</summary>
    public (IReadOnlyList<SlidingWindowLog.Ticket> TokenTickets, GatewayError? Error, TimeSpan RetryAfter) Admit(
        IReadOnlyList<(string Subject, RateLimit Limit)> subjects, long estimatedTokens)
    {
        var (tokenTickets, error, wait, _) = AdmitLocally(subjects, estimatedTokens);
        return (tokenTickets, error, wait);
    }

    private (IReadOnlyList<SlidingWindowLog.Ticket> TokenTickets, GatewayError? Error, TimeSpan RetryAfter, List<SlidingWindowLog.Ticket> All) AdmitLocally(
        IReadOnlyList<(string Subject, RateLimit Limit)> subjects, long estimatedTokens)
    {
        ArgumentNullException.ThrowIfNull(subjects);
        var now = time.GetUtcNow();
        var acquired = new List<SlidingWindowLog.Ticket>(2 * subjects.Count);
        List<SlidingWindowLog.Ticket>? tokenTickets = null;
        foreach (var (subject, limit) in subjects)
        {
            if (limit.RequestsPerMinute is { } requests && Take(subject, LimitKind.Requests, requests, 1) is { } refusedRequests)
            {
                return refusedRequests;
            }

            if (limit.TokensPerMinute is { } tokens)
            {
                if (Take(subject, LimitKind.Tokens, tokens, estimatedTokens) is { } refusedTokens)
                {
                    return refusedTokens;
                }

                (tokenTickets ??= []).Add(acquired[^1]);
            }
        }

        return ((IReadOnlyList<SlidingWindowLog.Ticket>?)tokenTickets ?? [], null, TimeSpan.Zero, acquired);

        // Null when admitted (the ticket added to those acquired); else the refusal, the others given back.
        (IReadOnlyList<SlidingWindowLog.Ticket>, GatewayError?, TimeSpan, List<SlidingWindowLog.Ticket>)? Take(string subject, LimitKind kind, long max, long weight)
        {
            var (ticket, wait) = Log(subject, kind, max).TryAcquire(now, weight);
            if (ticket is null)
            {
                // A refused request takes nothing from the other limits it passed.
                acquired.ForEach(t => t.Release());
                return ([], Refusal(subject, $"{max} {Name(kind)} per minute", wait), wait, []);
            }

            acquired.Add(ticket);
            return null;
        }
    }

    /// <summary>
    /// <see cref="Admit"/>, and with replicas sharing limits (PostgreSQL) each subject's RPM and TPM also against its
    /// shared allowance (<see cref="SharedRequestRates"/>): a request the shared count refuses gives back what it took
    /// here (what an earlier limit of the same request took from the shared count stays taken: the safe side).
    /// </summary>
    public async ValueTask<(IReadOnlyList<SlidingWindowLog.Ticket> TokenTickets, GatewayError? Error, TimeSpan RetryAfter)> AdmitAsync(
        IReadOnlyList<(string Subject, RateLimit Limit)> subjects, long estimatedTokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subjects);
        var (tickets, error, wait, all) = AdmitLocally(subjects, estimatedTokens);
        if (error is not null || shared is null)
        {
            return (tickets, error, wait);
        }

        foreach (var (subject, limit) in subjects)
        {
            foreach (var (name, value, units) in new[] { ("requests", limit.RequestsPerMinute, 1L), ("tokens", limit.TokensPerMinute, estimatedTokens) })
            {
                if (value is not { } max)
                {
                    continue;
                }

                var (admitted, sharedWait) = await shared.TryTakeAsync($"{subject}:{name}", max, units, cancellationToken);
                if (!admitted)
                {
                    all.ForEach(t => t.Release());
                    return ([], Refusal(subject, $"{max} {name} per minute (across the gateways that share it)", sharedWait), sharedWait);
                }
            }
        }

        return (tickets, null, TimeSpan.Zero);
    }

    /// <summary>The subject's log of one kind, made with the limit it has when first seen.</summary>
    private SlidingWindowLog Log(string subject, LimitKind kind, long limit) =>
        _logs.GetOrAdd((subject, kind), static (_, max) => new SlidingWindowLog(max, Window), limit);

    private static string Name(LimitKind kind) => kind == LimitKind.Requests ? "requests" : "tokens";

    private enum LimitKind : byte
    {
        Requests,
        Tokens,
    }

    private static GatewayError Refusal(string subject, string limit, TimeSpan wait) => new(429, "rate_limit_error", "rate_limit_exceeded",
        $"Rate limit of {limit} reached for {subject}. Try again in {Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))} s.");
}
