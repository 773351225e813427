using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Embeddings;
using Tollgate.Ledger;
using Tollgate.Optimization.ResponseCaching;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>
/// Embeddings are cached per input item: re-embedding a corpus sends only the changed documents to the provider, the
/// answer holds every vector in the client's order, and the record is billed for what the provider embedded and
/// credited with what the kept vectors saved.
/// </summary>
public sealed class EmbeddingItemCacheTests : GatewayWithFakeUpstream
{
    protected override string Settings => "cache:\n  exact:\n    max_mb: 64\n";

    protected override string Models(Uri upstream) => TestGateway.Model("emb", "text-embedding-3-small", upstream);

    private async Task<(HttpResponseMessage Response, JsonElement Json)> EmbedAsync(IEnumerable<string> documents, string extra = "")
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object> { ["model"] = "emb", ["input"] = documents.ToArray() });
        if (extra.Length > 0)
        {
            body = body[..^1] + "," + extra + "}";
        }

        var response = await Gateway.Client.PostAsync("/v1/embeddings", new StringContent(body, Encoding.UTF8, "application/json"));
        return (response, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : string.Empty;

    [Fact]
    public async Task Re_embedding_ten_thousand_documents_with_a_hundred_changed_bills_the_provider_for_a_hundred()
    {
        // In batches of 1,000, as a client must (a request holds at most 2,048 inputs).
        Upstream.EmbeddingTokensPerItem = 5;
        var corpus = Enumerable.Range(1000, 10_000).Select(i => $"document {i} body").ToArray();
        var changed = (string[])corpus.Clone();
        for (var i = 0; i < 10_000; i += 100)
        {
            changed[i] = $"document {i + 1000} body, revised";
        }

        var before = new List<string>();
        var after = new List<string>();
        for (var batch = 0; batch < 10; batch++)
        {
            var (_, json) = await EmbedAsync(corpus.Skip(batch * 1000).Take(1000));
            before.AddRange(json.GetProperty("data").EnumerateArray().Select(v => v.GetProperty("embedding").GetRawText()));
        }

        for (var batch = 0; batch < 10; batch++)
        {
            var (response, json) = await EmbedAsync(changed.Skip(batch * 1000).Take(1000));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("partial", Header(response, ResponseCache.Header));
            Assert.Equal(50, json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
            var vectors = json.GetProperty("data");
            Assert.Equal(1000, vectors.GetArrayLength());
            for (var i = 0; i < 1000; i++)
            {
                Assert.Equal(i, vectors[i].GetProperty("index").GetInt32());
                after.Add(vectors[i].GetProperty("embedding").GetRawText());
            }
        }

        Assert.Equal(10_100, Upstream.EmbeddedItems);
        Assert.Equal(Enumerable.Range(0, 10_000).Where(i => i % 100 == 0), Enumerable.Range(0, 10_000).Where(i => before[i] != after[i]));
        var records = await Gateway.RecordsAsync(20);
        var paid = records.Where(r => r.ResponseCacheHit is null).ToList();
        var partial = records.Where(r => r.ResponseCacheHit == ResponseCacheHit.Partial).ToList();
        Assert.Equal(10, paid.Count);
        Assert.Equal(10, partial.Count);
        Assert.Equal(500, partial.Sum(r => r.Usage.InputTokens));
        Assert.Equal(paid.Sum(r => r.Cost.Total) / 100, partial.Sum(r => r.Cost.Total));

        // Every document counts alike, so each kept vector carries 5 of the tokens first billed: the kept 9,900 saved 99%.
        Assert.Equal(paid.Sum(r => r.Cost.Total) * 9_900 / 10_000, partial.Sum(r => r.ResponseCacheSavedUsd));
    }

    [Fact]
    public async Task A_batch_of_kept_documents_is_answered_without_the_provider_and_the_sdk_reads_it()
    {
        var client = new EmbeddingClient("emb", new ApiKeyCredential(TestGateway.MasterKey), new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseUrl, "/v1") });
        string[] documents = ["Chính sách hoàn tiền trong 30 ngày.", "Giao hàng 2-3 ngày làm việc.", "Mở cửa 8:00–21:00."];

        var first = await client.GenerateEmbeddingsAsync(documents);
        var again = await client.GenerateEmbeddingsAsync([documents[2], documents[0]]);

        Assert.Single(Upstream.Received);
        Assert.Equal(first.Value[2].ToFloats().ToArray(), again.Value[0].ToFloats().ToArray());
        Assert.Equal(first.Value[0].ToFloats().ToArray(), again.Value[1].ToFloats().ToArray());
        Assert.True(again.GetRawResponse().Headers.TryGetValue(ResponseCache.Header, out var header));
        Assert.Equal("hit", header);
        var records = await Gateway.RecordsAsync(2);
        var hit = records.Single(r => r.ResponseCacheHit == ResponseCacheHit.Exact);
        Assert.Equal(0m, hit.Cost.Total);
        Assert.True(hit.ResponseCacheSavedUsd > 0);
    }

    [Fact]
    public async Task No_store_sends_every_input_and_says_bypass()
    {
        await EmbedAsync(["a", "b"]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings")
        {
            Content = new StringContent("{\"model\":\"emb\",\"input\":[\"a\",\"b\"]}", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Cache-Control", "no-store");

        using var response = await Gateway.Client.SendAsync(request);

        Assert.Equal("bypass", Header(response, ResponseCache.Header));
        Assert.Equal(4, Upstream.EmbeddedItems);
    }

    [Fact]
    public async Task Another_dimension_count_or_encoding_is_another_item()
    {
        await EmbedAsync(["a", "b"]);
        var (fewer, _) = await EmbedAsync(["a", "b"], "\"dimensions\":256");
        var (base64, json) = await EmbedAsync(["a"], "\"encoding_format\":\"base64\"");

        Assert.Equal("miss", Header(fewer, ResponseCache.Header));
        Assert.Equal("miss", Header(base64, ResponseCache.Header));
        Assert.Equal(JsonValueKind.String, json.GetProperty("data")[0].GetProperty("embedding").ValueKind);
        Assert.Equal(5, Upstream.EmbeddedItems);
    }
}
