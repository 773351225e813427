using Microsoft.Extensions.Logging;

namespace Tollgate.Ledger.Journal;

/// <summary>
/// On start-up, moves the records a stopped or killed gateway left in its journal into the store. The store ignores
/// a record whose id it already holds, so a record committed just before the crash is not counted twice. A segment a
/// live gateway still holds open (locked) is left alone.
/// </summary>
public static partial class JournalReplay
{
    private const int BatchSize = 1000;

    public static async Task<int> RunAsync(string directory, ILedgerStore store, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var replayed = 0;
        foreach (var (_, path) in UsageJournal.Segments(directory))
        {
            FileStream file;
            try
            {
                file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                continue;
            }

            var torn = 0;
            byte[] content;
            await using (file)
            {
                content = new byte[file.Length];
                await file.ReadExactlyAsync(content, cancellationToken);
            }

            var batch = new List<UsageRecord>(BatchSize);
            for (var start = 0; start < content.Length;)
            {
                var end = Array.IndexOf(content, (byte)'\n', start);
                end = end < 0 ? content.Length : end;
                // Zero bytes around a line are places reserved for records whose copy never happened or was cut short,
                // or the unused end of a segment (see UsageJournal); a JSON line never holds a zero byte of its own.
                var first = start;
                while (first < end && content[first] == 0)
                {
                    first++;
                }

                var last = end;
                while (last > first && content[last - 1] == 0)
                {
                    last--;
                }

                var line = content.AsMemory(first..last);
                start = end + 1;
                if (line.IsEmpty)
                {
                    continue;
                }

                if (JournalCodec.Read(line) is { } record)
                {
                    batch.Add(record);
                }
                else
                {
                    torn++;
                }

                if (batch.Count == BatchSize)
                {
                    await store.AppendAsync(batch, cancellationToken);
                    replayed += batch.Count;
                    batch.Clear();
                }
            }

            await store.AppendAsync(batch, cancellationToken);
            replayed += batch.Count;
            if (torn > 0)
            {
                LogTorn(logger, torn, path);
            }

            File.Delete(path);
        }

        if (replayed > 0)
        {
            LogReplayed(logger, replayed);
        }

        return replayed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replayed {Count} usage records from the journal into the ledger (the gateway did not stop cleanly)")]
    private static partial void LogReplayed(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped {Count} incomplete journal lines in {Path} (a write cut by a crash; its response never completed)")]
    private static partial void LogTorn(ILogger logger, int count, string path);
}
