using System.Threading.Channels;
using Tollgate.Ledger.Journal;

namespace Tollgate.Ledger;

/// <summary>
/// The hand-off from the request path to the ledger writer. A record is first appended to the
/// <see cref="UsageJournal"/> — so it survives a killed process from the moment <see cref="EnqueueAsync"/> returns —
/// then queued on a bounded channel. When the channel is full, the request path waits (back-pressure) instead of
/// dropping a record.
/// </summary>
public sealed class LedgerQueue
{
    private readonly Channel<LedgerEntry> _channel;
    private readonly UsageJournal _journal;
    private long _pending;

    public LedgerQueue(int capacity, UsageJournal journal)
    {
        ArgumentNullException.ThrowIfNull(journal);
        _journal = journal;
        _channel = Channel.CreateBounded<LedgerEntry>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
    }

    /// <summary>Records enqueued and not yet committed to the store.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    internal ChannelReader<LedgerEntry> Reader => _channel.Reader;

    internal UsageJournal Journal => _journal;

    /// <summary>
    /// Journals and enqueues a record. Not cancellable by the client: a record of a request that reached a provider
    /// is never dropped. When this returns, the record is durable against a killed process.
    /// </summary>
    public ValueTask EnqueueAsync(UsageRecord record)
    {
        var entry = new LedgerEntry(record, _journal.Append(record));
        Interlocked.Increment(ref _pending);
        return _channel.Writer.TryWrite(entry) ? ValueTask.CompletedTask : _channel.Writer.WriteAsync(entry, CancellationToken.None);
    }

    internal void Complete() => _channel.Writer.TryComplete();

    internal void MarkCommitted(IReadOnlyList<LedgerEntry> entries)
    {
        _journal.Committed(entries.Select(e => e.JournalSegment));
        Interlocked.Add(ref _pending, -entries.Count);
    }
}

/// <summary>A queued record and the journal segment that holds it until the store has it.</summary>
internal readonly record struct LedgerEntry(UsageRecord Record, long JournalSegment);
