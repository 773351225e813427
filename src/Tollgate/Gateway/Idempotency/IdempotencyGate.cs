using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Tollgate.Configuration;

namespace Tollgate.Gateway.Idempotency;

/// <summary>
/// Decides what a request with an <c>Idempotency-Key</c> gets: the kept answer (same body), a conflict (a different
/// body, or the first request with that key still running), or a claim to go ahead and keep its answer. Keys are
/// per caller: two API keys never see each other's answers. Running claims are held in this process and, with several
/// replicas, in the shared store too (a claim older than <see cref="ClaimTimeout"/> is taken to be a dead replica's);
/// kept answers are in the store, so a replay survives a restart and reaches every replica.
/// </summary>
public sealed partial class IdempotencyGate(IIdempotencyStore store, IdempotencySettings settings, ReplicaIdentity replica, TimeProvider time, ILogger<IdempotencyGate> logger)
{
    /// <summary>How long another replica's claim holds a key before it is taken to be abandoned (longer than any request runs).</summary>
    public static readonly TimeSpan ClaimTimeout = TimeSpan.FromMinutes(15);

    private static readonly TimeSpan PurgeEvery = TimeSpan.FromHours(1);
    private readonly ConcurrentDictionary<string, byte> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _purge = new(1, 1);
    private DateTimeOffset _lastPurge = DateTimeOffset.MinValue;

    public async Task<IdempotencyDecision> BeginAsync(string caller, string key, byte[] fingerprint, CancellationToken cancellationToken)
    {
        var slot = caller + "\n" + key;
        if (!_running.TryAdd(slot, 0))
        {
            return await RunningOrKeptAsync(caller, key, fingerprint, cancellationToken);
        }

        var claimed = false;
        try
        {
            // Claimed before the kept answer is looked for: a first request that ends meanwhile keeps its answer
            // before it lets its claim go, so this one either sees it running or finds its answer.
            var now = time.GetUtcNow();
            claimed = await store.TryClaimAsync(caller, key, replica.Id, now, now - ClaimTimeout, cancellationToken);
            if (!claimed)
            {
                _running.TryRemove(slot, out _);
                return await RunningOrKeptAsync(caller, key, fingerprint, cancellationToken);
            }

            var kept = await store.FindAsync(caller, key, time.GetUtcNow() - settings.Retention, cancellationToken);
            if (kept is null)
            {
                return new IdempotencyDecision(new IdempotencyClaim(this, caller, key, fingerprint), null, null);
            }

            await ReleaseAsync(caller, key);
            return Replay(kept, fingerprint);
        }
        catch
        {
            if (claimed)
            {
                await ReleaseAsync(caller, key);
            }
            else
            {
                _running.TryRemove(slot, out _);
            }

            throw;
        }
    }

    /// <summary>
    /// The key is held by a running request — or by one that has kept its answer and sent it but not yet let its claim
    /// go (a client that retries the instant its first answer arrives meets that moment): a kept answer is final, so
    /// it is replayed (or the body's difference reported) rather than the retry told to wait.
    /// </summary>
    private async Task<IdempotencyDecision> RunningOrKeptAsync(string caller, string key, byte[] fingerprint, CancellationToken cancellationToken) =>
        await store.FindAsync(caller, key, time.GetUtcNow() - settings.Retention, cancellationToken) is { } kept
            ? Replay(kept, fingerprint)
            : IdempotencyDecision.Running;

    private IdempotencyDecision Replay(StoredResponse kept, byte[] fingerprint) =>
        kept.Fingerprint.AsSpan().SequenceEqual(fingerprint)
            ? new IdempotencyDecision(null, kept, null)
            : IdempotencyDecision.BodyDiffers(settings.Retention);

    /// <summary>Keeps the answer of a claim.</summary>
    internal async Task KeepAsync(string caller, string key, StoredResponse response)
    {
        // Not the client's token: an answer the provider produced is worth keeping even if the client has just left.
        await store.SaveAsync(caller, key, response, CancellationToken.None);
        await PurgeIfDueAsync();
    }

    /// <summary>An answer over the size limit is not kept, and a retry with its key calls the provider again: worth a warning.</summary>
    internal void ReportTooLarge(string requestId, long bytes) => LogTooLarge(logger, requestId, bytes, settings.MaxResponseBytes);

    internal int MaxResponseBytes => settings.MaxResponseBytes;

    internal DateTimeOffset Now => time.GetUtcNow();

    /// <summary>Frees the key: here, and in the shared store (a failure there is logged; the claim then lapses after <see cref="ClaimTimeout"/>).</summary>
    internal async ValueTask ReleaseAsync(string caller, string key)
    {
        try
        {
            await store.ReleaseClaimAsync(caller, key, replica.Id, CancellationToken.None);
        }
        catch (System.Data.Common.DbException ex)
        {
            LogClaimNotReleased(logger, ex);
        }
        finally
        {
            _running.TryRemove(caller + "\n" + key, out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An idempotency key's claim could not be released in the shared store; it lapses after the claim timeout")]
    private static partial void LogClaimNotReleased(ILogger logger, Exception exception);

    /// <summary>At most once an hour, on the path of a request that kept an answer, expired answers are deleted.</summary>
    private async Task PurgeIfDueAsync()
    {
        var now = time.GetUtcNow();
        if (now - _lastPurge < PurgeEvery || !await _purge.WaitAsync(0))
        {
            return;
        }

        try
        {
            _lastPurge = now;
            await store.PurgeAsync(now - settings.Retention, CancellationToken.None);
        }
        finally
        {
            _purge.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The answer of {RequestId} ({Bytes} bytes) is larger than idempotency.max_response_bytes ({Limit}) and was not kept; a retry with the same Idempotency-Key will call the provider again")]
    private static partial void LogTooLarge(ILogger logger, string requestId, long bytes, int limit);
}
