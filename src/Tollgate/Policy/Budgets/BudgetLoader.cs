using Microsoft.Extensions.Hosting;
using Tollgate.Ledger;

namespace Tollgate.Policy.Budgets;

/// <summary>
/// Before the first request: counts the current periods' spend from the ledger for the configured budgets, then adds
/// the budgets set through the admin API (which win over a configured one of the same name). Registered after the
/// ledger writer, which creates the schema.
/// </summary>
public sealed class BudgetLoader(BudgetGuard guard, ILedgerStore ledger, IBudgetStore budgets) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await guard.LoadAsync(ledger, cancellationToken);
        foreach (var budget in await budgets.LoadAllAsync(cancellationToken))
        {
            await guard.UpsertAsync(budget, ledger, cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
