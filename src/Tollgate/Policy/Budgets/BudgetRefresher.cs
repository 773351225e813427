using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tollgate.Ledger;

namespace Tollgate.Policy.Budgets;

/// <summary>
/// With budgets shared by replicas (PostgreSQL): every 500 ms, budgets set through any replica's admin API are put in
/// force here too (a new limit at once; a new scope or period counted from the ledger). Stops at once when the store
/// is the gateway's own file.
/// </summary>
public sealed partial class BudgetRefresher(BudgetGuard guard, IBudgetStore store, ILedgerStore ledger, TimeProvider time, ILogger<BudgetRefresher> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>How many of the latest changes each look reads again, so a save that committed late is not skipped.</summary>
    private const long RereadChanges = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long seen = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await store.ChangedSinceAsync(Math.Max(0, seen - RereadChanges), stoppingToken) is not { } changed)
                {
                    return;
                }

                foreach (var budget in changed.Budgets)
                {
                    await guard.UpsertAsync(budget, ledger, stoppingToken);
                }

                seen = Math.Max(seen, changed.Next);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Budgets could not be refreshed from the shared store; trying again")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
