using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Tollgate.Policy;

/// <summary>
/// Takes in, at a fixed interval, what other replicas changed in a shared store (keys, budgets); stops at once when
/// <see cref="FollowAsync"/> says the store is the gateway's own. A failed look is logged and tried again.
/// </summary>
public abstract partial class SharedStateFollower(TimeSpan interval, TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>Takes in the latest changes; false when there is nothing to follow.</summary>
    protected abstract Task<bool> FollowAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!await FollowAsync(stoppingToken))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                LogFollowFailed(logger, GetType().Name, ex);
            }

            try
            {
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Follower} could not read the shared store; trying again")]
    private static partial void LogFollowFailed(ILogger logger, string follower, Exception exception);
}
