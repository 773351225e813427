using Microsoft.Extensions.Logging;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// Keeps a replica's semantic cache in step with the others through the shared store, once a second: hands over the
/// questions it remembered, takes in those the others remembered (at start, the newest ones of every replica, its own
/// earlier life's included), and exchanges the bounded mode's verifications and wrong marks, so that replicas learn
/// where serving is safe together, none serves a kept answer another found wrong, and what was learnt survives a restart. Questions older than the exact cache's TTL (their answers
/// have gone) are deleted from the store once a minute.
/// </summary>
public sealed partial class SemanticCacheFollower : Policy.SharedStateFollower
{
    /// <summary>Questions handed over or taken in per statement at most (at start, up to the cache's <c>max_entries</c>).</summary>
    public const int Batch = 1_000;

    private static readonly TimeSpan PruneEvery = TimeSpan.FromMinutes(1);

    private readonly SemanticCache _cache;
    private readonly ISemanticCacheShare _share;
    private readonly TimeSpan _ttl;
    private readonly TimeProvider _time;
    private readonly ILogger<SemanticCacheFollower> _logger;
    private readonly Analytics.Metrics.GatewayMetrics _metrics;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<long, DateTimeOffset> _taken = []; // ids taken in, with when they were written
    private DateTimeOffset? _cursor;
    private DateTimeOffset? _marksCursor;
    private long? _prunedAt;

    /// <param name="cache">This replica's semantic cache.</param>
    /// <param name="share">The store shared by the replicas.</param>
    /// <param name="ttl">The exact cache's TTL: older questions' answers have gone.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">Where failures are logged.</param>
    /// <param name="metrics">Where the questions exchanged are counted.</param>
    public SemanticCacheFollower(
        SemanticCache cache, ISemanticCacheShare share, TimeSpan ttl, TimeProvider time, ILogger<SemanticCacheFollower> logger, Analytics.Metrics.GatewayMetrics metrics)
        : base(TimeSpan.FromSeconds(1), time, logger)
    {
        (_cache, _share, _ttl, _time, _logger, _metrics) = (cache, share, ttl, time, logger, metrics);
    }

    /// <summary>One round: hand over, take in, exchange evidence, prune when due. Safe to call while the loop runs.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await HandOverAsync(cancellationToken);
            await TakeInAsync(cancellationToken);
            await ExchangeEvidenceAsync(cancellationToken);
            await ExchangeWrongMarksAsync(cancellationToken);
            if (_prunedAt is not { } pruned || _time.GetElapsedTime(pruned) >= PruneEvery)
            {
                _prunedAt = _time.GetTimestamp();
                await _share.PruneAsync(_ttl, cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    protected override async Task<bool> FollowAsync(CancellationToken cancellationToken)
    {
        await SyncAsync(cancellationToken);
        return true;
    }

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }

    private async Task HandOverAsync(CancellationToken cancellationToken)
    {
        _metrics.SemanticShared("lost", _cache.TakeNotShared());
        while (_cache.TakeToShare(Batch) is { Count: > 0 } questions)
        {
            try
            {
                await _share.AppendAsync(questions, cancellationToken);
                _metrics.SemanticShared("out", questions.Count);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Only hints for the other replicas: not kept for a retry, so a store that stays down holds nothing back.
                _metrics.SemanticShared("lost", questions.Count);
                LogNotShared(_logger, questions.Count, ex);
                return;
            }
        }
    }

    private async Task TakeInAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var first = _cursor is null;
            var (questions, cursor) = await _share.ReadAsync(_cursor, _taken.Keys, _ttl, first ? _cache.Settings.MaxEntries : Batch, cancellationToken);
            var takenIn = 0;
            foreach (var question in questions.Where(q => _taken.TryAdd(q.Id, q.WrittenAt)))
            {
                _cache.Adopt(question);
                takenIn++;
            }

            _metrics.SemanticShared("in", takenIn);

            // An id is remembered only as long as a read can return it again.
            _cursor = cursor;
            foreach (var old in _taken.Where(t => t.Value < cursor - ISemanticCacheShare.ReadBehind).Select(t => t.Key).ToList())
            {
                _taken.Remove(old);
            }

            if (first || questions.Count < Batch)
            {
                return;
            }
        }
    }

    private async Task ExchangeEvidenceAsync(CancellationToken cancellationToken)
    {
        if (_cache.Settings.MaxErrorRate is null)
        {
            return;
        }

        var taken = _cache.Bounds.ToDictionary(b => b.Key, b => b.Value.TakeNew(), StringComparer.Ordinal);
        IReadOnlyDictionary<string, WrongHitBound.Evidence> totals;
        try
        {
            totals = await _share.ExchangeEvidenceAsync(taken.Where(t => !t.Value.IsEmpty).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal), cancellationToken);
        }
        catch
        {
            foreach (var (alias, evidence) in taken)
            {
                _cache.BoundFor(alias).ReturnNew(evidence);
            }

            throw;
        }

        foreach (var (alias, evidence) in totals)
        {
            _cache.BoundFor(alias).Adopt(evidence);
        }
    }

    /// <summary>
    /// Hands over the wrong marks learnt here and takes in those raised anywhere since the last round (at start, every
    /// mark younger than the TTL), after the questions, so that a question taken in this round gets its mark at once.
    /// Marks that could not be handed over are kept for the next round.
    /// </summary>
    private async Task ExchangeWrongMarksAsync(CancellationToken cancellationToken)
    {
        if (_cache.Settings.MaxErrorRate is null)
        {
            return;
        }

        var mine = _cache.TakeMarksToShare();
        IReadOnlyList<WrongMark> marks;
        try
        {
            (marks, var cursor) = await _share.ExchangeWrongMarksAsync(mine, _marksCursor, _ttl, cancellationToken);
            _marksCursor = cursor;
        }
        catch
        {
            _cache.ReturnMarksToShare(mine);
            throw;
        }

        _metrics.SemanticMarksShared("out", mine.Count);
        _metrics.SemanticMarksShared("in", marks.Count(_cache.AdoptMark));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} remembered questions could not be shared with the other replicas; they stay on this one")]
    private static partial void LogNotShared(ILogger logger, int count, Exception exception);
}
