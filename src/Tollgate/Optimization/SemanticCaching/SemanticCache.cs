using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Text.Json;
using Tollgate.Optimization.ResponseCaching;
using Tollgate.Providers;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// Questions kept for the semantic cache, on shelves: one per context (tenant, endpoint and the whole request but the
/// last message's text, see <see cref="ResponseCacheKey.OfContext"/>), so only a question asked with the same system
/// prompt, earlier turns, tools, model and parameters can be answered from a kept one. A shelf holds each question's
/// vector, its <see cref="QueryText"/> for the guards, and the exact-cache key its answer is kept under: answers live
/// in the exact cache (its TTL, size limit and purges apply), and a question whose answer has gone is forgotten. With a
/// pair model (<paramref name="judge"/>), the nearest kept question is judged by it and its score stands for the
/// similarity everywhere (threshold, bounded mode, header and record).
/// </summary>
/// <param name="settings">The semantic cache's settings.</param>
/// <param name="embedder">What turns a question into a vector.</param>
/// <param name="judge">A pair model whose score stands for the similarity, or null.</param>
/// <param name="shared">Whether the questions remembered here are handed to the other replicas (<see cref="TakeToShare"/>).</param>
public sealed class SemanticCache(SemanticCacheSettings settings, ITextEmbedder embedder, PairScorer? judge = null, bool shared = false) : IDisposable
{
    /// <summary>Questions waiting to be shared at most; past it, new ones are not shared (the store is unreachable).</summary>
    public const int MaxWaitingToShare = 10_000;

    private int _notShared;

    private readonly ConcurrentQueue<SharedQuestion> _toShare = new();
    private int _waitingToShare;

    /// <summary>Look-ups only read shelves and indexes, so they share the lock; remembering and forgetting take it alone.</summary>
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, Shelf> _shelves = new(StringComparer.Ordinal);
    private readonly Queue<Entry> _oldestFirst = new();
    private readonly ConcurrentDictionary<string, WrongHitBound> _bounds = new(StringComparer.Ordinal);
    private int _entries;

    // Wrong marks by question (context, exact key), learnt here or taken in from other replicas, so that a question
    // taken in after its mark still gets it; at most max_entries, the oldest forgotten first. Under the write lock.
    private readonly Dictionary<(string Context, string ExactKey), double> _marks = [];
    private readonly Queue<(string Context, string ExactKey)> _marksOldestFirst = new();
    private readonly ConcurrentQueue<WrongMark> _marksToShare = new();

    public SemanticCacheSettings Settings => settings;

    /// <summary>How many questions are kept, on every shelf.</summary>
    public int Count
    {
        get
        {
            _gate.EnterReadLock();
            try
            {
                return _entries;
            }
            finally
            {
                _gate.ExitReadLock();
            }
        }
    }

    /// <summary>The bounded mode's state of every alias that has one.</summary>
    public IEnumerable<KeyValuePair<string, WrongHitBound>> Bounds => _bounds;

    /// <summary>The bounded mode's state for an alias (created on first use).</summary>
    public WrongHitBound BoundFor(string alias) =>
        _bounds.GetOrAdd(alias, _ => new WrongHitBound(settings.MaxErrorRate ?? 0, settings.VerifySharePercent / 100, settings.MinimumSimilarity));

    /// <summary>
    /// Looks the question up among the kept ones of its context (a streamed request's context includes <c>stream</c>, so
    /// it finds kept streams, replayed as sent). Null when the request is not one the semantic cache answers (not opted
    /// in by alias, feature or key; a last message that is not the user's plain text or is too long).
    /// </summary>
    public async ValueTask<SemanticLookup?> LookAsync(
        string tenant, GatewayEndpoint endpoint, string alias, Ledger.Attribution attribution, JsonElement body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attribution);
        if (!settings.Covers(alias, attribution.Feature, attribution.KeyId) || SemanticQuery.LastUserText(body) is not { } text)
        {
            return null;
        }

        var query = QueryText.Of(text);
        if (await embedder.EmbedAsync(EmbeddedText(query, text), attribution, cancellationToken) is not { } vector)
        {
            return null;
        }

        var context = ResponseCacheKey.OfContext(tenant, endpoint, body);
        Entry? nearest = null;
        var similarity = 0.0;
        _gate.EnterReadLock();
        try
        {
            // A shelf of vectors of another length (an embeddings alias whose model changed) is not compared with.
            if (_shelves.TryGetValue(context, out var shelf) && shelf.Index.Dimensions == vector.Length && shelf.Index.Nearest(vector) is { } found)
            {
                nearest = shelf.Entries[found.Id];

                // With a pair model, the nearest question by cosine is judged by it: its score is the similarity.
                similarity = judge is not null && judge.Dimensions == vector.Length
                    ? judge.Score(shelf.Index.VectorOf(found.Id), vector, nearest.Query, query)
                    : found.Similarity;
            }
        }
        finally
        {
            _gate.ExitReadLock();
        }

        // In the bounded mode an entry also has its own threshold: at or below a similarity where its answer was once
        // verified wrong, it is not used again (however safe the alias's bound says that similarity is).
        var decision = nearest is null || (settings.Guards && query.Conflict(nearest.Query) is not null) ? BoundedDecision.Miss
            : settings.Threshold is { } threshold ? (similarity >= threshold ? BoundedDecision.Serve : BoundedDecision.Miss)
            : similarity <= nearest.WrongAt ? BoundedDecision.Miss
            : BoundOf(alias).Decide(similarity);
        return new SemanticLookup(context, query, vector, decision, similarity, nearest) { Text = text };
    }

    /// <summary>Remembers the question of a request whose answer was just kept under <paramref name="exactKey"/>.</summary>
    public void Remember(SemanticLookup lookup, string exactKey)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        Add(lookup.Context, lookup.Vector, lookup.Query, exactKey, skipKnown: false);
        if (!shared)
        {
            return;
        }

        if (Interlocked.Increment(ref _waitingToShare) <= MaxWaitingToShare)
        {
            _toShare.Enqueue(new SharedQuestion(0, lookup.Context, lookup.Vector, lookup.Text, exactKey));
        }
        else
        {
            Interlocked.Decrement(ref _waitingToShare); // the store has been unreachable for a while: not shared
            Interlocked.Increment(ref _notShared);
        }
    }

    /// <summary>Questions not shared because too many were waiting, since the last call (for the metrics).</summary>
    public int TakeNotShared() => Interlocked.Exchange(ref _notShared, 0);

    /// <summary>Takes up to <paramref name="max"/> remembered questions not yet handed to the other replicas.</summary>
    public IReadOnlyList<SharedQuestion> TakeToShare(int max)
    {
        var taken = new List<SharedQuestion>();
        while (taken.Count < max && _toShare.TryDequeue(out var question))
        {
            Interlocked.Decrement(ref _waitingToShare);
            taken.Add(question);
        }

        return taken;
    }

    /// <summary>The kept question of context <paramref name="context"/> whose answer is kept under <paramref name="exactKey"/>, or null.</summary>
    public Entry? Find(string context, string exactKey)
    {
        _gate.EnterReadLock();
        try
        {
            return _shelves.TryGetValue(context, out var shelf) && shelf.ExactKeys.ContainsKey(exactKey)
                ? shelf.Entries.Values.FirstOrDefault(e => e.ExactKey == exactKey)
                : null;
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    /// <summary>Takes the wrong marks learnt here and not yet handed to the other replicas.</summary>
    public IReadOnlyList<WrongMark> TakeMarksToShare()
    {
        var taken = new List<WrongMark>();
        while (taken.Count < MaxWaitingToShare && _marksToShare.TryDequeue(out var mark))
        {
            taken.Add(mark);
        }

        return taken;
    }

    /// <summary>Puts back marks that could not be handed over, to be tried again: a mark keeps replicas from a wrong answer.</summary>
    public void ReturnMarksToShare(IReadOnlyList<WrongMark> marks)
    {
        ArgumentNullException.ThrowIfNull(marks);
        foreach (var mark in marks.Take(MaxWaitingToShare - _marksToShare.Count))
        {
            _marksToShare.Enqueue(mark);
        }
    }

    /// <summary>
    /// Takes in a wrong mark another replica learnt: the question it names is not served at or below it here either.
    /// Says whether it raised what this replica knew (a mark read again, or lower, changes nothing).
    /// </summary>
    public bool AdoptMark(WrongMark mark)
    {
        ArgumentNullException.ThrowIfNull(mark);
        _gate.EnterWriteLock();
        try
        {
            return Mark(mark.Context, mark.ExactKey, mark.WrongAt);
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>
    /// Takes in a question another replica remembered (or this one, before a restart), unless its context already
    /// holds the same answer's question.
    /// </summary>
    public void Adopt(SharedQuestion question)
    {
        ArgumentNullException.ThrowIfNull(question);
        Add(question.Context, question.Vector, QueryText.Of(question.Text), question.ExactKey, skipKnown: true);
    }

    private void Add(string context, float[] vector, QueryText query, string exactKey, bool skipKnown)
    {
        _gate.EnterWriteLock();
        try
        {
            if (!_shelves.TryGetValue(context, out var shelf) || shelf.Index.Dimensions != vector.Length)
            {
                if (shelf is not null)
                {
                    foreach (var stale in shelf.Entries.Values.ToList())
                    {
                        Remove(stale);
                    }
                }

                shelf = new Shelf(new VectorIndex(vector.Length));
                _shelves[context] = shelf;
            }
            else if (skipKnown && shelf.ExactKeys.ContainsKey(exactKey))
            {
                return;
            }

            var id = shelf.Index.Add(vector);
            var entry = new Entry(query, exactKey, shelf, id) { WrongAt = _marks.GetValueOrDefault((context, exactKey), -1) };
            shelf.Entries[id] = entry;
            shelf.ExactKeys[exactKey] = shelf.ExactKeys.GetValueOrDefault(exactKey) + 1;
            _oldestFirst.Enqueue(entry);
            _entries++;
            while (_entries > settings.MaxEntries && _oldestFirst.TryDequeue(out var oldest))
            {
                Remove(oldest);
            }
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <summary>Forgets the kept question a lookup found (its answer is no longer in the exact cache).</summary>
    public void Forget(SemanticLookup lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        if (lookup.Nearest is { } entry)
        {
            _gate.EnterWriteLock();
            try
            {
                Remove(entry);
            }
            finally
            {
                _gate.ExitWriteLock();
            }
        }
    }

    /// <summary>
    /// The bounded mode learns from a verified lookup: the kept answer counts as right when the fresh answer's text is
    /// at least <see cref="SemanticCacheSettings.AnswerMatch"/> similar to it. Streams are compared by the text their
    /// events carry.
    /// </summary>
    public async ValueTask LearnAsync(
        string alias, SemanticLookup lookup, ReadOnlyMemory<byte> kept, ReadOnlyMemory<byte> fresh, Ledger.Attribution payer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        var similarity = lookup.Similarity;
        if (SemanticQuery.AnswerText(kept) is not { } keptText || SemanticQuery.AnswerText(fresh) is not { } freshText)
        {
            return;
        }

        var right = keptText == freshText;
        if (!right)
        {
            var a = await embedder.EmbedAsync(EmbeddedText(QueryText.Of(keptText), keptText), payer, cancellationToken);
            var b = await embedder.EmbedAsync(EmbeddedText(QueryText.Of(freshText), freshText), payer, cancellationToken);
            if (a is null || b is null || a.Length != b.Length)
            {
                return; // no comparison could be had: nothing learnt
            }

            right = TensorPrimitives.Dot(a, b) >= settings.AnswerMatch;
        }

        BoundOf(alias).Learn(similarity, right);
        if (!right && lookup.Nearest is { } entry)
        {
            _gate.EnterWriteLock();
            try
            {
                _ = Mark(lookup.Context, entry.ExactKey, similarity);
            }
            finally
            {
                _gate.ExitWriteLock();
            }

            if (shared && _marksToShare.Count < MaxWaitingToShare)
            {
                _marksToShare.Enqueue(new WrongMark(lookup.Context, entry.ExactKey, similarity));
            }
        }
    }

    /// <summary>
    /// Raises the wrong mark of a question (its context and answer) and of its entries on the shelf; says whether it
    /// rose. Under the write lock.
    /// </summary>
    private bool Mark(string context, string exactKey, double wrongAt)
    {
        var question = (context, exactKey);
        if (_marks.TryGetValue(question, out var known))
        {
            if (wrongAt <= known)
            {
                return false;
            }

            _marks[question] = wrongAt;
        }
        else
        {
            _marks[question] = wrongAt;
            _marksOldestFirst.Enqueue(question);
            while (_marks.Count > settings.MaxEntries && _marksOldestFirst.TryDequeue(out var oldest))
            {
                _marks.Remove(oldest);
            }
        }

        if (_shelves.TryGetValue(context, out var shelf) && shelf.ExactKeys.ContainsKey(exactKey))
        {
            foreach (var entry in shelf.Entries.Values.Where(e => e.ExactKey == exactKey))
            {
                entry.WrongAt = Math.Max(entry.WrongAt, wrongAt);
            }
        }

        return true;
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>A lexical embedder compares the normalised words; a model is given the text as written.</summary>
    private string EmbeddedText(QueryText query, string text) => embedder is LexicalEmbedder ? query.Normalised : text;

    private WrongHitBound BoundOf(string alias) => BoundFor(alias);

    /// <summary>Removes an entry if it is still on its shelf (its index slot may since hold a newer entry).</summary>
    private void Remove(Entry entry)
    {
        if (entry.Shelf.Entries.TryGetValue(entry.Id, out var current) && ReferenceEquals(current, entry))
        {
            entry.Shelf.Entries.Remove(entry.Id);
            entry.Shelf.Index.Remove(entry.Id);
            if (entry.Shelf.ExactKeys[entry.ExactKey] is var count and > 1)
            {
                entry.Shelf.ExactKeys[entry.ExactKey] = count - 1;
            }
            else
            {
                entry.Shelf.ExactKeys.Remove(entry.ExactKey);
            }
            _entries--;
        }
    }

    /// <summary>The kept questions of one context.</summary>
    public sealed class Shelf(VectorIndex index)
    {
        public VectorIndex Index { get; } = index;
        public Dictionary<int, Entry> Entries { get; } = [];

        /// <summary>The exact-cache keys of the entries' answers, each with how many entries have it.</summary>
        public Dictionary<string, int> ExactKeys { get; } = new(StringComparer.Ordinal);
    }

    public sealed record Entry(QueryText Query, string ExactKey, Shelf Shelf, int Id)
    {
        /// <summary>The highest similarity at which a lookup found this entry and its answer was verified wrong (−1: never).</summary>
        public double WrongAt { get; set; } = -1;
    }
}

/// <summary>A semantic look-up: what to do, the nearest kept question and its similarity, and what to remember on a miss.</summary>
public sealed record SemanticLookup(string Context, QueryText Query, float[] Vector, BoundedDecision Decision, double Similarity, SemanticCache.Entry? Nearest)
{
    /// <summary>The question as asked (shared with the other replicas with its vector).</summary>
    public string Text { get; init; } = string.Empty;
}
