using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tollgate.Ledger.Journal;

namespace Tollgate.Ledger;

/// <summary>
/// Moves records from the <see cref="LedgerQueue"/> into the <see cref="ILedgerStore"/> in batches, off the request
/// path, and replays on start-up what a killed gateway left in the journal. On shutdown it stops taking new records only after the queue is empty. A failed batch is retried, never
/// dropped.
/// </summary>
public sealed partial class LedgerWriter(
    LedgerQueue queue, ILedgerStore store, TimeProvider time, ILogger<LedgerWriter> logger, RetentionSettings? retention = null, Rollups.RollupUpkeep? upkeep = null) : BackgroundService
{
    private const int MaxBatch = 1024;

    /// <summary>
    /// After the first record of a batch arrives, wait this long for more, so a busy gateway commits hundreds of
    /// records per transaction instead of one.
    /// </summary>
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>A busy ledger rolls up at most this often; an idle one as soon as its queue is empty.</summary>
    private static readonly TimeSpan RollupInterval = TimeSpan.FromSeconds(1);
    private const int RollupChunk = 50_000;

    /// <summary>Expired records and rollups are looked for this often, a chunk at a time.</summary>
    private static readonly TimeSpan RetentionInterval = TimeSpan.FromMinutes(10);
    private const int RetentionChunk = 20_000;

    private readonly RetentionSettings _retention = retention ?? RetentionSettings.KeepAll;
    private long _lastRollup;
    private DateTimeOffset _lastRetention = DateTimeOffset.MinValue;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // The schema exists before the server accepts its first request.
        await store.InitializeAsync(cancellationToken);
        await JournalReplay.RunAsync(queue.Journal.Location, store, logger, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Requests still finishing may enqueue until the server has stopped; the host stops the server before
        // hosted services, so completing here lets the loop drain everything that was accepted.
        // The host's token may already be spent by requests that used the whole grace period; the drain gets its own
        // few seconds, and whatever it cannot finish stays in the journal for the next start.
        queue.Complete();
        using var drain = new CancellationTokenSource(DrainTimeout);
        await base.StopAsync(drain.Token);
        queue.Journal.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<LedgerEntry>(MaxBatch);
        var records = new List<UsageRecord>(MaxBatch);
        var reader = queue.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            Drain(reader, batch);
            if (batch.Count < MaxBatch && !stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(Linger, time, CancellationToken.None);
                Drain(reader, batch);
            }

            records.AddRange(batch.Select(e => e.Record));
            await WriteWithRetryAsync(records);
            queue.MarkCommitted(batch);
            batch.Clear();
            records.Clear();
            PrepareJournalSpare();
            if (reader.Count == 0 || time.GetElapsedTime(_lastRollup) >= RollupInterval)
            {
                await RollUpAsync(keepGoing: () => reader.Count == 0);
            }

            if (reader.Count == 0 && time.GetUtcNow() - _lastRetention >= RetentionInterval)
            {
                await ApplyRetentionAsync(keepGoing: () => reader.Count == 0);
            }
        }

        await RollUpAsync(keepGoing: () => false);
    }

    /// <summary>
    /// Brings the hourly rollups up to the records just written (a chunk at a time, so a ledger from before rollups
    /// catches up gradually). A failure is logged and tried again next time: reports read past the rollups' mark raw,
    /// so they stay exact meanwhile.
    /// </summary>
    /// <param name="keepGoing">Whether to roll up another chunk when there is more (while no new records wait).</param>
    private async Task RollUpAsync(Func<bool> keepGoing)
    {
        if (store is not Rollups.IRollupStore rollups)
        {
            return;
        }

        _lastRollup = time.GetTimestamp();
        try
        {
            int rolled;
            do
            {
                var started = time.GetTimestamp();
                rolled = await rollups.RollUpAsync(RollupChunk, CancellationToken.None);
                upkeep?.Add(rolled, time.GetElapsedTime(started));
            }
            while (rolled == RollupChunk && keepGoing());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRollupFailed(logger, ex);
        }
    }

    /// <summary>The journal's next segment is made here, between batches, rather than by a request that fills the current one.</summary>
    private void PrepareJournalSpare()
    {
        try
        {
            queue.Journal.PrepareSpare();
        }
        catch (IOException ex)
        {
            // Appends make their own segment when no spare is ready; they fail loudly if the disk is the trouble.
            LogSpareFailed(logger, ex);
        }
    }

    private static void Drain(System.Threading.Channels.ChannelReader<LedgerEntry> reader, List<LedgerEntry> batch)
    {
        while (batch.Count < MaxBatch && reader.TryRead(out var record))
        {
            batch.Add(record);
        }
    }

    private async Task WriteWithRetryAsync(List<UsageRecord> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await store.AppendAsync(batch, CancellationToken.None);
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogBatchFailed(logger, batch.Count, attempt, ex);
                await Task.Delay(RetryDelay * Math.Min(attempt, 25), time, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// Deletes raw records past <c>raw_retention_days</c> (only those already rolled up) and rollups past
    /// <c>rollup_retention_days</c>, a chunk at a time while no new records wait.
    /// </summary>
    private async Task ApplyRetentionAsync(Func<bool> keepGoing)
    {
        _lastRetention = time.GetUtcNow();
        if (store is not Rollups.IRollupStore rollups || _retention == RetentionSettings.KeepAll)
        {
            return;
        }

        try
        {
            if (_retention.RawRecordDays is { } rawDays)
            {
                var before = _lastRetention.AddDays(-rawDays);
                while (await rollups.DeleteRawBeforeAsync(before, RetentionChunk, CancellationToken.None) == RetentionChunk && keepGoing())
                {
                }
            }

            if (_retention.RollupDays is { } rollupDays)
            {
                await rollups.DeleteRollupsBeforeAsync(_lastRetention.AddDays(-rollupDays), CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogRetentionFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting expired usage records or rollups failed; trying again later")]
    private static partial void LogRetentionFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rolling up usage records failed; reports read them raw until the next try")]
    private static partial void LogRollupFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not prepare the journal's next segment")]
    private static partial void LogSpareFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Count} usage records failed (attempt {Attempt}); retrying")]
    private static partial void LogBatchFailed(ILogger logger, int count, int attempt, Exception exception);
}
