namespace Tollgate.Gateway.Forwarding;

/// <summary>
/// Caps one deployment's retries at a share of its requests: every request adds <c>ratio</c> of a token, every
/// retry spends a whole one. The bucket starts with one token (so a lone failure can be retried) and holds at most
/// ten, so over any stretch of traffic retries ≤ ratio × requests + 1, and never more than ten come in a burst.
/// </summary>
public sealed class RetryBudget(decimal ratio)
{
    private const decimal Capacity = 10;
    private readonly Lock _gate = new();
    private decimal _tokens = 1;
    private long _requests;
    private long _retries;

    /// <summary>Requests sent to the deployment (first attempts) since start.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Retries sent to the deployment since start.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    public void Requested()
    {
        lock (_gate)
        {
            _tokens = Math.Min(Capacity, _tokens + ratio);
            _requests++;
        }
    }

    public bool TryRetry()
    {
        lock (_gate)
        {
            if (_tokens < 1)
            {
                return false;
            }

            _tokens--;
            _retries++;
            return true;
        }
    }
}
