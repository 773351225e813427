namespace Tollgate.Policy.RateLimits;

/// <summary>
/// Requests per minute shared by several gateway replicas (PostgreSQL: <c>Ledger/Postgres/PostgresRateRoom</c>): per
/// subject and clock minute the store counts the requests leased to replicas, and grants a lease only while the
/// minute's count plus the previous minute's weighted by the part of it still inside the sliding minute stays within
/// the limit.
/// </summary>
public interface ISharedRateRoom
{
    /// <summary>Leases up to <paramref name="wanted"/> requests of <paramref name="subject"/>'s minute starting at <paramref name="minuteStart"/>; returns how many were granted (0: none left).</summary>
    Task<int> LeaseAsync(string subject, DateTimeOffset minuteStart, int limit, int wanted, double elapsedFraction, CancellationToken cancellationToken);
}
