using Microsoft.Extensions.Hosting;

namespace Tollgate.Policy.Keys;

/// <summary>Loads the virtual keys before the server takes its first request.</summary>
public sealed class KeyRegistryLoader(KeyRegistry registry) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => registry.LoadAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
