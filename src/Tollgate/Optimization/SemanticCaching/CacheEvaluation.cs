using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tollgate.Optimization.SemanticCaching;

/// <summary>A labelled question pair: <c>label</c> 1 when <c>text_b</c> asks what <c>text_a</c> asks.</summary>
public sealed record QuestionPair(string TextA, string TextB, bool Same);

/// <summary>
/// <c>tollgate cache eval</c>: how a semantic cache would answer, measured on labelled pairs. The pairs are shuffled
/// and split in two halves. In each half, every <c>text_a</c> is loaded into an index and every <c>text_b</c> looks up
/// its nearest entry: a lookup at or above the threshold (and not refused by a guard) is a hit; the hit is correct when
/// it found its own pair's question and the pair is labelled the same, the question itself written alike, or a question
/// another pair of the half labels the same; recall counts the lookups for which the index holds such an entry. Precision = correct hits / hits (a wrong
/// hit is a wrong answer served); recall = correct hits / pairs labelled the same. The threshold is chosen on the first
/// half (the lowest whose precision reaches the target) and reported on the second, held-out half.
/// </summary>
public static class CacheEvaluation
{
    public sealed record Lookup(float Similarity, bool Correct, string? Guard);

    /// <summary>
    /// One half's lookups; <paramref name="EmbeddingPerText"/> is null when the vectors were read from a file;
    /// <paramref name="WordForWord"/>: lookups left out because another pair's question in the index, or an earlier
    /// lookup, is written alike.
    /// </summary>
    public sealed record HalfResult(IReadOnlyList<Lookup> Lookups, int Positives, TimeSpan? EmbeddingPerText, TimeSpan Searching, int Entries, int WordForWord = 0)
    {
        public (double Precision, double Recall, double HitRate, int Hits) At(double threshold, bool guards)
        {
            var hits = Lookups.Where(l => l.Similarity >= threshold && (!guards || l.Guard is null)).ToList();
            var correct = hits.Count(l => l.Correct);
            return (hits.Count == 0 ? 1 : correct / (double)hits.Count, Positives == 0 ? 0 : correct / (double)Positives, hits.Count / (double)Lookups.Count, hits.Count);
        }
    }

    /// <summary>Reads a pairs file; <see cref="FormatException"/> naming the first pair that is not <c>{text_a, text_b, label: 0 | 1}</c>.</summary>
    public static IReadOnlyList<QuestionPair> Read(string path)
    {
        using var stream = File.OpenRead(path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(stream);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"Not JSON: {ex.Message}", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("Expected a JSON array of {text_a, text_b, label} objects.");
            }

            var pairs = new List<QuestionPair>();
            foreach (var p in document.RootElement.EnumerateArray())
            {
                if (p.ValueKind != JsonValueKind.Object
                    || !p.TryGetProperty("text_a", out var a) || a.ValueKind != JsonValueKind.String
                    || !p.TryGetProperty("text_b", out var b) || b.ValueKind != JsonValueKind.String
                    || !p.TryGetProperty("label", out var label) || !label.TryGetInt32(out var same) || same is not (0 or 1))
                {
                    throw new FormatException($"Pair {pairs.Count + 1} is not {{\"text_a\": string, \"text_b\": string, \"label\": 0 or 1}}.");
                }

                try
                {
                    pairs.Add(new QuestionPair(a.GetString()!, b.GetString()!, same == 1));
                }
                catch (InvalidOperationException ex)
                {
                    throw new FormatException($"Pair {pairs.Count + 1} holds text that is not valid Unicode ({ex.Message}).", ex);
                }
            }

            return pairs;
        }
    }

    /// <summary>
    /// The pairs shuffled with <paramref name="seed"/>, at most <paramref name="limit"/>, split into two halves that share
    /// no question: pairs linked by a question (written alike, case and punctuation aside) stay together, so that nothing
    /// a model is trained on or a threshold is chosen with is asked again in the held-out half (QQP asks some questions
    /// in several pairs: 18% of its pairs share their text_b with another). Within a half, linked pairs are next to each
    /// other, so cutting a half in two parts separates at most one group.
    /// </summary>
    /// <param name="pairs">Every pair of the file.</param>
    /// <param name="limit">At most this many pairs are used.</param>
    /// <param name="seed">The shuffle's seed.</param>
    /// <param name="byQuestion">False: the pairs alone are halved (alternately, after the shuffle), so a question may be
    /// in both halves — how a cache meets questions that recur, and how this command split before 2026-12-07's fifth stop.</param>
    public static (IReadOnlyList<QuestionPair> Tuning, IReadOnlyList<QuestionPair> HeldOut) Split(IReadOnlyList<QuestionPair> pairs, int limit, int seed, bool byQuestion = true)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var shuffled = pairs.ToArray();
        new Random(seed).Shuffle(shuffled);
        if (!byQuestion)
        {
            var taken = shuffled.Take(limit).ToArray();
            return ([.. taken.Where((_, i) => i % 2 == 0)], [.. taken.Where((_, i) => i % 2 == 1)]);
        }

        var linked = new QuestionGroups();
        foreach (var pair in shuffled)
        {
            linked.Link(Folded(pair.TextA), Folded(pair.TextB));
        }

        List<QuestionPair> tuning = [], heldOut = [];
        var used = 0;
        foreach (var group in shuffled.GroupBy(p => linked.Root(Folded(p.TextA)), StringComparer.Ordinal))
        {
            var part = group.Take(limit - used).ToList();
            (tuning.Count <= heldOut.Count ? tuning : heldOut).AddRange(part);
            used += part.Count;
            if (used >= limit)
            {
                break;
            }
        }

        return (tuning, heldOut);
    }

    /// <summary>Questions linked by the pairs they are in (union–find over their folded texts).</summary>
    private sealed class QuestionGroups
    {
        private readonly Dictionary<string, string> _parent = new(StringComparer.Ordinal);

        public void Link(string a, string b)
        {
            var (ra, rb) = (Root(a), Root(b));
            if (ra != rb)
            {
                _parent[ra] = rb;
            }
        }

        public string Root(string question)
        {
            var root = question;
            while (_parent.TryGetValue(root, out var parent) && parent != root)
            {
                root = parent;
            }

            // Point the path at its root, so that later look-ups are short.
            while (question != root && _parent[question] is var next && next != root)
            {
                _parent[question] = root;
                question = next;
            }

            return root;
        }
    }

    /// <summary>The vectors of the pairs' questions by text, and the time one text took to embed (null when read from a file).</summary>
    public sealed record PairVectors(IReadOnlyDictionary<string, float[]> Of, TimeSpan? PerText);

    /// <summary>Embeds every question of <paramref name="pairs"/> once (normalised first when <paramref name="normalise"/>).</summary>
    public static async Task<PairVectors> EmbedAsync(
        IEnumerable<QuestionPair> pairs, ITextEmbedder embedder, bool normalise, string? cacheDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(embedder);
        var texts = pairs.SelectMany(p => new[] { p.TextA, p.TextB }).Distinct(StringComparer.Ordinal).ToList();
        var (vectors, elapsed) = await EmbeddingRun.EmbedAsync(
            [.. texts.Select(t => normalise ? QueryText.Of(t).Normalised : t)], embedder, cacheDirectory, cancellationToken);
        var of = new Dictionary<string, float[]>(texts.Count, StringComparer.Ordinal);
        for (var i = 0; i < texts.Count; i++)
        {
            of[texts[i]] = vectors[i];
        }

        return new PairVectors(of, elapsed / Math.Max(1, texts.Count));
    }

    /// <summary>
    /// The lookups view over one half: every <c>text_a</c> in one index, every <c>text_b</c> looking up its nearest
    /// entry by cosine; with a <paramref name="judge"/>, the lookup's similarity is the judge's score of the two.
    /// </summary>
    /// <param name="pairs">The half: its <c>text_a</c> questions are the index, its <c>text_b</c> the lookups.</param>
    /// <param name="vectors">Every question's vector.</param>
    /// <param name="judge">A pair model whose score stands for the similarity, or null for the cosine.</param>
    /// <param name="labels">Every labelled pair of the file (default: <paramref name="pairs"/>): whether a question found
    /// in the index is labelled the same as the one asked is a fact about the two texts, wherever the file says it.</param>
    public static HalfResult Run(IReadOnlyList<QuestionPair> pairs, PairVectors vectors, PairScorer? judge = null, IReadOnlyList<QuestionPair>? labels = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(vectors);
        var index = new VectorIndex(vectors.Of[pairs[0].TextA].Length);
        var entries = new List<(QueryText Text, string Raw)>();
        var entryOf = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            if (entryOf.ContainsKey(pair.TextA))
            {
                continue;
            }

            var id = index.Add(vectors.Of[pair.TextA]);
            entryOf[pair.TextA] = id;
            while (entries.Count <= id)
            {
                entries.Add(default);
            }

            entries[id] = (QueryText.Of(pair.TextA), pair.TextA);
        }

        var sameAs = SameQuestions(labels ?? pairs);
        var entryTexts = entries.Select(e => Folded(e.Raw)).ToHashSet(StringComparer.Ordinal);
        var (positives, excluded) = (0, 0);
        var askedBefore = new HashSet<string>(StringComparer.Ordinal);
        var searching = new Stopwatch();
        var lookups = new List<Lookup>(pairs.Count);
        foreach (var pair in pairs)
        {
            var asked = Folded(pair.TextB);
            var own = asked == Folded(pair.TextA);
            if ((entryTexts.Contains(asked) && !own) || !askedBefore.Add(asked))
            {
                // Another pair's question, or one asked already, word for word: the exact cache answers it, and it
                // measures nothing more about similarity.
                excluded++;
                continue;
            }

            positives += own || (sameAs.TryGetValue(asked, out var partners) && partners.Overlaps(entryTexts)) ? 1 : 0;
            var query = QueryText.Of(pair.TextB);
            var vector = vectors.Of[pair.TextB];
            searching.Start();
            var nearest = index.Nearest(vector);
            var (cached, raw) = nearest is { } hit ? entries[hit.Id] : default;
            var similarity = nearest is not { } found ? 0
                : judge is null ? found.Similarity
                : (float)judge.Score(vectors.Of[raw], vector, cached, query);
            searching.Stop();
            if (nearest is null)
            {
                continue;
            }

            var entry = Folded(raw);
            var correct = raw == pair.TextA ? pair.Same : entry == asked || (sameAs.TryGetValue(asked, out var same) && same.Contains(entry));
            lookups.Add(new Lookup(similarity, correct, query.Conflict(cached)));
        }

        return new HalfResult(lookups, positives, vectors.PerText, searching.Elapsed, index.Count, excluded);
    }

    /// <summary>
    /// Each question (folded) with the questions a pair labels the same as it, both ways: in a file where one question
    /// is in several pairs (a set built from groups of wordings), a lookup that finds another wording of its group is a
    /// correct hit, not a wrong one.
    /// </summary>
    private static Dictionary<string, HashSet<string>> SameQuestions(IReadOnlyList<QuestionPair> pairs)
    {
        var same = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var pair in pairs.Where(p => p.Same))
        {
            var (a, b) = (Folded(pair.TextA), Folded(pair.TextB));
            Partners(a).Add(b);
            Partners(b).Add(a);
        }

        return same;

        HashSet<string> Partners(string question) =>
            same.TryGetValue(question, out var partners) ? partners : same[question] = new HashSet<string>(StringComparer.Ordinal);
    }

    /// <summary>What the bounded mode did over one half, run online in the pairs' order.</summary>
    public sealed record BoundedResult(int Lookups, int Served, int WrongServed, int CorrectServed, int Verified, int Positives, double FinalThreshold)
    {
        public double WrongRate => Served == 0 ? 0 : WrongServed / (double)Served;
        public double Recall => Positives == 0 ? 0 : CorrectServed / (double)Positives;
    }

    /// <summary>
    /// Runs the bounded mode online over <paramref name="half"/>'s lookups: each is served, or verified (the label says
    /// whether the kept answer was right) and learnt from. A lookup a guard refuses is a plain miss.
    /// </summary>
    public static BoundedResult RunBounded(HalfResult half, WrongHitBound bound)
    {
        ArgumentNullException.ThrowIfNull(half);
        ArgumentNullException.ThrowIfNull(bound);
        int served = 0, wrong = 0, correct = 0, verified = 0;
        foreach (var lookup in half.Lookups)
        {
            if (lookup.Guard is not null)
            {
                continue;
            }

            switch (bound.Decide(lookup.Similarity))
            {
                case BoundedDecision.Serve:
                    served++;
                    wrong += lookup.Correct ? 0 : 1;
                    correct += lookup.Correct ? 1 : 0;
                    break;
                case BoundedDecision.Verify:
                    verified++;
                    bound.Learn(lookup.Similarity, lookup.Correct);
                    break;
                default:
                    break;
            }
        }

        return new BoundedResult(half.Lookups.Count, served, wrong, correct, verified, half.Positives, bound.CurrentThreshold());
    }

    /// <summary>
    /// The bounded mode's table: for each tolerated error rate, learnt online over the tuning half, then run on over the
    /// held-out half (still learning), with what it served there.
    /// </summary>
    public static string BoundedReport(HalfResult tuning, HalfResult heldOut)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("| max_error_rate | held-out lookups served | wrong among served | recall | verified (forwarded and compared) | threshold learnt at the end |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var rate in new[] { 0.02, 0.05, 0.10, 0.125, 0.15, 0.20 })
        {
            var bound = new WrongHitBound(rate);
            RunBounded(tuning, bound);
            var r = RunBounded(heldOut, bound);
            text.AppendLine(string.Create(c, $"| {rate:0.00#} | {r.Served:N0} of {r.Lookups:N0} ({r.Served / (double)Math.Max(1, r.Lookups):P1}) | {r.WrongRate:0.000} ({r.WrongServed}) | {r.Recall:0.000} | {r.Verified:N0} ({r.Verified / (double)Math.Max(1, r.Lookups):P1}) | {r.FinalThreshold:0.00} |"));
        }

        return text.ToString();
    }

    /// <summary>
    /// A floor under the labels' noise: of the pairs whose two questions are written identically (case, spaces and
    /// punctuation aside), how many are labelled different. Some are (C vs C++ fold alike); most are mislabelled.
    /// </summary>
    public static (int Identical, int LabelledDifferent) LabelNoise(IReadOnlyList<QuestionPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var identical = pairs.Where(p => Folded(p.TextA) == Folded(p.TextB)).ToList();
        return (identical.Count, identical.Count(p => !p.Same));
    }

    /// <summary>A question with case, spaces and punctuation folded away, for "written exactly as".</summary>
    private static string Folded(string text) => string.Concat(UnicodeForms.Compose(text).ToLowerInvariant().Where(char.IsLetterOrDigit));

    /// <summary>
    /// The pairwise view, comparable with a classifier's figures: each pair alone, a hit when the two questions'
    /// similarity reaches the threshold (and no guard refuses), correct when the pair is labelled the same.
    /// </summary>
    public static HalfResult RunPairwise(IReadOnlyList<QuestionPair> pairs, PairVectors vectors, PairScorer? judge = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(vectors);
        var lookups = new List<Lookup>(pairs.Count);
        var judging = Stopwatch.StartNew();
        foreach (var pair in pairs)
        {
            var (a, b) = (QueryText.Of(pair.TextA), QueryText.Of(pair.TextB));
            var (va, vb) = (vectors.Of[pair.TextA], vectors.Of[pair.TextB]);
            var similarity = judge is null ? System.Numerics.Tensors.TensorPrimitives.Dot(va, vb) : (float)judge.Score(va, vb, a, b);
            lookups.Add(new Lookup(similarity, pair.Same, b.Conflict(a)));
        }

        return new HalfResult(lookups, pairs.Count(p => p.Same), vectors.PerText, judging.Elapsed, pairs.Count);
    }

    /// <summary>
    /// Trains a pair model on <paramref name="pairs"/> (vectors of <paramref name="embedder"/>, see
    /// <see cref="PairScorer.Train"/>).
    /// </summary>
    public static PairScorer TrainJudge(string embedder, IReadOnlyList<QuestionPair> pairs, PairVectors vectors, int hidden, int epochs, int seed)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(vectors);
        return PairScorer.Train(
            embedder, [.. pairs.Select(p => (vectors.Of[p.TextA], vectors.Of[p.TextB], QueryText.Of(p.TextA), QueryText.Of(p.TextB), p.Same))], hidden, epochs, seed);
    }

    /// <summary>The lowest threshold whose precision on <paramref name="tuning"/> reaches <paramref name="targetPrecision"/>.</summary>
    public static double Choose(HalfResult tuning, double targetPrecision, bool guards)
    {
        ArgumentNullException.ThrowIfNull(tuning);
        foreach (var threshold in Thresholds())
        {
            if (tuning.At(threshold, guards) is { Hits: > 0 } result && result.Precision >= targetPrecision)
            {
                return threshold;
            }
        }

        return 1.0;
    }

    public static IEnumerable<double> Thresholds()
    {
        // Steps of 0.005: near the top of the range a hundredth moves recall by a quarter. From 0.20: a lexical
        // embedder's rewordings (Vietnamese ones especially) score from about 0.3.
        for (var t = 40; t <= 199; t++)
        {
            yield return t / 200.0;
        }
    }

    /// <summary>A Markdown report: the chosen thresholds, with and without guards, and the held-out half's sweep.</summary>
    public static string Report(string data, string embedder, bool normalise, HalfResult tuning, HalfResult heldOut, double targetPrecision)
    {
        ArgumentNullException.ThrowIfNull(tuning);
        ArgumentNullException.ThrowIfNull(heldOut);
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(string.Create(c, $"Data: {data}; embedder: {embedder}; normalisation {(normalise ? "on" : "off")}; {tuning.Lookups.Count:N0} tuning lookups, {heldOut.Lookups.Count:N0} held-out lookups ({heldOut.Positives:N0} can find a question labelled the same)."));
        if (tuning.WordForWord + heldOut.WordForWord > 0)
        {
            text.AppendLine(string.Create(c, $"Left out: {tuning.WordForWord:N0} tuning and {heldOut.WordForWord:N0} held-out lookups whose question another pair put in the index, or an earlier lookup asked, word for word (the exact cache's)."));
        }

        text.AppendLine();
        text.AppendLine("| guards | threshold (chosen on the tuning half for precision ≥ " + targetPrecision.ToString("0.00", c) + ") | tuning precision | tuning recall | held-out precision | held-out recall | held-out hit rate |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var guards in new[] { false, true })
        {
            var t = Choose(tuning, targetPrecision, guards);
            var a = tuning.At(t, guards);
            var b = heldOut.At(t, guards);
            text.AppendLine(string.Create(c, $"| {(guards ? "on" : "off")} | {t:0.00#} | {a.Precision:0.000} | {a.Recall:0.000} | {b.Precision:0.000} | {b.Recall:0.000} | {b.HitRate:0.000} |"));
        }

        text.AppendLine();
        text.AppendLine("Held-out half, every threshold:");
        text.AppendLine();
        text.AppendLine("| threshold | precision | recall | hit rate | precision, guards on | recall, guards on | hit rate, guards on |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var t in Thresholds().Where(t => Math.Round(t * 200) % (t >= 0.8 ? 4 : 10) == 0 || t > 0.98))
        {
            var r = heldOut.At(t, guards: false);
            var g = heldOut.At(t, guards: true);
            text.AppendLine(string.Create(c, $"| {t:0.00#} | {r.Precision:0.000} | {r.Recall:0.000} | {r.HitRate:0.000} | {g.Precision:0.000} | {g.Recall:0.000} | {g.HitRate:0.000} |"));
        }

        var lookups = Math.Max(1, heldOut.Lookups.Count);
        text.AppendLine();
        var embedding = heldOut.EmbeddingPerText is { } perText ? perText.TotalMilliseconds.ToString("0.000", c) + " ms a text" : "(vectors read from the --vector-cache folder)";
        text.AppendLine(string.Create(c, $"Time per lookup (held-out half, {heldOut.Entries:N0} entries): embedding {embedding}, search and judging {heldOut.Searching.TotalMilliseconds / lookups:0.000} ms."));
        return text.ToString();
    }
}
