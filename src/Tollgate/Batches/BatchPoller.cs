using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tollgate.Configuration;

namespace Tollgate.Batches;

/// <summary>
/// Asks the provider about open batches when their next poll is due (<see cref="BatchTracker"/>). At start, before the
/// gateway takes requests, the budget holds of the batches still open are taken again: a restart neither loses a
/// batch nor frees the budget it may still spend.
/// </summary>
public sealed partial class BatchPoller(BatchTracker tracker, BatchSettings settings, TimeProvider time, ILogger<BatchPoller> logger) : BackgroundService
{
    /// <summary>How often due polls are looked for: a fraction of the first poll interval, within 50 ms and 5 s.</summary>
    private TimeSpan Tick => TimeSpan.FromMilliseconds(Math.Clamp(settings.PollInterval.TotalMilliseconds / 4, 50, 5000));

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await tracker.HoldOpenBatchesAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await tracker.PollDueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPollingFailed(logger, ex);
            }

            try
            {
                await Task.Delay(Tick, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Polling the open batches failed; trying again at the next tick")]
    private static partial void LogPollingFailed(ILogger logger, Exception exception);
}
