using Tollgate.Optimization.SemanticCaching;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>The bounded mode keeps the wrong answers it serves under the tolerated rate, and serves where that is safe.</summary>
public sealed class WrongHitBoundTests
{
    /// <summary>Traffic whose kept answer is wrong with a probability falling linearly from 60% at 0.80 to 0% at 1.00.</summary>
    private static (int Served, int Wrong, int Verified) Simulate(WrongHitBound bound, int lookups, int seed)
    {
        var random = new Random(seed);
        int served = 0, wrong = 0, verified = 0;
        for (var i = 0; i < lookups; i++)
        {
            var similarity = 0.75 + (random.NextDouble() * 0.25);
            var isWrong = random.NextDouble() < Math.Max(0, (1.0 - similarity) * 3);
            switch (bound.Decide(similarity))
            {
                case BoundedDecision.Serve:
                    served++;
                    wrong += isWrong ? 1 : 0;
                    break;
                case BoundedDecision.Verify:
                    verified++;
                    bound.Learn(similarity, !isWrong);
                    break;
                default:
                    break;
            }
        }

        return (served, wrong, verified);
    }

    [Theory]
    [InlineData(0.02)]
    [InlineData(0.05)]
    [InlineData(0.10)]
    public void Served_answers_are_wrong_no_more_often_than_tolerated(double rate)
    {
        for (var seed = 1; seed <= 5; seed++)
        {
            var (served, wrong, _) = Simulate(new WrongHitBound(rate, seed: seed), 40_000, seed);

            Assert.True(wrong <= rate * served, $"seed {seed}: {wrong} wrong of {served} served, over {rate:P0}");
        }
    }

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.10)]
    public void Where_the_error_is_safely_under_the_rate_most_lookups_are_served(double rate)
    {
        for (var seed = 1; seed <= 5; seed++)
        {
            var bound = new WrongHitBound(rate, seed: seed);
            var (served, _, verified) = Simulate(bound, 40_000, seed);

            // The region where the true error is under the rate is (1 - rate/3, 1]: most of it ends up served.
            var safeShare = (rate / 3) / 0.25;
            Assert.True(served > 0.5 * safeShare * 40_000, $"seed {seed}: served only {served}");
            Assert.True(bound.CurrentThreshold() >= 1 - (rate / 3) - 0.02, $"seed {seed}: threshold {bound.CurrentThreshold()}");
            Assert.True(verified > 0);
        }
    }

    [Fact]
    public void Without_evidence_nothing_is_served_and_low_similarities_are_plain_misses()
    {
        var bound = new WrongHitBound(0.05);

        Assert.Equal(BoundedDecision.Verify, bound.Decide(0.99));
        Assert.Equal(BoundedDecision.Miss, bound.Decide(0.5));
        Assert.Equal(1.01, bound.CurrentThreshold());
    }
}
