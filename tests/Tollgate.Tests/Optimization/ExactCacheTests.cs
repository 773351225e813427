using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using Tollgate.Ledger;
using Tollgate.Optimization.ResponseCaching;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>
/// The exact response cache through the official OpenAI SDK and plain HTTP: a repeat is answered without a provider
/// call, recorded at $0 with what it saved; another tenant, another parameter or a client's opt-out goes to the
/// provider; a purge empties it; a failing store is a miss.
/// </summary>
public sealed class ExactCacheTests : GatewayWithFakeUpstream
{
    private const string Body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Giờ mở cửa của cửa hàng?\"}],\"temperature\":0}";

    protected override string Settings => "cache:\n  exact:\n    ttl_seconds: 3600\n    max_mb: 16\n";

    private async Task<HttpResponseMessage> PostAsync(string body, string? bearer = null, string? cacheControl = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        }

        if (cacheControl is not null)
        {
            request.Headers.TryAddWithoutValidation("Cache-Control", cacheControl);
        }

        return await (client ?? Gateway.Client).SendAsync(request);
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : string.Empty;

    [Fact]
    public async Task A_repeat_through_the_sdk_is_served_from_the_cache_recorded_at_zero_with_the_exact_saving()
    {
        Upstream.Usage = new(1234, 567);
        var client = Gateway.OpenAiChat("gpt-4o-mini");
        ChatMessage[] messages = [new UserChatMessage("Bao lâu thì giao hàng tới Đà Nẵng?")];
        var options = new ChatCompletionOptions { Temperature = 0 };

        var first = await client.CompleteChatAsync(messages, options);
        var second = await client.CompleteChatAsync(messages, options);

        Assert.Equal(first.Value.Content[0].Text, second.Value.Content[0].Text);
        Assert.Equal(first.Value.Id, second.Value.Id);
        Assert.Single(Upstream.Received);
        var headers = second.GetRawResponse().Headers;
        Assert.True(headers.TryGetValue(ResponseCache.Header, out var cacheHeader));
        Assert.Equal("hit", cacheHeader);
        Assert.True(first.GetRawResponse().Headers.TryGetValue(ResponseCache.Header, out var firstHeader));
        Assert.Equal("miss", firstHeader);

        var records = await Gateway.RecordsAsync(2);
        var paid = Assert.Single(records, r => r.ResponseCacheHit is null);
        var hit = Assert.Single(records, r => r.ResponseCacheHit == ResponseCacheHit.Exact);
        Assert.Equal(0m, hit.Cost.Total);
        Assert.Equal(0, hit.Attempts);
        Assert.Null(hit.Usage.InputTokens);
        Assert.NotNull(paid.Cost.Total);
        Assert.Equal(paid.Cost.Total, hit.ResponseCacheSavedUsd);
        Assert.True(headers.TryGetValue(ResponseCache.SourceHeader, out var source));
        Assert.Equal(paid.Id, source);
        Assert.True(headers.TryGetValue(ResponseCache.SavedHeader, out var saved));
        Assert.Equal(paid.Cost.Total!.Value, decimal.Parse(saved!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Another_key_does_not_receive_the_answer_a_key_paid_for()
    {
        var alice = await Gateway.CreateKeyAsync("alice");
        var bob = await Gateway.CreateKeyAsync("bob");

        await PostAsync(Body, alice);
        var again = await PostAsync(Body, alice);
        var other = await PostAsync(Body, bob);

        Assert.Equal("hit", Header(again, ResponseCache.Header));
        Assert.Equal("miss", Header(other, ResponseCache.Header));
        Assert.Equal(2, Upstream.Received.Count);
    }

    [Fact]
    public async Task A_changed_parameter_is_a_miss_and_the_callers_user_field_is_not_part_of_the_key()
    {
        await PostAsync(Body);
        var warmer = await PostAsync(Body.Replace("\"temperature\":0", "\"temperature\":0.7", StringComparison.Ordinal));
        var capped = await PostAsync(Body.Replace("\"temperature\":0", "\"temperature\":0,\"max_tokens\":50", StringComparison.Ordinal));
        var seeded = await PostAsync(Body.Replace("\"temperature\":0", "\"temperature\":0,\"seed\":7", StringComparison.Ordinal));
        var reordered = await PostAsync("{\"temperature\":0,\"messages\":[{\"content\":\"Giờ mở cửa của cửa hàng?\",\"role\":\"user\"}],\"model\":\"gpt-4o-mini\",\"user\":\"u-42\"}");

        Assert.Equal("miss", Header(warmer, ResponseCache.Header));
        Assert.Equal("miss", Header(capped, ResponseCache.Header));
        Assert.Equal("miss", Header(seeded, ResponseCache.Header));
        Assert.Equal("hit", Header(reordered, ResponseCache.Header));
        Assert.Equal(4, Upstream.Received.Count);
    }

    [Fact]
    public async Task A_streamed_hit_replays_a_stream_the_sdk_reads_with_its_usage()
    {
        Upstream.ReplyText = "Đơn hàng được giao trong 2-3 ngày làm việc.";
        var client = Gateway.OpenAiChat("gpt-4o-mini");

        async Task<(string Text, ChatTokenUsage? Usage)> ReadAsync()
        {
            var text = new StringBuilder();
            ChatTokenUsage? usage = null;
            await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Khi nào hàng tới?")]))
            {
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }

                usage ??= update.Usage;
            }

            return (text.ToString(), usage);
        }

        var first = await ReadAsync();
        var second = await ReadAsync();

        Assert.Equal(Upstream.ReplyText, first.Text);
        Assert.Equal(first.Text, second.Text);
        Assert.NotNull(second.Usage);
        Assert.Equal(first.Usage!.OutputTokenCount, second.Usage!.OutputTokenCount);
        Assert.Single(Upstream.Received);
        var records = await Gateway.RecordsAsync(2);
        var hit = Assert.Single(records, r => r.ResponseCacheHit is not null);
        Assert.True(hit.Stream);
        Assert.Equal(records.Single(r => r.ResponseCacheHit is null).Cost.Total, hit.ResponseCacheSavedUsd);
    }

    [Fact]
    public async Task A_streamed_and_a_whole_answer_to_the_same_question_are_kept_apart()
    {
        await PostAsync(Body);
        var streamed = await PostAsync(Body.Replace("\"temperature\":0", "\"temperature\":0,\"stream\":true", StringComparison.Ordinal));

        Assert.Equal("miss", Header(streamed, ResponseCache.Header));
        Assert.Equal("text/event-stream", streamed.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task No_cache_asks_for_a_fresh_answer_and_no_store_keeps_the_request_out_of_the_cache()
    {
        await PostAsync(Body);
        var fresh = await PostAsync(Body, cacheControl: "no-cache");
        var notKept = Body.Replace("?", "!", StringComparison.Ordinal);
        var first = await PostAsync(notKept, cacheControl: "no-store");
        var second = await PostAsync(notKept);

        Assert.Equal("bypass", Header(fresh, ResponseCache.Header));
        Assert.Equal("bypass", Header(first, ResponseCache.Header));
        Assert.Equal("miss", Header(second, ResponseCache.Header));
        Assert.Equal(4, Upstream.Received.Count);
    }

    [Fact]
    public async Task A_failed_answer_is_not_kept()
    {
        Upstream.Fault = FakeProviders.FakeFault.ErrorStatus;
        Upstream.FaultStatus = 400;
        await PostAsync(Body);
        Upstream.Fault = FakeProviders.FakeFault.None;

        var next = await PostAsync(Body);

        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal("miss", Header(next, ResponseCache.Header));
    }

    [Fact]
    public async Task A_purge_by_alias_or_scope_removes_the_kept_answers_and_the_next_call_pays_again()
    {
        var key = await Gateway.CreateKeyAsync("purged");
        await PostAsync(Body);
        await PostAsync(Body, key);
        var keyId = (await Gateway.RecordsAsync(2)).Select(r => r.Attribution.KeyId).First(id => id != "master");

        var byScope = await Gateway.Client.DeleteAsync($"/admin/cache?scope=key:{keyId}");
        var afterScope = await PostAsync(Body, key);
        var stillKept = await PostAsync(Body);
        var byAlias = await Gateway.Client.DeleteAsync("/admin/cache?alias=gpt-4o-mini&older_than=0m");
        var afterAlias = await PostAsync(Body);
        var badAge = await Gateway.Client.DeleteAsync("/admin/cache?older_than=soon");

        Assert.Equal(1, JsonDocument.Parse(await byScope.Content.ReadAsStringAsync()).RootElement.GetProperty("purged").GetInt32());
        Assert.Equal("miss", Header(afterScope, ResponseCache.Header));
        Assert.Equal("hit", Header(stillKept, ResponseCache.Header));
        Assert.Equal(2, JsonDocument.Parse(await byAlias.Content.ReadAsStringAsync()).RootElement.GetProperty("purged").GetInt32());
        Assert.Equal("miss", Header(afterAlias, ResponseCache.Header));
        Assert.Equal(HttpStatusCode.BadRequest, badAge.StatusCode);
    }

    [Theory]
    [InlineData("/admin/cache?older_than=2147483647d")]
    [InlineData("/admin/cache?older_than=999999999w")]
    [InlineData("/admin/cache?older_than=-1d")]
    public async Task An_age_past_the_calendar_is_a_400_not_a_500(string path)
    {
        using var response = await Gateway.Client.DeleteAsync(path);
        using var spend = await Gateway.Client.GetAsync("/admin/analytics/spend?from=" + path[(path.IndexOf('=') + 1)..]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, spend.StatusCode);
    }

    [Fact]
    public async Task The_cache_reports_its_size_and_hits_in_metrics()
    {
        await PostAsync(Body);
        await PostAsync(Body);

        var metrics = await Gateway.Client.GetStringAsync("/metrics");
        var shown = JsonDocument.Parse(await Gateway.Client.GetStringAsync("/admin/cache")).RootElement;

        Assert.Contains("tollgate_cache_hits_total{cache=\"exact\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("tollgate_cache_misses_total{cache=\"exact\",outcome=\"miss\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("tollgate_cache_entries 1", metrics, StringComparison.Ordinal);
        Assert.Equal(1, shown.GetProperty("entries").GetInt32());
        Assert.Equal("key", shown.GetProperty("scope").GetString());
    }
}

/// <summary>Keys sharing an admin-given tag share answers under <c>scope: tag:team</c>; a tag the client sends in a header does not.</summary>
public sealed class TagScopedCacheTests : GatewayWithFakeUpstream
{
    private const string Body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"refund policy?\"}]}";

    protected override string Settings => "cache:\n  exact:\n    scope: tag:team\n";

    private async Task<string> CacheHeaderAsync(string key, string? teamHeader = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        if (teamHeader is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Tags", "team=" + teamHeader);
        }

        using var response = await Gateway.Client.SendAsync(request);
        return response.Headers.TryGetValues(ResponseCache.Header, out var values) ? values.Single() : string.Empty;
    }

    [Fact]
    public async Task Keys_of_one_team_share_answers_and_a_header_cannot_claim_a_team()
    {
        var search1 = await Gateway.CreateKeyAsync("search-1", "{\"team\":\"search\"}");
        var search2 = await Gateway.CreateKeyAsync("search-2", "{\"team\":\"search\"}");
        var ads = await Gateway.CreateKeyAsync("ads", "{\"team\":\"ads\"}");
        var untagged = await Gateway.CreateKeyAsync("untagged", "{}");

        Assert.Equal("miss", await CacheHeaderAsync(search1));
        Assert.Equal("hit", await CacheHeaderAsync(search2));
        Assert.Equal("miss", await CacheHeaderAsync(ads));
        Assert.Equal("miss", await CacheHeaderAsync(untagged, teamHeader: "search"));
        Assert.Equal(3, Upstream.Received.Count);
    }
}

/// <summary>A response cache whose store fails answers every request from the provider: a miss, never an error.</summary>
public sealed class FailingCacheStoreTests : GatewayWithFakeUpstream
{
    protected override string Settings => "cache:\n  exact:\n    enabled: true\n";

    protected override void Configure(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder) =>
        builder.Services.AddSingleton<IResponseCacheStore>(new BrokenStore());

    [Fact]
    public async Task Requests_are_answered_by_the_provider_and_recorded_once_each()
    {
        const string body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        for (var i = 0; i < 3; i++)
        {
            using var response = await Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(3, Upstream.Received.Count);
        var records = await Gateway.RecordsAsync(3);
        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Null(r.ResponseCacheHit));
        Assert.Contains("tollgate_cache_misses_total{cache=\"exact\",outcome=\"store_error\"}", await Gateway.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_purge_or_a_count_the_store_cannot_do_is_a_503_in_error_json_and_metrics_leave_the_size_out()
    {
        using var purge = await Gateway.Client.DeleteAsync("/admin/cache");
        using var show = await Gateway.Client.GetAsync("/admin/cache");

        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable), (purge.StatusCode, show.StatusCode));
        Assert.Equal("cache_unavailable", JsonDocument.Parse(await purge.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("cache_unavailable", JsonDocument.Parse(await show.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.DoesNotContain("tollgate_cache_entries", await Gateway.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    private sealed class BrokenStore : IResponseCacheStore
    {
        public ValueTask<(long Entries, long Bytes)> SizeAsync(CancellationToken cancellationToken) => throw new IOException("cache backend unreachable");

        public ValueTask<CachedAnswer?[]> GetManyAsync(IReadOnlyList<string> keys, DateTimeOffset now, CancellationToken cancellationToken) => throw new IOException("cache backend unreachable");

        public ValueTask PutAsync(IReadOnlyList<CachedAnswer> answers, CancellationToken cancellationToken) => throw new IOException("cache backend unreachable");

        public ValueTask<int> PurgeAsync(CachePurgeFilter filter, DateTimeOffset now, CancellationToken cancellationToken) => throw new IOException("cache backend unreachable");
    }
}
