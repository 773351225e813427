using Tollgate.Optimization.SemanticCaching;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>What <c>tollgate cache eval</c> counts: halves that share no question, and hits judged by every label.</summary>
public sealed class CacheEvaluationTests
{
    [Fact]
    public void The_halves_share_no_question_and_hold_about_as_many_pairs_each()
    {
        // Generated: 3,000 pairs over 10,000 questions, so some questions are in several pairs (as QQP's are).
        var random = new Random(5);
        var pairs = Enumerable.Range(0, 3_000)
            .Select(_ => new QuestionPair($"Question {random.Next(10_000)}?", $"question {random.Next(10_000)}", random.Next(2) == 0))
            .ToList();
        // A hub links a chain of questions: one group, which must land whole in one half.
        pairs.AddRange(Enumerable.Range(0, 40).Select(i => new QuestionPair($"hub {i}", $"hub {i + 1}", true)));

        foreach (var seed in new[] { 1, 2, 3 })
        {
            var (tuning, heldOut) = CacheEvaluation.Split(pairs, 10_000, seed);
            var tuningQuestions = tuning.SelectMany(p => new[] { p.TextA, p.TextB }).Select(q => q.ToLowerInvariant().TrimEnd('?')).ToHashSet();
            Assert.DoesNotContain(heldOut.SelectMany(p => new[] { p.TextA, p.TextB }), q => tuningQuestions.Contains(q.ToLowerInvariant().TrimEnd('?')));
            Assert.Equal(pairs.Count, tuning.Count + heldOut.Count);
            Assert.Equal(pairs.ToHashSet(), tuning.Concat(heldOut).ToHashSet());
            Assert.True(Math.Abs(tuning.Count - heldOut.Count) <= 50, $"{tuning.Count} / {heldOut.Count}");
        }

        var (limited, rest) = CacheEvaluation.Split(pairs, 100, 1);
        Assert.Equal(100, limited.Count + rest.Count);
        Assert.Equal(CacheEvaluation.Split(pairs, 10_000, 7).Tuning, CacheEvaluation.Split(pairs, 10_000, 7).Tuning);
    }

    [Fact]
    public void Unlinked_pairs_are_halved_evenly()
    {
        var pairs = Enumerable.Range(0, 1_001).Select(i => new QuestionPair($"a {i}", $"b {i}", i % 3 == 0)).ToList();
        var (tuning, heldOut) = CacheEvaluation.Split(pairs, 10_000, 1);
        Assert.Equal(501, tuning.Count);
        Assert.Equal(500, heldOut.Count);
    }

    [Fact]
    public void A_lookup_that_finds_another_wording_of_its_group_is_a_correct_hit_and_recall_stays_within_one()
    {
        // A shop's set built from groups: the kept question of each group against its rewordings (1) and against a
        // near miss's rewordings (0). A rewording asked against a near miss still finds its own group's question.
        var lexical = new LexicalEmbedder();
        QuestionPair[] pairs =
        [
            new("Đơn trên 300k có được miễn phí ship không?", "Mua từ 300 nghìn thì có freeship không shop?", true),
            new("Đơn trên 500k có được miễn phí ship không?", "Mua từ 500 nghìn thì có freeship không shop?", true),
            new("Đơn trên 300k có được miễn phí ship không?", "Mua từ 500 nghìn thì có freeship không shop?", false),
            new("Đơn trên 500k có được miễn phí ship không?", "Mua từ 300 nghìn thì có freeship không shop?", false),
        ];
        var vectors = new CacheEvaluation.PairVectors(
            pairs.SelectMany(p => new[] { p.TextA, p.TextB }).Distinct().ToDictionary(t => t, t => lexical.Embed(QueryText.Of(t).Normalised)), null);

        var half = CacheEvaluation.Run(pairs, vectors);

        Assert.Equal(2, half.Lookups.Count); // each rewording looked up once; asking it again is the exact cache's
        Assert.Equal(2, half.WordForWord);
        Assert.Equal(2, half.Positives);
        var (precision, recall, _, hits) = half.At(0.2, guards: true);
        Assert.Equal(2, hits);
        Assert.Equal(1.0, precision);
        Assert.Equal(1.0, recall);
    }
}
