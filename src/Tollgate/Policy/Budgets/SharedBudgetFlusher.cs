using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Tollgate.Policy.Budgets;

/// <summary>
/// With replicas sharing budgets (<see cref="ISharedBudgetRoom"/>): at start, gives back every lease this replica
/// held before (a crash leaves them); then, every 200 ms, tells the store what was spent and what room went back and
/// takes back the totals across replicas (and sends the alerts they cross); at shutdown, a last flush and every lease
/// given back, so the other replicas can use the room.
/// </summary>
public sealed partial class SharedBudgetFlusher(BudgetGuard guard, ISharedBudgetRoom room, TimeProvider time, ILogger<SharedBudgetFlusher> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await room.ReturnAllAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await guard.FlushAsync(cancellationToken);
            await room.ReturnAllAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFlushFailed(logger, ex);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
                await guard.FlushAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                // Kept for the next flush: until it lands the store counts the room as leased, which is the safe side.
                LogFlushFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Budget spend could not be told to the shared store; it is kept for the next try")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
