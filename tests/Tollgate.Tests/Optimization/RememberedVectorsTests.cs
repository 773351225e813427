using Tollgate.Optimization.SemanticCaching;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>An embedder that costs is asked once per text lately embedded; failures and long texts are not remembered; the byte budget holds.</summary>
public sealed class RememberedVectorsTests
{
    [Fact]
    public async Task A_text_embedded_lately_is_not_embedded_again_and_a_failure_is_not_remembered()
    {
        var inner = new CountingEmbedder { Fail = "down" };
        var remembered = new RememberedVectors(inner);

        var a = await remembered.EmbedAsync("opening hours?", null, default);
        var b = await remembered.EmbedAsync("opening hours?", null, default);
        await remembered.EmbedAsync("refunds?", null, default);
        Assert.Null(await remembered.EmbedAsync("down", null, default));
        Assert.Null(await remembered.EmbedAsync("down", null, default));
        var long1 = new string('x', RememberedVectors.MaxTextLength + 1);
        await remembered.EmbedAsync(long1, null, default);
        await remembered.EmbedAsync(long1, null, default);

        Assert.Same(a, b);
        Assert.Equal(new Dictionary<string, int> { ["opening hours?"] = 1, ["refunds?"] = 1, ["down"] = 2, [long1] = 2 }, inner.Calls);
        Assert.Equal(2, remembered.Count);
    }

    [Fact]
    public async Task Past_its_budget_the_least_recently_used_text_is_embedded_again()
    {
        var inner = new CountingEmbedder();
        var one = RememberedVectors.Bytes("q0", new float[3]);
        var remembered = new RememberedVectors(inner, maxBytes: 3 * one);
        foreach (var text in new[] { "q0", "q1", "q2", "q0", "q3", "q0", "q2", "q1" })
        {
            await remembered.EmbedAsync(text, null, default);
        }

        // q1 was the least recently used when q3 came, so it alone was dropped and asked again at the end.
        Assert.Equal(new Dictionary<string, int> { ["q0"] = 1, ["q1"] = 2, ["q2"] = 1, ["q3"] = 1 }, inner.Calls);
        Assert.Equal(3, remembered.Count);
    }

    [Fact]
    public async Task Many_concurrent_askers_of_a_few_texts_always_get_that_texts_vector()
    {
        var inner = new CountingEmbedder();
        var remembered = new RememberedVectors(inner, maxBytes: 4 * RememberedVectors.Bytes("t0", new float[3]));
        var texts = Enumerable.Range(0, 8).Select(i => "t" + i).ToArray();

        var results = await Task.WhenAll(Enumerable.Range(0, 2_000).Select(async i =>
        {
            var text = texts[i % texts.Length];
            return (text, await remembered.EmbedAsync(text, null, default));
        }));

        Assert.All(results, r => Assert.Equal(CountingEmbedder.VectorOf(r.text), r.Item2));
        Assert.InRange(remembered.Count, 1, 4);
    }

    private sealed class CountingEmbedder : ITextEmbedder
    {
        private readonly Lock _gate = new();

        public string? Fail { get; init; }

        public Dictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);

        public string Name => "counting";

        public int Dimensions => 3;

        public static float[] VectorOf(string text) => [text.Length, text[^1], 1];

        public async ValueTask<float[]?> EmbedAsync(string text, Tollgate.Ledger.Attribution? payer, CancellationToken cancellationToken)
        {
            await Task.Yield();
            lock (_gate)
            {
                Calls[text] = Calls.GetValueOrDefault(text) + 1;
            }

            return text == Fail ? null : VectorOf(text);
        }
    }
}
