namespace Tollgate.Optimization.SemanticCaching;

/// <summary>
/// The bounded mode: serve a similar question's answer only where the rate of wrong answers measured so far, at that
/// similarity, stays under <c>max_error_rate</c> with 95% confidence. What it knows comes from verification: a lookup
/// it is not sure of is forwarded anyway (the client gets the fresh answer) and the fresh answer is compared with the
/// kept one; and a share of the lookups it would serve are verified the same way, so the estimate keeps up with
/// traffic. Similarities are counted in bins of 0.01; the error at a similarity is read from its bin and, until at
/// least <see cref="MinimumEvidence"/> verifications are pooled, the bins just below it (wrong answers grow commoner as
/// similarity falls, so borrowing from below overstates a bin's error: it errs towards serving less, never more). The
/// bound is the Wilson score upper limit of the pooled rate. One fixed threshold cannot do this: correct and wrong
/// hits overlap in similarity, and where they overlap depends on the traffic and the embedder.
/// </summary>
/// <param name="maxErrorRate">The tolerated share of served answers that are wrong.</param>
/// <param name="verifyShare">The share of would-be hits verified anyway once the bound serves at their similarity.</param>
/// <param name="minimumSimilarity">Below this a lookup is a plain miss: not worth serving, nor verifying.</param>
/// <param name="seed">For the choice of hits to verify.</param>
public sealed class WrongHitBound(double maxErrorRate, double verifyShare = 0.05, double minimumSimilarity = 0.80, int seed = 1)
{
    public const int MinimumEvidence = 30;

    /// <summary>Bins of 0.01 from similarity 0 to 1.</summary>
    public const int Bins = 101;
    private const double Z = 1.645; // one-sided 95%

    private readonly long[] _verified = new long[Bins];
    private readonly long[] _wrong = new long[Bins];

    // Learnt here and not yet handed to the replicas' shared evidence (see TakeNew); already in the counts above.
    private readonly long[] _newVerified = new long[Bins];
    private readonly long[] _newWrong = new long[Bins];
    private readonly Random _random = new(seed);
    private readonly Lock _gate = new();

    public double MaxErrorRate => maxErrorRate;

    /// <summary>What to do with a lookup whose nearest kept question has <paramref name="similarity"/>.</summary>
    public BoundedDecision Decide(double similarity)
    {
        if (similarity < minimumSimilarity)
        {
            return BoundedDecision.Miss;
        }

        lock (_gate)
        {
            if (!Confident(similarity))
            {
                return BoundedDecision.Verify;
            }

            return _random.NextDouble() < verifyShare ? BoundedDecision.Verify : BoundedDecision.Serve;
        }
    }

    /// <summary>A verification's outcome: whether the kept answer was right for a lookup at <paramref name="similarity"/>.</summary>
    public void Learn(double similarity, bool keptAnswerWasRight)
    {
        lock (_gate)
        {
            var bin = Bin(similarity);
            _verified[bin]++;
            _newVerified[bin]++;
            if (!keptAnswerWasRight)
            {
                _wrong[bin]++;
                _newWrong[bin]++;
            }
        }
    }

    /// <summary>The lowest similarity the bound serves at today (1.01 when none): what a fixed threshold would be now.</summary>
    public double CurrentThreshold()
    {
        lock (_gate)
        {
            for (var bin = 0; bin < Bins; bin++)
            {
                if (Confident(bin / 100.0))
                {
                    return bin / 100.0;
                }
            }

            return 1.01;
        }
    }

    /// <summary>Verifications per bin of 0.01 (index = similarity × 100): how many, and how many found the kept answer wrong.</summary>
    public sealed record Evidence(long[] Verified, long[] Wrong)
    {
        public bool IsEmpty => Verified.All(v => v == 0);

        public static Evidence None() => new(new long[Bins], new long[Bins]);
    }

    /// <summary>What was learnt here since the last call, for the shared evidence; forgotten as new (still counted).</summary>
    public Evidence TakeNew()
    {
        lock (_gate)
        {
            var taken = new Evidence([.. _newVerified], [.. _newWrong]);
            Array.Clear(_newVerified);
            Array.Clear(_newWrong);
            return taken;
        }
    }

    /// <summary>Puts back what <see cref="TakeNew"/> gave when it could not be shared (it is shared next time).</summary>
    public void ReturnNew(Evidence taken)
    {
        ArgumentNullException.ThrowIfNull(taken);
        lock (_gate)
        {
            for (var bin = 0; bin < Bins; bin++)
            {
                _newVerified[bin] += taken.Verified[bin];
                _newWrong[bin] += taken.Wrong[bin];
            }
        }
    }

    /// <summary>
    /// Takes every replica's evidence (which includes everything taken from here so far) as the counts, plus what was
    /// learnt here since it was last taken.
    /// </summary>
    public void Adopt(Evidence shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        if (shared.Verified.Length != Bins || shared.Wrong.Length != Bins)
        {
            throw new ArgumentException($"Evidence of {Bins} bins.", nameof(shared));
        }

        lock (_gate)
        {
            for (var bin = 0; bin < Bins; bin++)
            {
                _verified[bin] = shared.Verified[bin] + _newVerified[bin];
                _wrong[bin] = shared.Wrong[bin] + _newWrong[bin];
            }
        }
    }

    private bool Confident(double similarity)
    {
        long n = 0, wrong = 0;
        for (var bin = Bin(similarity); bin >= 0 && n < MinimumEvidence; bin--)
        {
            n += _verified[bin];
            wrong += _wrong[bin];
        }

        return n >= MinimumEvidence && WilsonUpper(wrong, n) <= maxErrorRate;
    }

    private static int Bin(double similarity) => Math.Clamp((int)Math.Floor(similarity * 100), 0, Bins - 1);

    private static double WilsonUpper(long wrong, long n)
    {
        var p = wrong / (double)n;
        var z2 = Z * Z;
        return (p + (z2 / (2 * n)) + (Z * Math.Sqrt((p * (1 - p) / n) + (z2 / (4.0 * n * n))))) / (1 + (z2 / n));
    }
}

/// <summary>Serve the kept answer; forward the request and compare the fresh answer with the kept one; or a plain miss.</summary>
public enum BoundedDecision
{
    Serve,
    Verify,
    Miss,
}
