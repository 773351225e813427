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
/// its nearest entry: a lookup at or above the threshold (and not refused by a guard) is a hit; the hit is correct only
/// when it found its own pair's question and the pair is labelled the same. Precision = correct hits / hits (a wrong
/// hit is a wrong answer served); recall = correct hits / pairs labelled the same. The threshold is chosen on the first
/// half (the lowest whose precision reaches the target) and reported on the second, held-out half.
/// </summary>
public static class CacheEvaluation
{
    public sealed record Lookup(float Similarity, bool Correct, string? Guard);

    public sealed record HalfResult(IReadOnlyList<Lookup> Lookups, int Positives, TimeSpan Embedding, TimeSpan Searching, int Entries)
    {
        public (double Precision, double Recall, double HitRate, int Hits) At(double threshold, bool guards)
        {
            var hits = Lookups.Where(l => l.Similarity >= threshold && (!guards || l.Guard is null)).ToList();
            var correct = hits.Count(l => l.Correct);
            return (hits.Count == 0 ? 1 : correct / (double)hits.Count, Positives == 0 ? 0 : correct / (double)Positives, hits.Count / (double)Lookups.Count, hits.Count);
        }
    }

    public static IReadOnlyList<QuestionPair> Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        return [.. document.RootElement.EnumerateArray().Select(p => new QuestionPair(
            p.GetProperty("text_a").GetString() ?? string.Empty, p.GetProperty("text_b").GetString() ?? string.Empty, p.GetProperty("label").GetInt32() == 1))];
    }

    /// <summary>The pairs shuffled with <paramref name="seed"/>, at most <paramref name="limit"/>, split into two halves.</summary>
    public static (IReadOnlyList<QuestionPair> Tuning, IReadOnlyList<QuestionPair> HeldOut) Split(IReadOnlyList<QuestionPair> pairs, int limit, int seed)
    {
        var shuffled = pairs.ToArray();
        new Random(seed).Shuffle(shuffled);
        var taken = shuffled.Take(limit).ToArray();
        return ([.. taken.Where((_, i) => i % 2 == 0)], [.. taken.Where((_, i) => i % 2 == 1)]);
    }

    public static async Task<HalfResult> RunAsync(IReadOnlyList<QuestionPair> pairs, ITextEmbedder embedder, bool normalise, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(embedder);
        var index = new VectorIndex(embedder.Dimensions);
        var entries = new List<(QueryText Text, string Raw)>();
        var entryOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var embedding = new Stopwatch();
        foreach (var pair in pairs)
        {
            if (entryOf.ContainsKey(pair.TextA))
            {
                continue;
            }

            var text = QueryText.Of(pair.TextA);
            embedding.Start();
            var vector = await embedder.EmbedAsync(normalise ? text.Normalised : pair.TextA, null, cancellationToken) ?? throw new InvalidOperationException("The embedder gave no vector.");
            embedding.Stop();
            var id = index.Add(vector);
            entryOf[pair.TextA] = id;
            while (entries.Count <= id)
            {
                entries.Add(default);
            }

            entries[id] = (text, pair.TextA);
        }

        var searching = new Stopwatch();
        var lookups = new List<Lookup>(pairs.Count);
        foreach (var pair in pairs)
        {
            var query = QueryText.Of(pair.TextB);
            embedding.Start();
            var vector = await embedder.EmbedAsync(normalise ? query.Normalised : pair.TextB, null, cancellationToken) ?? throw new InvalidOperationException("The embedder gave no vector.");
            embedding.Stop();
            searching.Start();
            var nearest = index.Nearest(vector);
            searching.Stop();
            if (nearest is not { } found)
            {
                continue;
            }

            var (cached, raw) = entries[found.Id];
            var correct = raw == pair.TextA ? pair.Same : Folded(raw) == Folded(pair.TextB);
            lookups.Add(new Lookup(found.Similarity, correct, query.Conflict(cached)));
        }

        return new HalfResult(lookups, pairs.Count(p => p.Same), embedding.Elapsed, searching.Elapsed, index.Count);
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
    private static string Folded(string text) => string.Concat(text.Normalize(NormalizationForm.FormC).ToLowerInvariant().Where(char.IsLetterOrDigit));

    /// <summary>
    /// The pairwise view, comparable with a classifier's figures: each pair alone, a hit when the two questions'
    /// similarity reaches the threshold (and no guard refuses), correct when the pair is labelled the same.
    /// </summary>
    public static async Task<HalfResult> RunPairwiseAsync(IReadOnlyList<QuestionPair> pairs, ITextEmbedder embedder, bool normalise, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(embedder);
        var lookups = new List<Lookup>(pairs.Count);
        var embedding = Stopwatch.StartNew();
        foreach (var pair in pairs)
        {
            var (a, b) = (QueryText.Of(pair.TextA), QueryText.Of(pair.TextB));
            var va = await embedder.EmbedAsync(normalise ? a.Normalised : pair.TextA, null, cancellationToken) ?? throw new InvalidOperationException("The embedder gave no vector.");
            var vb = await embedder.EmbedAsync(normalise ? b.Normalised : pair.TextB, null, cancellationToken) ?? throw new InvalidOperationException("The embedder gave no vector.");
            lookups.Add(new Lookup(System.Numerics.Tensors.TensorPrimitives.Dot(va, vb), pair.Same, b.Conflict(a)));
        }

        return new HalfResult(lookups, pairs.Count(p => p.Same), embedding.Elapsed, TimeSpan.Zero, pairs.Count);
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
        for (var t = 50; t <= 99; t++)
        {
            yield return t / 100.0;
        }

        yield return 0.995;
    }

    /// <summary>A Markdown report: the chosen thresholds, with and without guards, and the held-out half's sweep.</summary>
    public static string Report(string data, string embedder, bool normalise, HalfResult tuning, HalfResult heldOut, double targetPrecision)
    {
        ArgumentNullException.ThrowIfNull(tuning);
        ArgumentNullException.ThrowIfNull(heldOut);
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(string.Create(c, $"Data: {data}; embedder: {embedder}; normalisation {(normalise ? "on" : "off")}; {tuning.Lookups.Count:N0} tuning pairs, {heldOut.Lookups.Count:N0} held-out pairs ({heldOut.Positives:N0} labelled the same)."));
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
        foreach (var t in Thresholds().Where(t => (t >= 0.8 && Math.Round(t * 100) % 2 == 0) || t > 0.98))
        {
            var r = heldOut.At(t, guards: false);
            var g = heldOut.At(t, guards: true);
            text.AppendLine(string.Create(c, $"| {t:0.00#} | {r.Precision:0.000} | {r.Recall:0.000} | {r.HitRate:0.000} | {g.Precision:0.000} | {g.Recall:0.000} | {g.HitRate:0.000} |"));
        }

        var lookups = Math.Max(1, heldOut.Lookups.Count);
        text.AppendLine();
        text.AppendLine(string.Create(c, $"Time per lookup (held-out half, {heldOut.Entries:N0} entries): embedding {heldOut.Embedding.TotalMilliseconds / (lookups + heldOut.Entries):0.000} ms a text, index search {heldOut.Searching.TotalMilliseconds / lookups:0.000} ms."));
        return text.ToString();
    }
}
