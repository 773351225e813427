using System.Globalization;
using System.Text;
using Tollgate.Optimization.SemanticCaching;
using Tollgate.Routing.Difficulty;

namespace Tollgate.Routing.Evaluation;

/// <summary>
/// <c>tollgate route eval</c>: the prompts are shuffled and halved; routers are trained (and thresholds chosen) on the
/// first half and measured on the second. Compared: random routing, an oracle that knows each prompt's group (MMLU
/// subject) and sends the groups with the largest strong-minus-cheap gap on the training half first (the issue's
/// baseline; a real router does not know the subject), and the difficulty model trained on the prompts' embeddings.
/// </summary>
public static class RoutingEvaluation
{
    public static (IReadOnlyList<LabelledPrompt> Training, IReadOnlyList<LabelledPrompt> HeldOut) Split(IReadOnlyList<LabelledPrompt> prompts, int seed)
    {
        var shuffled = prompts.ToArray();
        new Random(seed).Shuffle(shuffled);
        return ([.. shuffled.Where((_, i) => i % 2 == 0)], [.. shuffled.Where((_, i) => i % 2 == 1)]);
    }

    /// <summary>Each held-out prompt scored by its group's strong-minus-cheap accuracy gap on the training half.</summary>
    public static double[] GroupOracle(IReadOnlyList<LabelledPrompt> training, IReadOnlyList<LabelledPrompt> heldOut)
    {
        var gap = training.GroupBy(p => p.Group).ToDictionary(g => g.Key, g => g.Average(p => (p.StrongRight ? 1.0 : 0) - (p.CheapRight ? 1.0 : 0)));
        return [.. heldOut.Select(p => gap.GetValueOrDefault(p.Group))];
    }

    /// <summary>
    /// The prompts' vectors; with <paramref name="cacheDirectory"/>, read from (or written to) a file named by the
    /// embedder and a hash of the prompts, so that a second run does not embed 14,000 prompts again.
    /// </summary>
    public static async Task<float[][]> EmbedAsync(IReadOnlyList<LabelledPrompt> prompts, ITextEmbedder embedder, string? cacheDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(embedder);
        var (vectors, _) = await EmbeddingRun.EmbedAsync([.. prompts.Select(p => RouterText(p.Prompt, embedder))], embedder, cacheDirectory, cancellationToken);
        return vectors;
    }

    /// <summary>What a router's embedder is given: the lexical embedder the normalised words, a model the text as written.</summary>
    public static string RouterText(string prompt, ITextEmbedder embedder) => Difficulty.DifficultyScorer.InputFor(embedder, prompt);

    /// <summary>A Markdown table row per router: APGR, the strong share for 95% of the strong model's accuracy, PGR at a few shares.</summary>
    public static string Report(IReadOnlyList<LabelledPrompt> heldOut, IEnumerable<(string Router, double[] Scores)> routers, decimal? cheapPerMillion, decimal? strongPerMillion, long promptTokens)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        var first = true;
        foreach (var (router, scores) in routers)
        {
            var curve = new RoutingCurve(heldOut, scores);
            if (first)
            {
                text.AppendLine(string.Create(c, $"Held-out half: {curve.Count:N0} prompts; cheap model {curve.CheapAccuracy:P1} right, strong model {curve.StrongAccuracy:P1}."));
                text.AppendLine();
                text.AppendLine("| router | APGR | strong share for 95% of the strong model's accuracy | its cost vs all-strong | PGR at 20% strong | at 35% | at 50% | strong share for 80% PGR |");
                text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
                first = false;
            }

            var share = curve.StrongShareFor(0.95);
            var cost = cheapPerMillion is { } cheap && strongPerMillion is { } strong && strong > 0
                ? ((1 - (decimal)share) * cheap + (decimal)share * strong) / strong
                : (decimal?)null;
            text.AppendLine(string.Create(c, $"| {router} | {curve.AverageGapRecovered:0.000} | {share:P1} | {(cost is { } x ? x.ToString("P1", c) : "–")} | {curve.GapRecoveredAt(0.20):0.000} | {curve.GapRecoveredAt(0.35):0.000} | {curve.GapRecoveredAt(0.50):0.000} | {curve.StrongShareForGap(0.80):P1} |"));
        }

        if (cheapPerMillion is { } cheapPrice && strongPerMillion is { } strongPrice)
        {
            text.AppendLine();
            text.AppendLine(string.Create(c, $"Costs are per input token (MMLU answers are one letter): cheap ${cheapPrice}/M, strong ${strongPrice}/M; {promptTokens:N0} prompt tokens in the held-out half."));
        }

        return text.ToString();
    }

    /// <summary>Each held-out prompt scored by the mean gain of its <paramref name="k"/> most similar training prompts (the neighbours model).</summary>
    public static double[] NearestNeighbours(IReadOnlyList<LabelledPrompt> training, float[][] trainingVectors, float[][] heldOutVectors, int k)
    {
        var model = DifficultyModel.Neighbours("eval", trainingVectors, [.. training.Select(p => p.Gain)], k);
        var scores = new double[heldOutVectors.Length];
        Parallel.For(0, heldOutVectors.Length, i => scores[i] = model.Score(heldOutVectors[i]));
        return scores;
    }

    /// <summary>
    /// The neighbours count chosen on the training half alone: two folds (even and odd prompts), each scored from the
    /// other; the <c>k</c> with the best mean APGR. The held-out half plays no part.
    /// </summary>
    public static int ChooseNeighbours(IReadOnlyList<LabelledPrompt> training, float[][] trainingVectors, IReadOnlyList<int> candidates)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(trainingVectors);
        ArgumentNullException.ThrowIfNull(candidates);
        var even = Enumerable.Range(0, training.Count).Where(i => i % 2 == 0).ToArray();
        var odd = Enumerable.Range(0, training.Count).Where(i => i % 2 == 1).ToArray();
        double Apgr(int[] fit, int[] measure, int k) => new RoutingCurve(
            [.. measure.Select(i => training[i])],
            NearestNeighbours([.. fit.Select(i => training[i])], [.. fit.Select(i => trainingVectors[i])], [.. measure.Select(i => trainingVectors[i])], k)).AverageGapRecovered;
        return candidates.MaxBy(k => (Apgr(even, odd, k) + Apgr(odd, even, k)) / 2);
    }

    /// <summary>Two routers' scores combined: each prompt's mean rank (0–1) under the two.</summary>
    public static double[] RankAverage(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double[] Ranks(IReadOnlyList<double> scores)
        {
            var ranks = new double[scores.Count];
            var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
            for (var r = 0; r < order.Length; r++)
            {
                ranks[order[r]] = r / (double)Math.Max(1, order.Length - 1);
            }

            return ranks;
        }

        var (ra, rb) = (Ranks(a), Ranks(b));
        return [.. ra.Select((x, i) => (x + rb[i]) / 2)];
    }

    /// <summary>Trains the difficulty model on the training half's vectors and scores the held-out half.</summary>
    public static (DifficultyModel Model, double[] Scores) TrainAndScore(string embedder, IReadOnlyList<LabelledPrompt> training, float[][] trainingVectors, float[][] heldOutVectors)
    {
        var model = DifficultyModel.Train(embedder, trainingVectors, [.. training.Select(p => p.Gain)]);
        return (model, [.. heldOutVectors.Select(v => model.Score(v))]);
    }
}
