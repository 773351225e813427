using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Tollgate.Policy.Keys;

/// <summary>
/// With keys shared by replicas (PostgreSQL), takes in every 250 ms the keys created, revoked or rotated through any
/// replica, so a revocation made on one applies on all within a second. Stops at once when the store is the
/// gateway's own file (nothing to follow).
/// </summary>
public sealed partial class KeyRefresher(KeyRegistry registry, TimeProvider time, ILogger<KeyRefresher> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!await registry.RefreshAsync(stoppingToken))
                {
                    return;
                }

                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRefreshFailed(logger, ex);
                await Task.Delay(Interval, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Keys could not be refreshed from the shared store; trying again")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
