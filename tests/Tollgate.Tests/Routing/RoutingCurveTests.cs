using Tollgate.Routing.Evaluation;
using Xunit;

namespace Tollgate.Tests.Routing;

/// <summary>The evaluation's arithmetic on prompts small enough to work out by hand.</summary>
public sealed class RoutingCurveTests
{
    private static readonly LabelledPrompt[] Prompts =
    [
        new("both right", CheapRight: true, StrongRight: true, "a"),
        new("only strong", CheapRight: false, StrongRight: true, "a"),
        new("neither", CheapRight: false, StrongRight: false, "b"),
        new("both right too", CheapRight: true, StrongRight: true, "b"),
    ];

    [Fact]
    public void A_router_that_sends_the_one_prompt_only_the_strong_model_gets_first_recovers_the_whole_gap_at_a_quarter()
    {
        var curve = new RoutingCurve(Prompts, [0.1, 0.9, 0.2, 0.3]);

        Assert.Equal(0.5, curve.CheapAccuracy);
        Assert.Equal(0.75, curve.StrongAccuracy);
        Assert.Equal(0.75, curve.AccuracyAt(0.25));
        Assert.Equal(1.0, curve.GapRecoveredAt(0.25));
        Assert.Equal(0.8, curve.AverageGapRecovered, 12); // PGR 0, 1, 1, 1, 1 at 0–4 prompts sent
        Assert.Equal(0.25, curve.StrongShareFor(0.95));
    }

    [Fact]
    public void A_router_that_sends_it_last_recovers_nothing_until_the_end()
    {
        var curve = new RoutingCurve(Prompts, [0.9, 0.0, 0.8, 0.7]);

        Assert.Equal(0.2, curve.AverageGapRecovered, 12); // PGR 0, 0, 0, 0, 1
        Assert.Equal(1.0, curve.StrongShareFor(0.95));
    }

    [Fact]
    public void The_neighbours_model_round_trips_through_its_file_and_scores_by_its_nearest_prompts()
    {
        float[][] vectors = [[1, 0], [0.9f, 0.436f], [0, 1], [0.2f, 0.98f]];
        var model = Tollgate.Routing.Difficulty.DifficultyModel.Neighbours("lexical", vectors, [1.0, 1.0, 0.0, 0.5], k: 2);

        var read = Tollgate.Routing.Difficulty.DifficultyModel.FromJson(model.ToJson());

        Assert.Equal("neighbours", read.Kind);
        Assert.Equal(1.0, read.Score([1, 0]));
        Assert.Equal(0.25, read.Score([0, 1]));
        Assert.Throws<FormatException>(() => Tollgate.Routing.Difficulty.DifficultyModel.FromJson("""{"kind":"neighbours","embedder":"x","k":1,"gains":[1],"vectors":["AAA="]}"""));
    }
}
