using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tollgate.Configuration;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;
using Tollgate.Policy.Budgets;

namespace Tollgate.Batches;

/// <summary>
/// Follows every batch created through the gateway until it ends: keeps its budget hold (taken again after a restart),
/// learns its status from the client's own reads and from polling (<see cref="BatchPoller"/>, backing off while it
/// runs), and when it ends writes one ledger record per result line (<see cref="BatchLineRecords"/>) and settles the
/// hold to what the lines cost. Settling happens once, whoever sees the end first. With several replicas (a shared
/// <see cref="IBatchStore"/>) any replica may see the end and write the lines (their fixed ids keep them once in the
/// ledger); the replica that holds the batch's budget reservation settles it to the spend the store keeps.
/// </summary>
public sealed partial class BatchTracker(
    IBatchStore store, BudgetGuard budgets, DeploymentRouter deployments, LedgerQueue ledger, Analytics.Metrics.GatewayMetrics metrics,
    IEnumerable<IBatchApi> apis, BatchSettings settings, Gateway.ReplicaIdentity replica, TimeProvider time, ILogger<BatchTracker> logger)
{
    private readonly Dictionary<string, IBatchApi> _apis = apis.ToDictionary(a => a.Name, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, BudgetReservation> _holds = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Takes again the budget holds this replica kept for the batches still open (at start, after the budgets are loaded).</summary>
    public async Task HoldOpenBatchesAsync(CancellationToken cancellationToken)
    {
        foreach (var batch in await store.OpenBatchesAsync(cancellationToken))
        {
            if (batch.Holder is { } holder && holder != replica.Id)
            {
                // Another replica holds it (and takes it again when it restarts).
                continue;
            }

            _holds[batch.Id] = budgets.Hold(batch.Attribution, batch.ReservedUsd);
        }

        // Replicas: the re-taken holds lease their room from the shared store, so no other replica spends it.
        await budgets.LeaseForHoldsAsync(cancellationToken);
    }

    /// <summary>Starts following a batch the provider has just created; <paramref name="hold"/> is its budget reservation.</summary>
    public async Task TrackAsync(TrackedBatch batch, BudgetReservation? hold, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await store.SaveBatchAsync(batch with { Holder = replica.Id }, cancellationToken);
        if (hold is not null)
        {
            _holds[batch.Id] = hold;
        }
    }

    /// <summary>The status of a batch object of <paramref name="api"/>, or null when it is not one.</summary>
    public string? StatusOf(string api, ReadOnlyMemory<byte> batchObject)
    {
        try
        {
            using var document = JsonDocument.Parse(batchObject);
            return _apis[api].StatusOf(document.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The provider's latest batch object, as a client's read or cancel or a poll got it: kept (what the list shows),
    /// its output files made readable by the batch's creator, and the batch settled if it has ended.
    /// </summary>
    public async Task<TrackedBatch> ObserveAsync(TrackedBatch batch, ReadOnlyMemory<byte> batchObject, bool polled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (StatusOf(batch.Api, batchObject) is not { } status)
        {
            // Not a batch object: nothing learnt; a poll asks again later.
            if (polled)
            {
                await store.SaveBatchAsync(Later(batch), cancellationToken);
            }

            return batch;
        }

        var seen = (polled ? Later(batch) : batch) with { Status = status, Object = System.Text.Encoding.UTF8.GetString(batchObject.Span) };
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (await store.FindBatchAsync(batch.Id, cancellationToken) is { Settled: true } settled)
            {
                ReleaseHold(settled);
                return settled;
            }

            await store.SaveBatchAsync(seen, cancellationToken);
            await RememberFilesAsync(seen, cancellationToken);
            return _apis[seen.Api].IsFinal(status) ? await SettleAsync(seen, cancellationToken) : seen;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Asks the provider about every open batch whose next poll is due, and settles the holds of batches another
    /// replica saw end.
    /// </summary>
    public async Task PollDueAsync(CancellationToken cancellationToken)
    {
        foreach (var id in _holds.Keys)
        {
            if (await store.FindBatchAsync(id, cancellationToken) is { Settled: true } settled)
            {
                ReleaseHold(settled);
            }
        }

        var now = time.GetUtcNow();
        foreach (var batch in await store.OpenBatchesAsync(cancellationToken))
        {
            if (batch.NextPollAt > now)
            {
                break;
            }

            await PollAsync(batch, cancellationToken);
        }
    }

    private async Task PollAsync(TrackedBatch batch, CancellationToken cancellationToken)
    {
        var deployment = DeploymentOf(batch);
        var reading = deployment is null ? null : _apis[batch.Api].ReadAsync(deployment, batch.Id, cancellationToken);
        if (reading is null)
        {
            // The deployment left the configuration: the batch cannot be followed; its hold is released, unspent.
            LogDeploymentGone(logger, batch.Id, batch.Deployment);
            await SettledAsync(batch, 0, cancellationToken);
            return;
        }

        var result = await reading;
        if (result.Failure is not null || !result.Value!.IsSuccess)
        {
            LogPollFailed(logger, batch.Id, result.Failure?.Message ?? $"HTTP {result.Value!.StatusCode}");
            await store.SaveBatchAsync(Later(batch), cancellationToken);
            return;
        }

        await ObserveAsync(batch, result.Value.Body, polled: true, cancellationToken);
    }

    /// <summary>Records the lines of an ended batch and settles its hold; when its results cannot be read, they are tried again at the next poll.</summary>
    private async Task<TrackedBatch> SettleAsync(TrackedBatch batch, CancellationToken cancellationToken)
    {
        if (DeploymentOf(batch) is not { } deployment)
        {
            LogDeploymentGone(logger, batch.Id, batch.Deployment);
            return await SettledAsync(batch, 0, cancellationToken);
        }

        var api = _apis[batch.Api];
        using var document = JsonDocument.Parse(batch.Object);
        var lines = new BatchLineRecords(batch, deployment, api.EndedAt(document.RootElement) ?? time.GetUtcNow());
        var (records, failure) = await api.ResultsAsync(deployment, batch, document.RootElement, lines, cancellationToken);
        if (records is null)
        {
            LogResultsUnread(logger, batch.Id, failure!);
            var retry = Later(batch);
            await store.SaveBatchAsync(retry, cancellationToken);
            return retry;
        }

        foreach (var record in records)
        {
            metrics.Recorded(record);
            Analytics.Telemetry.GenAiTelemetry.Record(record);
            await ledger.EnqueueAsync(record);
        }

        return await SettledAsync(batch, records.Sum(r => r.Cost.Total ?? 0), cancellationToken);
    }

    /// <summary>The batch is followed no more: settled in the store with <paramref name="spentUsd"/>, and its hold here settled to it.</summary>
    private async Task<TrackedBatch> SettledAsync(TrackedBatch batch, decimal spentUsd, CancellationToken cancellationToken)
    {
        var settled = batch with { Settled = true, SpentUsd = spentUsd };
        await store.SaveBatchAsync(settled, cancellationToken);
        ReleaseHold(settled);
        return settled;
    }

    /// <summary>A settled batch's hold, if this replica keeps it, is settled to what its lines cost.</summary>
    private void ReleaseHold(TrackedBatch settled)
    {
        if (_holds.TryRemove(settled.Id, out var hold))
        {
            budgets.Settle(hold, settled.SpentUsd);
        }
    }

    /// <summary>The batch's output files become readable (through <c>/v1/files</c>) by the batch's creator.</summary>
    private async Task RememberFilesAsync(TrackedBatch batch, CancellationToken cancellationToken)
    {
        using var document = JsonDocument.Parse(batch.Object);
        foreach (var id in _apis[batch.Api].OutputFiles(document.RootElement))
        {
            if (await store.FindFileAsync(id, cancellationToken) is null)
            {
                await store.SaveFileAsync(new BatchFile(id, batch.Deployment, batch.Caller, time.GetUtcNow()), cancellationToken);
            }
        }
    }

    /// <summary>The batch with its next poll one wait away, and the wait after it doubled (up to the most).</summary>
    private TrackedBatch Later(TrackedBatch batch) => batch with
    {
        NextPollAt = time.GetUtcNow() + batch.PollDelay,
        PollDelay = TimeSpan.FromTicks(Math.Min(batch.PollDelay.Ticks * 2, settings.MaxPollInterval.Ticks)),
    };

    private Deployment? DeploymentOf(TrackedBatch batch) => deployments.All.FirstOrDefault(d => d.Name == batch.Deployment);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} could not be polled: {Reason}; trying again later")]
    private static partial void LogPollFailed(ILogger logger, string batchId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The results of batch {BatchId} could not be read: {Reason}; trying again later")]
    private static partial void LogResultsUnread(ILogger logger, string batchId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} ran on deployment {Deployment}, which is no longer configured: its lines cannot be read or recorded, and its budget hold is released")]
    private static partial void LogDeploymentGone(ILogger logger, string batchId, string deployment);
}
