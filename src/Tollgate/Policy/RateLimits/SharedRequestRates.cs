namespace Tollgate.Policy.RateLimits;

/// <summary>
/// A key's requests per minute held across replicas: each replica takes requests from a lease of the current clock
/// minute (a tenth of the limit at a time) and leases again when it runs out; a lease the store refuses means the
/// key is at its limit across the replicas. Requests a replica leased and did not use are not given to another
/// replica within that minute: the limit is never passed, and is under-used by at most a tenth of it per replica.
/// While the store cannot be reached, each replica holds the key to the limit on its own (fails open: the limit may be
/// passed by as many times as there are replicas, never more).
/// </summary>
public sealed class SharedRequestRates(ISharedRateRoom room, TimeProvider time)
{
    private readonly Dictionary<string, (DateTimeOffset Minute, int Left)> _leases = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _leasing = new(1, 1);

    /// <summary>Takes one request of <paramref name="subject"/>'s shared allowance, or says how long to wait.</summary>
    public async ValueTask<(bool Admitted, TimeSpan Wait)> TryTakeAsync(string subject, int limit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var minute = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);
        if (TakeLeased(subject, minute))
        {
            return (true, TimeSpan.Zero);
        }

        await _leasing.WaitAsync(cancellationToken);
        try
        {
            if (TakeLeased(subject, minute))
            {
                return (true, TimeSpan.Zero);
            }

            int granted;
            try
            {
                granted = await room.LeaseAsync(subject, minute, limit, Math.Max(1, limit / 10), (now - minute).TotalMilliseconds / 60_000, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The shared store cannot be reached: the replica's own sliding log still holds the key to its limit.
                return (true, TimeSpan.Zero);
            }

            lock (_gate)
            {
                _leases[subject] = (minute, Math.Max(0, granted - 1));
            }

            // Refused: the previous minute's weight falls as time passes, so a second may free room; the next minute surely does.
            return granted > 0 ? (true, TimeSpan.Zero) : (false, TimeSpan.FromSeconds(1));
        }
        finally
        {
            _leasing.Release();
        }
    }

    private bool TakeLeased(string subject, DateTimeOffset minute)
    {
        lock (_gate)
        {
            if (_leases.TryGetValue(subject, out var lease) && lease.Minute == minute && lease.Left > 0)
            {
                _leases[subject] = (minute, lease.Left - 1);
                return true;
            }

            return false;
        }
    }
}
