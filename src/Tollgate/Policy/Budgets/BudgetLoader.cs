using Microsoft.Extensions.Hosting;
using Tollgate.Ledger;

namespace Tollgate.Policy.Budgets;

/// <summary>Counts the current periods' spend from the ledger before the first request (registered after the ledger writer, which creates the schema).</summary>
public sealed class BudgetLoader(BudgetGuard guard, ILedgerStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => guard.LoadAsync(store, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
