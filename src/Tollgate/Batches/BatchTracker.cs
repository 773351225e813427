using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tollgate.Configuration;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;
using Tollgate.Policy.Budgets;
using Tollgate.Providers.OpenAiCompatible;

namespace Tollgate.Batches;

/// <summary>
/// Follows every batch created through the gateway until it ends: keeps its budget hold (taken again after a restart),
/// learns its status from the client's own reads and from polling (<see cref="BatchPoller"/>, backing off while it
/// runs), and when it ends writes one ledger record per output and error line (<see cref="BatchLineRecords"/>) and
/// settles the hold to what the lines cost. Settling happens once, whoever sees the end first.
/// </summary>
public sealed partial class BatchTracker(
    SqliteBatchStore store, BudgetGuard budgets, DeploymentRouter deployments, LedgerQueue ledger, Analytics.Metrics.GatewayMetrics metrics,
    BatchSettings settings, TimeProvider time, ILogger<BatchTracker> logger)
{
    private readonly ConcurrentDictionary<string, BudgetReservation> _holds = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Takes again the budget holds of the batches still open (at start, after the budgets are loaded).</summary>
    public async Task HoldOpenBatchesAsync(CancellationToken cancellationToken)
    {
        foreach (var batch in await store.OpenBatchesAsync(cancellationToken))
        {
            _holds[batch.Id] = budgets.Hold(batch.Attribution, batch.ReservedUsd);
        }
    }

    /// <summary>Starts following a batch the provider has just created; <paramref name="hold"/> is its budget reservation.</summary>
    public async Task TrackAsync(TrackedBatch batch, BudgetReservation? hold, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await store.SaveBatchAsync(batch, cancellationToken);
        if (hold is not null)
        {
            _holds[batch.Id] = hold;
        }

        await RememberFilesAsync(batch, batch.Object, cancellationToken);
    }

    /// <summary>
    /// The provider's latest batch object, as a client's read or cancel or a poll got it: kept (what the list shows),
    /// its output files made readable by the batch's creator, and the batch settled if it has ended.
    /// </summary>
    public async Task<TrackedBatch> ObserveAsync(TrackedBatch batch, ReadOnlyMemory<byte> batchObject, bool polled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (StatusOf(batchObject) is not { } status)
        {
            // Not a batch object: nothing learnt; a poll asks again later.
            if (polled)
            {
                await store.SaveBatchAsync(batch with { NextPollAt = time.GetUtcNow() + batch.PollDelay, PollDelay = Next(batch.PollDelay) }, cancellationToken);
            }

            return batch;
        }

        var delay = polled ? Next(batch.PollDelay) : batch.PollDelay;
        var seen = batch with
        {
            Status = status,
            Object = System.Text.Encoding.UTF8.GetString(batchObject.Span),
            NextPollAt = polled ? time.GetUtcNow() + batch.PollDelay : batch.NextPollAt,
            PollDelay = delay,
        };
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (await store.FindBatchAsync(batch.Id, cancellationToken) is { Settled: true } settled)
            {
                return settled;
            }

            await store.SaveBatchAsync(seen, cancellationToken);
            await RememberFilesAsync(seen, seen.Object, cancellationToken);
            return TrackedBatch.IsFinal(status) ? await SettleAsync(seen, cancellationToken) : seen;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Asks the provider about every open batch whose next poll is due.</summary>
    public async Task PollDueAsync(CancellationToken cancellationToken)
    {
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
        if (deployment?.Adapter is not OpenAiCompatibleAdapter adapter)
        {
            // The deployment left the configuration: the batch cannot be followed; its hold is released, unspent.
            LogDeploymentGone(logger, batch.Id, batch.Deployment);
            await SettleUnreadableAsync(batch, cancellationToken);
            return;
        }

        var result = await adapter.RelayAccountCallAsync(deployment.Config, HttpMethod.Get, "batches/" + Uri.EscapeDataString(batch.Id), string.Empty, null, cancellationToken);
        if (result.Failure is not null || !result.Value!.IsSuccess)
        {
            LogPollFailed(logger, batch.Id, result.Failure?.Message ?? $"HTTP {result.Value!.StatusCode}");
            await store.SaveBatchAsync(batch with { NextPollAt = time.GetUtcNow() + batch.PollDelay, PollDelay = Next(batch.PollDelay) }, cancellationToken);
            return;
        }

        await ObserveAsync(batch, result.Value.Body, polled: true, cancellationToken);
    }

    /// <summary>Records the lines of an ended batch and settles its hold; on a failure to read its files, it is tried again at the next poll.</summary>
    private async Task<TrackedBatch> SettleAsync(TrackedBatch batch, CancellationToken cancellationToken)
    {
        var deployment = DeploymentOf(batch);
        if (deployment?.Adapter is not OpenAiCompatibleAdapter adapter)
        {
            return await SettleUnreadableAsync(batch, cancellationToken);
        }

        using var document = JsonDocument.Parse(batch.Object);
        var lines = new BatchLineRecords(batch, deployment, EndedAt(document.RootElement));
        var records = new List<UsageRecord>();
        foreach (var field in new[] { "output_file_id", "error_file_id" })
        {
            if (!document.RootElement.TryGetProperty(field, out var id) || id.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(id.GetString()))
            {
                continue;
            }

            var file = await adapter.RelayAccountCallAsync(deployment.Config, HttpMethod.Get, "files/" + Uri.EscapeDataString(id.GetString()!) + "/content", string.Empty, null, cancellationToken);
            if (file.Failure is not null || !file.Value!.IsSuccess)
            {
                LogOutputUnread(logger, batch.Id, id.GetString()!, file.Failure?.Message ?? $"HTTP {file.Value!.StatusCode}");
                var retry = batch with { NextPollAt = time.GetUtcNow() + batch.PollDelay, PollDelay = Next(batch.PollDelay) };
                await store.SaveBatchAsync(retry, cancellationToken);
                return retry;
            }

            records.AddRange(lines.Read(file.Value.Body));
        }

        foreach (var record in records)
        {
            metrics.Recorded(record);
            await ledger.EnqueueAsync(record);
        }

        Release(batch, records.Sum(r => r.Cost.Total ?? 0));
        var settled = batch with { Settled = true };
        await store.SaveBatchAsync(settled, cancellationToken);
        return settled;
    }

    private async Task<TrackedBatch> SettleUnreadableAsync(TrackedBatch batch, CancellationToken cancellationToken)
    {
        Release(batch, 0);
        var settled = batch with { Settled = true };
        await store.SaveBatchAsync(settled, cancellationToken);
        return settled;
    }

    private void Release(TrackedBatch batch, decimal spentUsd)
    {
        if (_holds.TryRemove(batch.Id, out var hold))
        {
            budgets.Settle(hold, spentUsd);
        }
    }

    /// <summary>The batch's output and error files become readable (through <c>/v1/files</c>) by the batch's creator.</summary>
    private async Task RememberFilesAsync(TrackedBatch batch, string batchObject, CancellationToken cancellationToken)
    {
        using var document = JsonDocument.Parse(batchObject);
        foreach (var field in new[] { "output_file_id", "error_file_id" })
        {
            if (document.RootElement.TryGetProperty(field, out var id) && id.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(id.GetString())
                && await store.FindFileAsync(id.GetString()!, cancellationToken) is null)
            {
                await store.SaveFileAsync(new BatchFile(id.GetString()!, batch.Deployment, batch.Caller, time.GetUtcNow()), cancellationToken);
            }
        }
    }

    private Deployment? DeploymentOf(TrackedBatch batch) => deployments.All.FirstOrDefault(d => d.Name == batch.Deployment);

    private TimeSpan Next(TimeSpan delay) => TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, settings.MaxPollInterval.Ticks));

    /// <summary>When the batch ended, by the provider's clock (its <c>*_at</c> time), else now.</summary>
    private DateTimeOffset EndedAt(JsonElement batchObject)
    {
        foreach (var field in new[] { "completed_at", "expired_at", "cancelled_at", "failed_at" })
        {
            if (batchObject.TryGetProperty(field, out var at) && at.ValueKind == JsonValueKind.Number && at.TryGetInt64(out var seconds)
                && seconds > 0 && seconds < 253_402_300_799)
            {
                return DateTimeOffset.FromUnixTimeSeconds(seconds);
            }
        }

        return time.GetUtcNow();
    }

    /// <summary>The <c>status</c> of a batch object, or null when it has none.</summary>
    public static string? StatusOf(ReadOnlyMemory<byte> batchObject)
    {
        try
        {
            using var document = JsonDocument.Parse(batchObject);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String
                ? status.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} could not be polled: {Reason}; trying again later")]
    private static partial void LogPollFailed(ILogger logger, string batchId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The output file {FileId} of batch {BatchId} could not be read: {Reason}; trying again later")]
    private static partial void LogOutputUnread(ILogger logger, string batchId, string fileId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} ran on deployment {Deployment}, which is no longer configured: its lines cannot be read or recorded, and its budget hold is released")]
    private static partial void LogDeploymentGone(ILogger logger, string batchId, string deployment);
}
