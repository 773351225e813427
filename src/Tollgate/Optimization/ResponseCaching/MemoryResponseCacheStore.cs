namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// Kept answers in the process's memory: a map from key to a node of a recency list, under one lock. A get moves the
/// entry to the front; a put past <see cref="ResponseCacheSettings.MaxBytes"/> drops entries from the back (least
/// recently used) until the rest fit; an entry past its TTL is dropped when it is next looked up, and when it reaches
/// the back. Entries do not survive a restart. (Microsoft.Extensions.Caching.Memory was not used: past its size limit it
/// refuses new entries and compacts later, in the background, where this cache must evict at once and in LRU order.)
/// </summary>
public sealed class MemoryResponseCacheStore(long maxBytes, TimeSpan ttl) : IResponseCacheStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LinkedListNode<CachedAnswer>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<CachedAnswer> _recency = new();
    private long _bytes;

    public ValueTask<(long Entries, long Bytes)> SizeAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult<(long, long)>((_entries.Count, _bytes));
        }
    }

    public ValueTask<CachedAnswer?[]> GetManyAsync(IReadOnlyList<string> keys, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var answers = new CachedAnswer?[keys.Count];
        for (var i = 0; i < answers.Length; i++)
        {
            answers[i] = Get(keys[i], now);
        }

        return ValueTask.FromResult(answers);
    }

    public ValueTask PutAsync(IReadOnlyList<CachedAnswer> answers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(answers);
        foreach (var answer in answers)
        {
            Put(answer);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<int> PurgeAsync(CachePurgeFilter filter, DateTimeOffset now, CancellationToken cancellationToken) => ValueTask.FromResult(Purge(filter, now));

    private CachedAnswer? Get(string key, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var node))
            {
                return null;
            }

            if (now - node.Value.CreatedAt >= ttl)
            {
                Remove(node);
                return null;
            }

            _recency.Remove(node);
            _recency.AddFirst(node);
            return node.Value;
        }
    }

    private void Put(CachedAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        if (answer.Bytes > maxBytes)
        {
            return;
        }

        lock (_gate)
        {
            if (_entries.TryGetValue(answer.Key, out var existing))
            {
                Remove(existing);
            }

            _entries[answer.Key] = _recency.AddFirst(answer);
            _bytes += answer.Bytes;
            while (_bytes > maxBytes && _recency.Last is { } oldest)
            {
                Remove(oldest);
            }
        }
    }

    private int Purge(CachePurgeFilter filter, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(filter);
        lock (_gate)
        {
            var purged = 0;
            for (var node = _recency.First; node is not null;)
            {
                var next = node.Next;
                if (filter.Matches(node.Value, now))
                {
                    Remove(node);
                    purged++;
                }

                node = next;
            }

            return purged;
        }
    }

    private void Remove(LinkedListNode<CachedAnswer> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Bytes;
    }
}
