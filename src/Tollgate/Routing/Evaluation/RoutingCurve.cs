namespace Tollgate.Routing.Evaluation;

/// <summary>
/// How a router that sends the highest-scored prompts to the strong model trades accuracy for strong calls, measured on
/// labelled prompts: accuracy at every strong share from 0 to 1, the performance gap recovered there
/// (PGR = (accuracy − cheap's) / (strong's − cheap's)), its average over the curve (APGR; random routing gives 0.5), and
/// the smallest strong share reaching 95% of the strong model's accuracy.
/// </summary>
public sealed class RoutingCurve
{
    private readonly double[] _accuracy;

    public RoutingCurve(IReadOnlyList<LabelledPrompt> prompts, IReadOnlyList<double> scores)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(scores);
        if (prompts.Count == 0 || prompts.Count != scores.Count)
        {
            throw new ArgumentException("One score per prompt, and at least one prompt.", nameof(scores));
        }

        Count = prompts.Count;
        CheapAccuracy = prompts.Count(p => p.CheapRight) / (double)Count;
        StrongAccuracy = prompts.Count(p => p.StrongRight) / (double)Count;

        // Highest score first; ties keep the prompts' order (the caller shuffles them).
        var order = Enumerable.Range(0, Count).OrderByDescending(i => scores[i]).ToArray();
        _accuracy = new double[Count + 1];
        var right = prompts.Count(p => p.CheapRight);
        _accuracy[0] = right / (double)Count;
        for (var k = 1; k <= Count; k++)
        {
            var moved = prompts[order[k - 1]];
            right += (moved.StrongRight ? 1 : 0) - (moved.CheapRight ? 1 : 0);
            _accuracy[k] = right / (double)Count;
        }
    }

    public int Count { get; }

    public double CheapAccuracy { get; }

    public double StrongAccuracy { get; }

    /// <summary>Accuracy with the top <paramref name="share"/> of prompts (0–1) sent to the strong model.</summary>
    public double AccuracyAt(double share) => _accuracy[(int)Math.Round(Math.Clamp(share, 0, 1) * Count)];

    public double GapRecoveredAt(double share) => (AccuracyAt(share) - CheapAccuracy) / (StrongAccuracy - CheapAccuracy);

    /// <summary>The mean performance gap recovered over every strong share from 0 to 1.</summary>
    public double AverageGapRecovered => _accuracy.Average(a => (a - CheapAccuracy) / (StrongAccuracy - CheapAccuracy));

    /// <summary>The smallest strong share whose accuracy reaches <paramref name="fraction"/> of the strong model's (1: never reached).</summary>
    public double StrongShareFor(double fraction)
    {
        for (var k = 0; k <= Count; k++)
        {
            if (_accuracy[k] >= fraction * StrongAccuracy)
            {
                return k / (double)Count;
            }
        }

        return 1;
    }

    /// <summary>The smallest strong share that recovers <paramref name="gap"/> of the gap between the two models (RouteLLM's CPT).</summary>
    public double StrongShareForGap(double gap)
    {
        for (var k = 0; k <= Count; k++)
        {
            if ((_accuracy[k] - CheapAccuracy) / (StrongAccuracy - CheapAccuracy) >= gap)
            {
                return k / (double)Count;
            }
        }

        return 1;
    }
}
