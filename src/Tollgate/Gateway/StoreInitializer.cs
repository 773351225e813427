using Microsoft.Extensions.Hosting;

namespace Tollgate.Gateway;

/// <summary>Creates the tables of the gateway's smaller SQLite stores before the server takes its first request.</summary>
public sealed class StoreInitializer(
    Idempotency.IIdempotencyStore idempotency, Analytics.Anomalies.IAnomalyStore anomalies, Analytics.UnitEconomics.IOutcomeStore outcomes,
    Responses.IResponseOwners responseOwners, Batches.IBatchStore batches, Policy.Alerts.IAlertLog alertLog) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await idempotency.InitializeAsync(cancellationToken);
        await anomalies.InitializeAsync(cancellationToken);
        await outcomes.InitializeAsync(cancellationToken);
        await responseOwners.InitializeAsync(cancellationToken);
        await batches.InitializeAsync(cancellationToken);
        await alertLog.InitializeAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
