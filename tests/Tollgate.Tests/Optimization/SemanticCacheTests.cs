using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.Ledger;
using Tollgate.Optimization.ResponseCaching;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>
/// The semantic cache with a fixed threshold: a question worded otherwise, in the same context and tenant, is answered
/// from the kept answer; differing numbers, another system prompt, another key or a stream go to the provider.
/// </summary>
public sealed class SemanticCacheTests : GatewayWithFakeUpstream
{
    protected override string Settings => "cache:\n  exact: { ttl_seconds: 3600 }\n  semantic: { aliases: [gpt-4o-mini], embedder: lexical, threshold: 0.91 }\n";

    internal static async Task<HttpResponseMessage> AskAsync(
        HttpClient client, string question, string system = "Bạn là trợ lý của cửa hàng.", string? bearer = null, bool stream = false, string? feature = null)
    {
        var body = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = "gpt-4o-mini",
            ["stream"] = stream,
            ["messages"] = new object[] { new { role = "system", content = system }, new { role = "user", content = question } },
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        }

        if (feature is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Feature", feature);
        }

        return await client.SendAsync(request);
    }

    private static string CacheHeader(HttpResponseMessage response) =>
        response.Headers.TryGetValues(ResponseCache.Header, out var values) ? values.Single() : string.Empty;

    [Fact]
    public async Task A_question_worded_otherwise_is_answered_from_the_kept_answer_and_recorded_as_a_semantic_hit()
    {
        var first = await AskAsync(Gateway.Client, "Bao lâu thì giao hàng tới Đà Nẵng?");
        var second = await AskAsync(Gateway.Client, "Shop ơi, bao lâu giao hàng tới Đà Nẵng vậy ạ?");

        Assert.Equal("miss", CacheHeader(first));
        Assert.StartsWith("semantic; similarity=", CacheHeader(second), StringComparison.Ordinal);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Single(Upstream.Received);
        var records = await Gateway.RecordsAsync(2);
        var paid = records.Single(r => r.ResponseCacheHit is null);
        var hit = records.Single(r => r.ResponseCacheHit == ResponseCacheHit.Semantic);
        Assert.Equal(0m, hit.Cost.Total);
        Assert.Equal(paid.Cost.Total, hit.ResponseCacheSavedUsd);
        Assert.True(hit.ResponseCacheSimilarity >= 0.91);
    }

    [Fact]
    public async Task Differing_numbers_or_negation_another_system_prompt_another_key_or_a_stream_go_to_the_provider()
    {
        var otherKey = await Gateway.CreateKeyAsync("other");
        await AskAsync(Gateway.Client, "Giao hàng trong 2 ngày được không?");

        string[] headers =
        [
            CacheHeader(await AskAsync(Gateway.Client, "Giao hàng trong 3 ngày được không?")),
            CacheHeader(await AskAsync(Gateway.Client, "Không giao hàng trong 2 ngày được không?")),
            CacheHeader(await AskAsync(Gateway.Client, "giao hàng trong 2 ngày được không", system: "You are a travel agent.")),
            CacheHeader(await AskAsync(Gateway.Client, "giao hàng trong 2 ngày được không", bearer: otherKey)),
            CacheHeader(await AskAsync(Gateway.Client, "giao hàng trong 2 ngày được không", stream: true)),
        ];

        Assert.All(headers, h => Assert.Equal("miss", h));
        Assert.Equal(6, Upstream.Received.Count);
    }

    [Fact]
    public async Task A_reworded_streamed_question_is_answered_with_the_kept_stream_which_the_sdk_reads()
    {
        Upstream.ReplyText = "Cửa hàng mở cửa từ 8:00 đến 21:00.";
        var client = Gateway.OpenAiChat("gpt-4o-mini");

        async Task<string> AskStreamingAsync(string question)
        {
            var text = new StringBuilder();
            await foreach (var update in client.CompleteChatStreamingAsync([new OpenAI.Chat.SystemChatMessage("Bạn là trợ lý của cửa hàng."), new OpenAI.Chat.UserChatMessage(question)]))
            {
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }
            }

            return text.ToString();
        }

        var first = await AskStreamingAsync("Mấy giờ thì cửa hàng mở cửa?");
        var second = await AskStreamingAsync("Shop ơi, mấy giờ cửa hàng mở cửa vậy?");

        Assert.Equal(Upstream.ReplyText, first);
        Assert.Equal(first, second);
        Assert.Single(Upstream.Received);
        var hit = (await Gateway.RecordsAsync(2)).Single(r => r.ResponseCacheHit == ResponseCacheHit.Semantic);
        Assert.True(hit.Stream);
    }

    [Fact]
    public async Task An_answer_purged_from_the_exact_cache_is_no_longer_served_semantically()
    {
        await AskAsync(Gateway.Client, "Mấy giờ cửa hàng mở cửa?");
        await Gateway.Client.DeleteAsync("/admin/cache");

        var after = await AskAsync(Gateway.Client, "Cửa hàng mở cửa mấy giờ vậy shop?");

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("miss", CacheHeader(after));
        Assert.Equal(2, Upstream.Received.Count);
    }
}

/// <summary>Opted in by feature: requests of that feature are looked up on any alias; others are not.</summary>
public sealed class FeatureScopedSemanticCacheTests : GatewayWithFakeUpstream
{
    protected override string Settings => "cache:\n  exact: {}\n  semantic: { features: [support], threshold: 0.91 }\n";

    [Fact]
    public async Task Only_the_opted_in_feature_gets_semantic_answers()
    {
        await SemanticCacheTests.AskAsync(Gateway.Client, "Bao lâu thì giao hàng tới Huế?", feature: "support");
        using var support = await SemanticCacheTests.AskAsync(Gateway.Client, "bao lâu giao hàng tới Huế vậy shop?", feature: "support");
        await SemanticCacheTests.AskAsync(Gateway.Client, "Bao lâu thì giao hàng tới Huế?", feature: "search");
        using var search = await SemanticCacheTests.AskAsync(Gateway.Client, "bao lâu giao hàng tới Huế vậy shop?", feature: "search");

        Assert.StartsWith("semantic", support.Headers.GetValues(ResponseCache.Header).Single(), StringComparison.Ordinal);
        Assert.Equal("miss", search.Headers.GetValues(ResponseCache.Header).Single());
    }
}

/// <summary>
/// The bounded mode through the gateway: it forwards and verifies until it has evidence that answers at a similarity
/// are right often enough, then serves; when the fresh answers keep differing from the kept ones it never serves.
/// </summary>
public sealed class BoundedSemanticCacheTests : GatewayWithFakeUpstream
{
    protected override string Settings => "cache:\n  exact: { ttl_seconds: 3600 }\n  semantic: { aliases: [gpt-4o-mini], embedder: lexical, max_error_rate: 0.05, verify_percent: 0 }\n";

    /// <summary>Sixty ways of asking one question that normalise alike: particles, punctuation, case and spacing differ.</summary>
    private static IEnumerable<string> Variants() =>
        from prefix in new[] { "", "Shop ơi, ", "Ad ơi, ", "Xin hỏi ", "Vui lòng cho biết " }
        from suffix in new[] { "?", " vậy?", " ạ?", " nhé?", " thế?", "??" }
        from start in prefix.Length == 0 ? new[] { "Bao", "bao" } : ["bao", "bao "]
        select $"{prefix}{start} lâu thì giao hàng tới Đà Nẵng{suffix}";

    [Fact]
    public async Task After_enough_verified_right_answers_it_serves_and_never_before()
    {
        var headers = new List<string>();
        foreach (var question in Variants())
        {
            using var response = await SemanticCacheTests.AskAsync(Gateway.Client, question);
            headers.Add(response.Headers.TryGetValues(ResponseCache.Header, out var values) ? values.Single() : string.Empty);
        }

        // 0 wrong in n verifications bounds the error under 5% (one-sided 95% Wilson) from n = 52.
        var firstServed = headers.FindIndex(h => h.StartsWith("semantic", StringComparison.Ordinal));
        Assert.InRange(firstServed, 52, 54);
        Assert.All(headers.Skip(firstServed), h => Assert.StartsWith("semantic", h, StringComparison.Ordinal));
        Assert.Equal(firstServed, Upstream.Received.Count);

        // Every forwarded lookup after the first was a verification: the cache's own spend, shown apart in reports.
        var records = await Gateway.RecordsAsync(headers.Count);
        var verifications = records.Where(r => r.Attribution.Tags.GetValueOrDefault(ResponseCacheWork.Tag) == ResponseCacheWork.Verification).ToList();
        Assert.Equal(firstServed - 1, verifications.Count);
        using var report = JsonDocument.Parse(await Gateway.Client.GetStringAsync("/admin/analytics/spend?group_by=alias&from=1h"));
        var row = Assert.Single(report.RootElement.GetProperty("rows").EnumerateArray());
        Assert.Equal(verifications.Sum(r => r.Cost.Total!.Value), row.GetProperty("response_cache_spent_usd").GetDecimal());
    }

    [Fact]
    public async Task Streamed_answers_are_verified_too_and_streams_are_served_after_enough_right_ones()
    {
        var headers = new List<string>();
        foreach (var question in Variants())
        {
            using var response = await SemanticCacheTests.AskAsync(Gateway.Client, question, stream: true);
            await response.Content.ReadAsStringAsync();
            headers.Add(response.Headers.TryGetValues(ResponseCache.Header, out var values) ? values.Single() : string.Empty);
        }

        // The fresh stream's text is compared with the kept stream's: the same count of verifications as for whole answers.
        var firstServed = headers.FindIndex(h => h.StartsWith("semantic", StringComparison.Ordinal));
        Assert.InRange(firstServed, 52, 54);
        Assert.Equal(firstServed, Upstream.Received.Count);
    }

    [Fact]
    public async Task When_fresh_streamed_answers_differ_from_the_kept_one_no_stream_is_served()
    {
        var answers = new[] { "Hai ngày.", "Khoảng một tuần, tuỳ đơn vị vận chuyển.", "Chúng tôi không giao tới Đà Nẵng.", "Ba đến năm ngày làm việc." };
        var i = 0;
        foreach (var question in Variants())
        {
            Upstream.ReplyText = answers[i++ % answers.Length];
            using var response = await SemanticCacheTests.AskAsync(Gateway.Client, question, stream: true);
            await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("semantic", response.Headers.TryGetValues(ResponseCache.Header, out var values) ? values.Single() : string.Empty, StringComparison.Ordinal);
        }

        Assert.Equal(60, Upstream.Received.Count);
    }

    [Fact]
    public async Task When_fresh_answers_keep_differing_from_the_kept_ones_nothing_is_served()
    {
        var answers = new[] { "Hai ngày.", "Khoảng một tuần, tuỳ đơn vị vận chuyển.", "Chúng tôi không giao tới Đà Nẵng.", "Ba đến năm ngày làm việc." };
        var i = 0;
        foreach (var question in Variants())
        {
            Upstream.ReplyText = answers[i++ % answers.Length];
            using var response = await SemanticCacheTests.AskAsync(Gateway.Client, question);
            Assert.DoesNotContain("semantic", response.Headers.TryGetValues(ResponseCache.Header, out var values) ? values.Single() : string.Empty, StringComparison.Ordinal);
        }

        Assert.Equal(60, Upstream.Received.Count);
    }
}
