using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tollgate.Ledger.Journal;

namespace Tollgate.Ledger;

/// <summary>
/// Moves records from the <see cref="LedgerQueue"/> into the <see cref="ILedgerStore"/> in batches, off the request
/// path, and replays on start-up what a killed gateway left in the journal. On shutdown it stops taking new records only after the queue is empty. A failed batch is retried, never
/// dropped.
/// </summary>
public sealed partial class LedgerWriter(LedgerQueue queue, ILedgerStore store, TimeProvider time, ILogger<LedgerWriter> logger) : BackgroundService
{
    private const int MaxBatch = 1024;

    /// <summary>
    /// After the first record of a batch arrives, wait this long for more, so a busy gateway commits hundreds of
    /// records per transaction instead of one.
    /// </summary>
    private static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not prepare the journal's next segment")]
    private static partial void LogSpareFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Count} usage records failed (attempt {Attempt}); retrying")]
    private static partial void LogBatchFailed(ILogger logger, int count, int attempt, Exception exception);
}
