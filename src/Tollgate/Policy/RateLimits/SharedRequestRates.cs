namespace Tollgate.Policy.RateLimits;

/// <summary>
/// A key's requests and tokens per minute held across replicas: each replica takes from a lease of the current clock
/// minute (a tenth of the limit at a time, at least what the request needs) and leases again when it runs out; a lease
/// the store refuses means the key is at its limit across the replicas. What a replica leased and did not use is not
/// given to another replica within that minute: the limit is never passed, and is under-used by at most a tenth of it
/// (or one request's tokens, when larger) per replica. Tokens are taken at the request's estimate (prompt plus output limit) and not corrected across
/// replicas afterwards — the safe side. While the store cannot be reached, each replica holds the key to the limit on
/// its own (fails open: the limit may be passed by as many times as there are replicas, never more).
/// </summary>
public sealed class SharedRequestRates(ISharedRateRoom room, TimeProvider time)
{
    private readonly Dictionary<string, (DateTimeOffset Minute, long Left)> _leases = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _leasing = new(1, 1);

    /// <summary>Takes <paramref name="units"/> of <paramref name="subject"/>'s shared allowance, or says how long to wait.</summary>
    public async ValueTask<(bool Admitted, TimeSpan Wait)> TryTakeAsync(string subject, long limit, long units, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var minute = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);
        if (TakeLeased(subject, minute, units))
        {
            return (true, TimeSpan.Zero);
        }

        await _leasing.WaitAsync(cancellationToken);
        try
        {
            if (TakeLeased(subject, minute, units))
            {
                return (true, TimeSpan.Zero);
            }

            long left;
            lock (_gate)
            {
                left = _leases.TryGetValue(subject, out var lease) && lease.Minute == minute ? lease.Left : 0;
            }

            long granted;
            try
            {
                granted = await room.LeaseAsync(subject, minute, limit, Math.Max(units - left, limit / 10), units - left, (now - minute).TotalMilliseconds / 60_000, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The shared store cannot be reached: the replica's own sliding log still holds the key to its limit.
                return (true, TimeSpan.Zero);
            }

            lock (_gate)
            {
                if (granted == 0)
                {
                    // Refused: the previous minute's weight falls as time passes, so a second may free room; the next minute surely does.
                    return (false, TimeSpan.FromSeconds(1));
                }

                // Requests that took from the lease meanwhile are counted: what is left now, plus the grant.
                var current = (_leases.TryGetValue(subject, out var lease) && lease.Minute == minute ? lease.Left : 0) + granted;
                if (current < units)
                {
                    _leases[subject] = (minute, current);
                    return (false, TimeSpan.FromSeconds(1));
                }

                _leases[subject] = (minute, current - units);
                return (true, TimeSpan.Zero);
            }
        }
        finally
        {
            _leasing.Release();
        }
    }

    private bool TakeLeased(string subject, DateTimeOffset minute, long units)
    {
        lock (_gate)
        {
            if (_leases.TryGetValue(subject, out var lease) && lease.Minute == minute && lease.Left >= units)
            {
                _leases[subject] = (minute, lease.Left - units);
                return true;
            }

            return false;
        }
    }
}
