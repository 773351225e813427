using System.Numerics.Tensors;
using System.Text.Json;
using Tollgate.Ledger;
using Tollgate.Optimization.ResponseCaching;
using Tollgate.Optimization.SemanticCaching;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>
/// The pair model: a learned judge of "same question" over two vectors and their words. It learns a difference the
/// cosine cannot see, survives its file, refuses a file that is not one, and decides the gateway's semantic hits.
/// </summary>
public sealed class PairModelTests
{
    private const int Dimensions = 32;

    /// <summary>
    /// Pairs whose cosine says nothing: a "same" pair differs by small noise everywhere, a "different" one by a
    /// larger change on four meaningful dimensions only, scaled so both kinds have cosines of the same spread.
    /// </summary>
    private static List<(float[] A, float[] B, bool Same)> Pairs(int count, int seed)
    {
        var random = new Random(seed);
        float[] Unit(float[] v)
        {
            TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
            return v;
        }

        float Gaussian() => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        var pairs = new List<(float[], float[], bool)>();
        for (var i = 0; i < count; i++)
        {
            var a = Unit([.. Enumerable.Range(0, Dimensions).Select(_ => Gaussian())]);
            var b = (float[])a.Clone();
            var same = i % 2 == 0;
            if (same)
            {
                for (var d = 0; d < Dimensions; d++)
                {
                    b[d] += 0.055f * Gaussian();
                }
            }
            else
            {
                for (var d = 0; d < 4; d++)
                {
                    b[d] += 0.155f * Gaussian();
                }
            }

            pairs.Add((a, Unit(b), same));
        }

        return pairs;
    }

    private static readonly QueryText Question = QueryText.Of("how long does delivery take");

    private static double Accuracy(IEnumerable<(float[] A, float[] B, bool Same)> pairs, Func<float[], float[], double> score, double threshold)
    {
        var list = pairs.ToList();
        return list.Count(p => score(p.A, p.B) >= threshold == p.Same) / (double)list.Count;
    }

    [Fact]
    public void It_learns_which_differences_matter_where_the_cosine_cannot_tell()
    {
        var training = Pairs(4_000, seed: 1);
        var fresh = Pairs(1_000, seed: 2);
        var judge = PairScorer.Train("test", [.. training.Select(p => (p.A, p.B, Question, Question, p.Same))], hidden: 16, epochs: 20);

        var judged = Accuracy(fresh, (a, b) => judge.Score(a, b, Question, Question), 0.5);
        var cosines = fresh.Select(p => TensorPrimitives.Dot(p.A, p.B)).Order().ToList();
        var bestCosine = cosines.Max(t => Accuracy(fresh, (a, b) => TensorPrimitives.Dot(a, b), t));

        Assert.True(judged >= 0.90, $"the pair model judged {judged:P1} of fresh pairs right");
        Assert.True(bestCosine <= 0.75, $"the cosine at its best threshold judged {bestCosine:P1} right: the data does not test what it should");
    }

    [Fact]
    public void A_saved_model_scores_as_the_trained_one_and_a_file_that_is_not_one_is_refused()
    {
        var training = Pairs(200, seed: 3);
        var judge = PairScorer.Train("minilm", [.. training.Select(p => (p.A, p.B, Question, Question, p.Same))], hidden: 4, epochs: 2);
        var loaded = PairScorer.FromJson(judge.ToJson());

        Assert.Equal(("minilm", Dimensions, 4), (loaded.Embedder, loaded.Dimensions, loaded.Hidden));
        Assert.All(training.Take(20), p => Assert.Equal(judge.Score(p.A, p.B, Question, Question), loaded.Score(p.A, p.B, Question, Question)));
        Assert.Throws<ArgumentException>(() => loaded.Score(new float[Dimensions + 1], new float[Dimensions + 1], Question, Question));

        var fields = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(judge.ToJson())!;
        string With(string key, object value) => JsonSerializer.Serialize(new Dictionary<string, object>(fields.Select(f => KeyValuePair.Create(f.Key, (object)f.Value))) { [key] = value });
        Assert.Throws<FormatException>(() => PairScorer.FromJson("{}"));
        Assert.Throws<FormatException>(() => PairScorer.FromJson("not json"));
        Assert.Throws<FormatException>(() => PairScorer.FromJson(With("kind", "logistic")));
        Assert.Contains("train it again", Assert.Throws<FormatException>(() => PairScorer.FromJson(With("kind", "pair-mlp"))).Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => PairScorer.FromJson(With("dimensions", Dimensions + 1)));
        Assert.Throws<FormatException>(() => PairScorer.FromJson(With("output_weights", new[] { 1f })));
        Assert.Throws<FormatException>(() => PairScorer.FromJson(With("output_bias", "NaN")));
        Assert.Throws<FormatException>(() => PairScorer.FromJson(With("output_bias", 1e300)));
        Assert.Throws<FormatException>(() => PairScorer.FromJson(With("embedder", "EMBEDDER").Replace("\"EMBEDDER\"", "\"\\ud800\"", StringComparison.Ordinal)));
    }

    /// <summary>A gateway's cache settings: the semantic cache on gpt-4o-mini, lexical, judged by <paramref name="judge"/>.</summary>
    internal static string SettingsWith(string judge, double threshold, string more = "") =>
        FormattableString.Invariant($"cache:\n  exact: {{ ttl_seconds: 3600 }}\n  semantic: {{ aliases: [gpt-4o-mini], embedder: lexical, threshold: {threshold}, pair_model: {judge}{more} }}\n");

    /// <summary>
    /// A model file for the lexical embedder (1,024 dimensions) whose score is the same for every pair:
    /// sigmoid(<paramref name="logit"/>).
    /// </summary>
    internal static string ConstantJudge(double logit)
    {
        var path = Path.Combine(Path.GetTempPath(), $"tollgate-judge-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["kind"] = "pair-mlp-2",
            ["embedder"] = "lexical",
            ["dimensions"] = 1024,
            ["hidden_weights"] = new float[PairFeatures.Count(1024)],
            ["hidden_biases"] = new[] { 1f },
            ["output_weights"] = new[] { 0f },
            ["output_bias"] = logit,
        }));
        return path;
    }
}

/// <summary>With a pair model that never finds two questions the same, a rewording the cosine would serve is forwarded.</summary>
public sealed class DoubtingPairModelTests : GatewayWithFakeUpstream
{
    private static readonly string Judge = PairModelTests.ConstantJudge(-2);

    protected override string Settings => PairModelTests.SettingsWith(Judge, 0.5);

    [Fact]
    public async Task The_pair_models_score_decides_and_a_low_one_is_a_miss()
    {
        await SemanticCacheTests.AskAsync(Gateway.Client, "Bao lâu thì giao hàng tới Đà Nẵng?");
        using var reworded = await SemanticCacheTests.AskAsync(Gateway.Client, "Shop ơi, bao lâu giao hàng tới Đà Nẵng vậy ạ?");

        Assert.Equal("miss", reworded.Headers.GetValues(ResponseCache.Header).Single());
        Assert.Equal(2, Upstream.Received.Count);
    }
}

/// <summary>With a pair model sure of every pair, its score is the similarity served, recorded and sent in the header.</summary>
public sealed class TrustingPairModelTests : GatewayWithFakeUpstream
{
    private static readonly string Judge = PairModelTests.ConstantJudge(3);

    protected override string Settings => PairModelTests.SettingsWith(Judge, 0.9);

    [Fact]
    public async Task A_high_score_is_a_hit_reported_with_the_models_score_and_the_guards_still_refuse()
    {
        await SemanticCacheTests.AskAsync(Gateway.Client, "Giao hàng trong 2 ngày được không?");
        using var hit = await SemanticCacheTests.AskAsync(Gateway.Client, "Đổi trả trong 2 ngày được không?");
        using var otherNumber = await SemanticCacheTests.AskAsync(Gateway.Client, "Giao hàng trong 3 ngày được không?");

        var score = 1 / (1 + Math.Exp(-3));
        Assert.Equal(FormattableString.Invariant($"semantic; similarity={score:0.0000}"), hit.Headers.GetValues(ResponseCache.Header).Single());
        Assert.Equal("miss", otherNumber.Headers.GetValues(ResponseCache.Header).Single());
        var record = (await Gateway.RecordsAsync(3)).Single(r => r.ResponseCacheHit == ResponseCacheHit.Semantic);
        Assert.Equal(score, record.ResponseCacheSimilarity!.Value, 4);
    }
}

/// <summary>With <c>guards: false</c>, differing numbers are left to the pair model: a sure one serves them.</summary>
public sealed class UnguardedPairModelTests : GatewayWithFakeUpstream
{
    private static readonly string Judge = PairModelTests.ConstantJudge(3);

    protected override string Settings => PairModelTests.SettingsWith(Judge, 0.9, ", guards: false");

    [Fact]
    public async Task Without_guards_a_question_with_other_numbers_is_served_when_the_model_says_so()
    {
        await SemanticCacheTests.AskAsync(Gateway.Client, "Giao hàng trong 2 ngày được không?");
        using var otherNumber = await SemanticCacheTests.AskAsync(Gateway.Client, "Giao hàng trong 3 ngày được không?");

        Assert.StartsWith("semantic; similarity=", otherNumber.Headers.GetValues(ResponseCache.Header).Single(), StringComparison.Ordinal);
        Assert.Single(Upstream.Received);
    }
}

/// <summary>Offline evaluations keep vectors between runs, found again whatever the texts' order.</summary>
public sealed class EmbeddingRunTests
{
    private sealed class CountingEmbedder : ITextEmbedder
    {
        public int Calls { get; private set; }

        public string Name => "counting";

        public int Dimensions => 2;

        public ValueTask<float[]?> EmbedAsync(string text, Tollgate.Ledger.Attribution? payer, CancellationToken cancellationToken)
        {
            Calls++;
            return ValueTask.FromResult<float[]?>([text.Length, 1]);
        }
    }

    [Fact]
    public async Task Vectors_kept_in_the_folder_are_read_back_for_the_same_texts_in_another_order_without_embedding()
    {
        var folder = Directory.CreateTempSubdirectory("tollgate-vectors").FullName;
        var embedder = new CountingEmbedder();

        var (first, took) = await EmbeddingRun.EmbedAsync(["bb", "a", "bb", "cccc"], embedder, folder, CancellationToken.None);
        var calls = embedder.Calls;
        var (again, read) = await EmbeddingRun.EmbedAsync(["cccc", "a", "bb"], embedder, folder, CancellationToken.None);

        Assert.NotNull(took);
        Assert.Null(read);
        Assert.Equal(calls, embedder.Calls);
        Assert.Equal([4f, 1f], again[0]);
        Assert.Equal(first[1], again[1]);
        Assert.Equal(first[0], again[2]);
    }
}
