namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// Kept answers in the process's memory: a <see cref="ByteBoundedLru{TKey, TValue}"/> under one lock. A get makes the
/// entry the most recent; a put past <see cref="ResponseCacheSettings.MaxBytes"/> drops entries from the back (least
/// recently used) until the rest fit; an entry past its TTL is dropped when it is next looked up, and when it reaches
/// the back. Entries do not survive a restart. (Microsoft.Extensions.Caching.Memory was not used: past its size limit it
/// refuses new entries and compacts later, in the background, where this cache must evict at once and in LRU order.)
/// </summary>
public sealed class MemoryResponseCacheStore(long maxBytes, TimeSpan ttl) : IResponseCacheStore
{
    private readonly Lock _gate = new();
    private readonly ByteBoundedLru<string, CachedAnswer> _entries = new(maxBytes, (_, answer) => answer.Bytes, StringComparer.Ordinal);

    public ValueTask<(long Entries, long Bytes)> SizeAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult<(long, long)>((_entries.Count, _entries.Bytes));
        }
    }

    public ValueTask<CachedAnswer?[]> GetManyAsync(IReadOnlyList<string> keys, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var answers = new CachedAnswer?[keys.Count];
        lock (_gate)
        {
            for (var i = 0; i < answers.Length; i++)
            {
                if (_entries.TryGet(keys[i], out var answer) && now - answer.CreatedAt >= ttl)
                {
                    _entries.Remove(keys[i]);
                    answer = null;
                }

                answers[i] = answer;
            }
        }

        return ValueTask.FromResult(answers);
    }

    public ValueTask PutAsync(IReadOnlyList<CachedAnswer> answers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(answers);
        lock (_gate)
        {
            foreach (var answer in answers)
            {
                _entries.Set(answer.Key, answer);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<int> PurgeAsync(CachePurgeFilter filter, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        lock (_gate)
        {
            return ValueTask.FromResult(_entries.RemoveWhere(answer => filter.Matches(answer, now)));
        }
    }
}
