using Microsoft.Extensions.Hosting;

namespace Tollgate.Gateway.Idempotency;

/// <summary>Creates the table of kept answers before the server takes its first request.</summary>
public sealed class IdempotencyStoreLoader(SqliteIdempotencyStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
