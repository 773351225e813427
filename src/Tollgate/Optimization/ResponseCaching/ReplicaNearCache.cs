using System.Collections.Concurrent;

namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// A replica's memory in front of a shared store: an answer read from the shared store is served from here for up to
/// <see cref="FreshFor"/> after it was read, so a hot answer costs the database one read a second per replica instead
/// of one per request. The price is that a purge through another replica applies here only when that second has passed
/// (a purge through this replica applies at once). Only answers read are remembered (a miss always asks the shared
/// store); what is remembered is bounded by count and by bytes, dropping what is no longer fresh first and everything
/// when that is not enough. Expiry by the cache's TTL still applies to what is remembered.
/// </summary>
public sealed class ReplicaNearCache(IResponseCacheStore shared, TimeSpan ttl, TimeProvider time) : IResponseCacheStore
{
    /// <summary>How long an answer read from the shared store is served from memory.</summary>
    public static readonly TimeSpan FreshFor = TimeSpan.FromSeconds(1);

    /// <summary>At most this many answers are remembered …</summary>
    public const int MaxEntries = 10_000;

    /// <summary>… taking at most this many bytes (as <see cref="CachedAnswer.Bytes"/> counts them).</summary>
    public const long MaxBytes = 64L * 1024 * 1024;

    private readonly ConcurrentDictionary<string, (CachedAnswer Answer, long ReadAt)> _read = new(StringComparer.Ordinal);
    private readonly Lock _trimming = new();
    private long _bytes;

    public async ValueTask<CachedAnswer?[]> GetManyAsync(IReadOnlyList<string> keys, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var answers = new CachedAnswer?[keys.Count];
        var clock = time.GetTimestamp();
        List<int>? unknown = null;
        for (var i = 0; i < keys.Count; i++)
        {
            if (_read.TryGetValue(keys[i], out var read) && time.GetElapsedTime(read.ReadAt, clock) < FreshFor && now - read.Answer.CreatedAt < ttl)
            {
                answers[i] = read.Answer;
            }
            else
            {
                (unknown ??= []).Add(i);
            }
        }

        if (unknown is null)
        {
            return answers;
        }

        var fetched = await shared.GetManyAsync([.. unknown.Select(i => keys[i])], now, cancellationToken);
        for (var k = 0; k < unknown.Count; k++)
        {
            answers[unknown[k]] = fetched[k];
            if (fetched[k] is { } answer)
            {
                Remember(answer, clock);
            }
        }

        return answers;
    }

    public ValueTask PutAsync(IReadOnlyList<CachedAnswer> answers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(answers);
        foreach (var answer in answers)
        {
            Forget(answer.Key); // the new answer is read from the shared store next time
        }

        return shared.PutAsync(answers, cancellationToken);
    }

    public async ValueTask<int> PurgeAsync(CachePurgeFilter filter, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var purged = await shared.PurgeAsync(filter, now, cancellationToken);
        foreach (var (key, read) in _read)
        {
            if (filter.Matches(read.Answer, now))
            {
                Forget(key);
            }
        }

        return purged;
    }

    public ValueTask<(long Entries, long Bytes)> SizeAsync(CancellationToken cancellationToken) => shared.SizeAsync(cancellationToken);

    private void Remember(CachedAnswer answer, long readAt)
    {
        if (answer.Bytes > MaxBytes / 16)
        {
            return; // a large answer is read from the shared store each time rather than crowd out the rest
        }

        if (_read.TryGetValue(answer.Key, out var earlier) && _read.TryUpdate(answer.Key, (answer, readAt), earlier))
        {
            Interlocked.Add(ref _bytes, answer.Bytes - earlier.Answer.Bytes);
        }
        else if (_read.TryAdd(answer.Key, (answer, readAt)))
        {
            Interlocked.Add(ref _bytes, answer.Bytes);
        }

        if (_read.Count > MaxEntries || Interlocked.Read(ref _bytes) > MaxBytes)
        {
            Trim(readAt);
        }
    }

    /// <summary>Drops what is no longer fresh; if that is not enough, everything.</summary>
    private void Trim(long now)
    {
        lock (_trimming)
        {
            foreach (var (key, read) in _read)
            {
                if (time.GetElapsedTime(read.ReadAt, now) >= FreshFor)
                {
                    Forget(key);
                }
            }

            if (_read.Count > MaxEntries || Interlocked.Read(ref _bytes) > MaxBytes)
            {
                foreach (var key in _read.Keys)
                {
                    Forget(key);
                }
            }
        }
    }

    private void Forget(string key)
    {
        if (_read.TryRemove(key, out var removed))
        {
            Interlocked.Add(ref _bytes, -removed.Answer.Bytes);
        }
    }
}
