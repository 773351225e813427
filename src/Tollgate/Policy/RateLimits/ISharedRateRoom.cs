namespace Tollgate.Policy.RateLimits;

/// <summary>
/// Requests and tokens per minute shared by several gateway replicas (PostgreSQL: <c>Ledger/Postgres/PostgresRateRoom</c>): per
/// subject and clock minute the store counts the requests leased to replicas, and grants a lease only while the
/// minute's count plus the previous minute's weighted by the part of it still inside the sliding minute stays within
/// the limit.
/// </summary>
public interface ISharedRateRoom
{
    /// <summary>
    /// Leases up to <paramref name="wanted"/> units (requests or tokens) of <paramref name="subject"/>'s minute starting
    /// at <paramref name="minuteStart"/>, at least <paramref name="minimum"/>; returns how many were granted (0: not that many left).
    /// </summary>
    Task<long> LeaseAsync(string subject, DateTimeOffset minuteStart, long limit, long wanted, long minimum, double elapsedFraction, CancellationToken cancellationToken);
}
