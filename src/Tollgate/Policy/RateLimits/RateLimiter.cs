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
    private readonly ConcurrentDictionary<string, SlidingWindowLog> _logs = new(StringComparer.Ordinal);

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
        var acquired = new List<SlidingWindowLog.Ticket>();
        var tokenTickets = new List<SlidingWindowLog.Ticket>();
        foreach (var (subject, limit) in subjects)
        {
            foreach (var (name, value, weight) in new[] { ("requests", limit.RequestsPerMinute, 1L), ("tokens", limit.TokensPerMinute, estimatedTokens) })
            {
                if (value is not { } max)
                {
                    continue;
                }

                var (ticket, wait) = Log($"{subject}:{name}", max).TryAcquire(now, weight);
                if (ticket is null)
                {
                    // A refused request takes nothing from the other limits it passed.
                    acquired.ForEach(t => t.Release());
                    return ([], Refusal(subject, $"{max} {name} per minute", wait), wait, []);
                }

                acquired.Add(ticket);
                if (name == "tokens")
                {
                    tokenTickets.Add(ticket);
                }
            }
        }

        return (tokenTickets, null, TimeSpan.Zero, acquired);
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

    private SlidingWindowLog Log(string name, long limit) => _logs.GetOrAdd(name, _ => new SlidingWindowLog(limit, Window));

    private static GatewayError Refusal(string subject, string limit, TimeSpan wait) => new(429, "rate_limit_error", "rate_limit_exceeded",
        $"Rate limit of {limit} reached for {subject}. Try again in {Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))} s.");
}
