using System.Net;
using System.Text.Json;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Optimization.ResponseCaching;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>
/// The semantic cache embedding through an embeddings alias of the gateway (<c>embedder: alias:emb</c>), the
/// multilingual path: a question and its translation, which share no words, are one question to a model that knows
/// meaning. Each embedding is a metered call charged to whoever asked, tagged as the cache's own spend; an embeddings
/// provider that fails makes the look-up a miss, never an error.
/// </summary>
public sealed class AliasEmbedderTests : GatewayWithFakeUpstream
{
    private const string English = "How long does delivery take?";
    private const string Vietnamese = "Giao hàng mất bao lâu?";

    protected override string Settings => "cache:\n  exact: { ttl_seconds: 3600 }\n  semantic: { aliases: [gpt-4o-mini], embedder: \"alias:emb\", threshold: 0.9 }\n";

    protected override string Models(Uri upstream) =>
        TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream) + TestGateway.Model("emb", "text-embedding-3-small", upstream);

    public AliasEmbedderTests()
    {
        // As a multilingual model would: the two wordings of the delivery question on one direction, anything else apart.
        VectorOf = text => text is English or Vietnamese ? [0.6f, 0.8f, 0f] : [0f, 0f, 1f];
    }

    private Func<string, float[]?> VectorOf { get; }

    private static string CacheHeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues(ResponseCache.Header, out var values) ? values.Single() : string.Empty;

    private IEnumerable<ReceivedRequest> Chats => Upstream.Received.Where(r => r.Path.EndsWith("/chat/completions", StringComparison.Ordinal));

    private IEnumerable<ReceivedRequest> Embeddings => Upstream.Received.Where(r => r.Path.EndsWith("/embeddings", StringComparison.Ordinal));

    [Fact]
    public async Task A_translated_question_is_answered_from_the_kept_answer_and_each_embedding_is_billed_to_the_asker_as_cache_spend()
    {
        Upstream.VectorOf = VectorOf;
        using var first = await SemanticCacheTests.AskAsync(Gateway.Client, English, feature: "support");
        using var second = await SemanticCacheTests.AskAsync(Gateway.Client, Vietnamese, feature: "support");

        Assert.Equal("miss", CacheHeader(first));
        Assert.StartsWith("semantic; similarity=1", CacheHeader(second), StringComparison.Ordinal);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Single(Chats);
        Assert.Equal([English, Vietnamese], Embeddings.Select(e => e.Json.GetProperty("input").GetString()));
        Assert.All(Embeddings, e => Assert.Equal("text-embedding-3-small", e.Json.GetProperty("model").GetString()));

        var records = await Gateway.RecordsAsync(4);
        var embeddings = records.Where(r => r.Endpoint == "embeddings").ToList();
        Assert.Equal(2, embeddings.Count);
        Assert.All(embeddings, r =>
        {
            Assert.Equal("emb", r.Alias);
            Assert.Equal(RecordStatus.Ok, r.Status);
            Assert.Equal("support", r.Attribution.Feature);
            Assert.Equal(ResponseCacheWork.Embedding, r.Attribution.Tags[ResponseCacheWork.Tag]);
            Assert.True(r.Cost.Total > 0);
        });

        // Reports show what the cache spent on itself, apart, in the feature that caused it.
        using var report = JsonDocument.Parse(await Gateway.Client.GetStringAsync("/admin/analytics/spend?group_by=feature&from=1h"));
        var support = report.RootElement.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("group").GetString() == "support");
        Assert.Equal(embeddings.Sum(r => r.Cost.Total!.Value), support.GetProperty("response_cache_spent_usd").GetDecimal());
        Assert.Equal(1, support.GetProperty("response_cache_hits").GetInt64());

        var metrics = await Gateway.Client.GetStringAsync("/metrics");
        Assert.Contains("tollgate_cache_spent_usd_total{purpose=\"embedding\"}", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_question_asked_under_another_system_prompt_is_embedded_once()
    {
        Upstream.VectorOf = VectorOf;
        using var first = await SemanticCacheTests.AskAsync(Gateway.Client, English, system: "You answer for shop A.");
        using var second = await SemanticCacheTests.AskAsync(Gateway.Client, English, system: "You answer for shop B.");

        // Another context: a miss (shop B's answer may differ), paid for by the provider, but the question's vector is
        // the one already paid for.
        Assert.Equal(("miss", "miss"), (CacheHeader(first), CacheHeader(second)));
        Assert.Equal(2, Chats.Count());
        Assert.Equal([English], Embeddings.Select(e => e.Json.GetProperty("input").GetString()));
        Assert.Single(await Gateway.RecordsAsync(3), r => r.Endpoint == "embeddings");
    }

    [Fact]
    public async Task An_embeddings_provider_that_fails_makes_the_lookup_a_miss_and_the_failed_call_is_recorded_once()
    {
        Upstream.VectorOf = VectorOf;
        Upstream.FaultStatus = 400;
        Upstream.ScriptedFaults.Enqueue(FakeFault.ErrorStatus); // the first call is the question's embedding

        using var response = await SemanticCacheTests.AskAsync(Gateway.Client, English);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("miss", CacheHeader(response));
        Assert.Single(Chats);
        var records = await Gateway.RecordsAsync(2);
        Assert.Equal(2, records.Count);
        var failed = records.Single(r => r.Endpoint == "embeddings");
        Assert.Equal(RecordStatus.UpstreamError, failed.Status);
        Assert.Equal(ResponseCacheWork.Embedding, failed.Attribution.Tags[ResponseCacheWork.Tag]);
        Assert.Equal(RecordStatus.Ok, records.Single(r => r.Endpoint != "embeddings").Status);
    }
}
