using Microsoft.Extensions.Logging;

namespace Tollgate.Policy.Keys;

/// <summary>
/// With keys shared by replicas (PostgreSQL), takes in every 250 ms the keys created, revoked or rotated through any
/// replica, so a revocation made on one applies on all within a second.
/// </summary>
public sealed class KeyRefresher(KeyRegistry registry, TimeProvider time, ILogger<KeyRefresher> logger)
    : SharedStateFollower(TimeSpan.FromMilliseconds(250), time, logger)
{
    protected override Task<bool> FollowAsync(CancellationToken cancellationToken) => registry.RefreshAsync(cancellationToken);
}
