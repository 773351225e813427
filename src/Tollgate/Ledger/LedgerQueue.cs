using System.Threading.Channels;

namespace Tollgate.Ledger;

/// <summary>
/// The hand-off from the request path to the ledger writer: a bounded channel. When it is full, the request path
/// waits (back-pressure) instead of dropping a record.
/// </summary>
public sealed class LedgerQueue
{
    private readonly Channel<UsageRecord> _channel;
    private long _pending;

    public LedgerQueue(int capacity)
    {
        _channel = Channel.CreateBounded<UsageRecord>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
    }

    /// <summary>Records enqueued and not yet committed to the store.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    internal ChannelReader<UsageRecord> Reader => _channel.Reader;

    /// <summary>Enqueues a record. Not cancellable by the client: a record of a request that reached a provider is never dropped.</summary>
    public ValueTask EnqueueAsync(UsageRecord record)
    {
        Interlocked.Increment(ref _pending);
        return _channel.Writer.TryWrite(record) ? ValueTask.CompletedTask : _channel.Writer.WriteAsync(record, CancellationToken.None);
    }

    internal void Complete() => _channel.Writer.TryComplete();

    internal void MarkCommitted(int count) => Interlocked.Add(ref _pending, -count);
}
