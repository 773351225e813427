namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// Where replicas share what the semantic cache learns (<c>cache: exact: store: shared</c>): the questions each
/// remembered, so that every replica can answer a rewording of a question another saw, and the bounded mode's
/// verification evidence and wrong marks, so that replicas learn together and what was learnt survives a restart.
/// </summary>
public interface ISemanticCacheShare
{
    /// <summary>Appends questions this replica remembered.</summary>
    Task AppendAsync(IReadOnlyList<SharedQuestion> questions, CancellationToken cancellationToken);

    /// <summary>
    /// How far behind its cursor a read looks again: a question written before another but committed after it (two
    /// replicas writing at once) is still found. The caller passes the ids it took in that stretch, to skip them.
    /// </summary>
    static TimeSpan ReadBehind => TimeSpan.FromSeconds(10);

    /// <summary>
    /// Other replicas' questions written after <paramref name="cursor"/> − <see cref="ReadBehind"/>, except the ids in
    /// <paramref name="skip"/>; with no cursor (at start-up), the newest <paramref name="limit"/> of every replica, this
    /// one's earlier life included. At most <paramref name="limit"/>, none older than <paramref name="maxAge"/>, oldest
    /// first, with the cursor to pass next time.
    /// </summary>
    Task<(IReadOnlyList<SharedQuestion> Questions, DateTimeOffset Cursor)> ReadAsync(
        DateTimeOffset? cursor, IReadOnlyCollection<long> skip, TimeSpan maxAge, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes questions older than <paramref name="maxAge"/> (their answers have expired).</summary>
    Task PruneAsync(TimeSpan maxAge, CancellationToken cancellationToken);

    /// <summary>
    /// Adds this replica's new verifications (per alias, per bin: verified, wrong) and returns every alias's totals,
    /// every replica's included.
    /// </summary>
    Task<IReadOnlyDictionary<string, WrongHitBound.Evidence>> ExchangeEvidenceAsync(IReadOnlyDictionary<string, WrongHitBound.Evidence> added, CancellationToken cancellationToken);

    /// <summary>
    /// Adds this replica's new wrong marks (a mark only ever rises) and returns the marks raised after
    /// <paramref name="since"/> − <see cref="ReadBehind"/> by any replica; with no <paramref name="since"/> (at
    /// start-up), every mark not older than <paramref name="maxAge"/>. With the cursor to pass next time.
    /// </summary>
    Task<(IReadOnlyList<WrongMark> Marks, DateTimeOffset Cursor)> ExchangeWrongMarksAsync(
        IReadOnlyList<WrongMark> added, DateTimeOffset? since, TimeSpan maxAge, CancellationToken cancellationToken);
}

/// <summary>
/// The bounded mode's verdict on one kept question: a verification found its answer wrong for a look-up at similarity
/// <paramref name="WrongAt"/>, so no replica serves it at or below that similarity again. The question is named by its
/// context and its answer's exact-cache key (which covers the question's own text).
/// </summary>
public sealed record WrongMark(string Context, string ExactKey, double WrongAt);

/// <summary>A question one replica remembered: its context, vector, text and the exact-cache key of its answer.</summary>
/// <param name="Id">The store's id (0 before it is stored).</param>
/// <param name="Context">Its context (<see cref="ResponseCaching.ResponseCacheKey.OfContext"/>).</param>
/// <param name="Vector">Its embedding.</param>
/// <param name="Text">The question as asked.</param>
/// <param name="ExactKey">The exact-cache key its answer is kept under.</param>
public sealed record SharedQuestion(long Id, string Context, float[] Vector, string Text, string ExactKey)
{
    /// <summary>When the store wrote it, by the store's clock (default before it is stored).</summary>
    public DateTimeOffset WrittenAt { get; init; }
}
