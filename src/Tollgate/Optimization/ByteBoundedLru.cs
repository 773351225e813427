namespace Tollgate.Optimization;

/// <summary>
/// A map that keeps what it holds within a byte budget by dropping the least recently used first: a read or a write
/// makes an entry the most recent. Not thread-safe: its owner holds a lock around every call. Used by the exact cache's
/// memory store and by the embedders' remembered vectors.
/// </summary>
/// <param name="maxBytes">The most the entries may count for together.</param>
/// <param name="bytesOf">What one entry counts for.</param>
/// <param name="comparer">How keys compare (default: the type's).</param>
public sealed class ByteBoundedLru<TKey, TValue>(long maxBytes, Func<TKey, TValue, long> bytesOf, IEqualityComparer<TKey>? comparer = null)
    where TKey : notnull
{
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value)>> _entries = new(comparer);
    private readonly LinkedList<(TKey Key, TValue Value)> _recency = new();

    public int Count => _entries.Count;

    /// <summary>What the entries count for together.</summary>
    public long Bytes { get; private set; }

    public bool ContainsKey(TKey key) => _entries.ContainsKey(key);

    /// <summary>The value under <paramref name="key"/>, made the most recent.</summary>
    public bool TryGet(TKey key, out TValue value)
    {
        if (!_entries.TryGetValue(key, out var node))
        {
            value = default!;
            return false;
        }

        _recency.Remove(node);
        _recency.AddFirst(node);
        value = node.Value.Value;
        return true;
    }

    /// <summary>
    /// Puts <paramref name="value"/> under <paramref name="key"/> (replacing what was there) as the most recent, then drops
    /// the least recently used until the rest fit. A value larger than the whole budget is not kept (and replaces nothing).
    /// </summary>
    public void Set(TKey key, TValue value)
    {
        var bytes = bytesOf(key, value);
        if (bytes > maxBytes)
        {
            return;
        }

        Remove(key);
        _entries[key] = _recency.AddFirst((key, value));
        Bytes += bytes;
        while (Bytes > maxBytes && _recency.Last is { } oldest)
        {
            Remove(oldest.Value.Key);
        }
    }

    public bool Remove(TKey key)
    {
        if (!_entries.Remove(key, out var node))
        {
            return false;
        }

        _recency.Remove(node);
        Bytes -= bytesOf(node.Value.Key, node.Value.Value);
        return true;
    }

    /// <summary>Removes every entry whose value <paramref name="matches"/>; returns how many.</summary>
    public int RemoveWhere(Func<TValue, bool> matches)
    {
        ArgumentNullException.ThrowIfNull(matches);
        var removed = 0;
        for (var node = _recency.First; node is not null;)
        {
            var next = node.Next;
            if (matches(node.Value.Value))
            {
                Remove(node.Value.Key);
                removed++;
            }

            node = next;
        }

        return removed;
    }
}
