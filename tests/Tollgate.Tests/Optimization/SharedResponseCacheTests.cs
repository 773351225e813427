using System.Net;
using System.Text;
using Npgsql;
using Tollgate.FakeProviders;
using Tollgate.Ledger.Postgres;
using Tollgate.Metering;
using Tollgate.Optimization.ResponseCaching;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>
/// The exact cache kept in PostgreSQL (<c>store: shared</c>): what one replica kept, another serves, after a restart
/// too; a purge through one applies to all; the size limit and the TTL hold, in least-recently-used order.
/// </summary>
[Collection("postgres")]
public sealed class SharedResponseCacheTests(PostgresServer postgres)
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    private const string Question = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"What are your opening hours?"}]}""";

    [Fact]
    public async Task An_answer_kept_through_one_replica_is_served_by_the_other_and_after_a_restart_and_a_purge_on_one_applies_to_all()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        var config = await SharedConfigAsync(TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream.BaseUrl));
        await using var a = await TestGateway.StartAsync(config);
        await using var b = await TestGateway.StartAsync(config);

        var (first, firstBody) = await AskAsync(a);
        var (second, secondBody) = await AskAsync(b);
        Assert.Equal(("miss", "hit"), (first, second));
        Assert.Equal(firstBody, secondBody);
        Assert.Single(upstream.Received);

        var records = await a.RecordsAsync(2);
        var paid = records.Single(r => r.ResponseCacheHit is null);
        var hit = records.Single(r => r.ResponseCacheHit == Tollgate.Ledger.ResponseCacheHit.Exact);
        Assert.Equal(0m, hit.Cost.Total);
        Assert.NotNull(paid.Cost.Total);
        Assert.Equal(paid.Cost.Total, hit.ResponseCacheSavedUsd);

        // A third replica started afterwards (a restart) finds it too.
        await using (var c = await TestGateway.StartAsync(config))
        {
            Assert.Equal("hit", (await AskAsync(c)).Cache);
        }

        using (var purge = await b.Client.DeleteAsync("/admin/cache?alias=gpt-4o-mini"))
        {
            Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
            Assert.Contains("\"purged\":1", await purge.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal("miss", (await AskAsync(a)).Cache);
        Assert.Equal(2, upstream.Received.Count);
        Assert.Contains("\"entries\":1", await b.Client.GetStringAsync("/admin/cache"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corpus_embedded_through_one_replica_and_again_with_ten_changed_through_the_other_bills_ten_items()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        upstream.EmbeddingTokensPerItem = 5;
        var config = await SharedConfigAsync(TestGateway.Model("emb", "text-embedding-3-small", upstream.BaseUrl));
        await using var a = await TestGateway.StartAsync(config);
        await using var b = await TestGateway.StartAsync(config);
        var corpus = Enumerable.Range(0, 1000).Select(i => $"document {i} body").ToArray();
        var changed = corpus.Select((d, i) => i % 100 == 0 ? d + ", revised" : d).ToArray();

        var (first, firstVectors) = await EmbedAsync(a, corpus);
        var (second, secondVectors) = await EmbedAsync(b, changed);

        Assert.Equal(("miss", "partial"), (first, second));
        Assert.Equal(1010, upstream.EmbeddedItems);
        Assert.Equal(Enumerable.Range(0, 1000).Where(i => i % 100 == 0), Enumerable.Range(0, 1000).Where(i => firstVectors[i] != secondVectors[i]));
        var records = await b.RecordsAsync(2);
        Assert.Equal([5000L, 50L], records.OrderBy(r => r.Timestamp).Select(r => r.Usage.InputTokens ?? 0));
    }

    [Fact]
    public async Task With_the_database_down_requests_are_answered_by_the_provider_and_the_kept_answer_is_served_again_once_it_is_back()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        var config = await SharedConfigAsync(TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream.BaseUrl));
        await using var gateway = await TestGateway.StartAsync(config);
        Assert.Equal("miss", (await AskAsync(gateway)).Cache);

        await postgres.StopServerAsync();
        try
        {
            Assert.Equal("miss", (await AskAsync(gateway)).Cache); // the store's read fails: a miss, answered
            using var show = await gateway.Client.GetAsync("/admin/cache");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, show.StatusCode);
        }
        finally
        {
            await postgres.StartServerAsync();
        }

        Assert.Equal(2, upstream.Received.Count);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string cache;
        while ((cache = (await AskAsync(gateway)).Cache) != "hit" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200); // until the pool's connections to the stopped server are replaced
        }

        Assert.Equal("hit", cache);
        Assert.Contains("outcome=\"store_error\"", await gateway.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
        var records = await gateway.RecordsAsync(upstream.Received.Count + 1);
        Assert.Equal(upstream.Received.Count, records.Count(r => r.ResponseCacheHit is null));
    }

    [Theory]
    [InlineData("scope=key%3Aa%00b", "scope")]
    [InlineData("alias=gpt%01", "alias")]
    public async Task A_purge_naming_a_control_character_is_a_400_not_a_database_error(string query, string param)
    {
        var config = await SharedConfigAsync("  - { alias: m, provider: mock, model: mock-gpt }\n");
        await using var gateway = await TestGateway.StartAsync(config);

        using var purge = await gateway.Client.DeleteAsync("/admin/cache?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, purge.StatusCode);
        using var error = System.Text.Json.JsonDocument.Parse(await purge.Content.ReadAsStringAsync());
        Assert.Equal(("invalid_value", param), (error.RootElement.GetProperty("error").GetProperty("code").GetString(), error.RootElement.GetProperty("error").GetProperty("param").GetString()));
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("1e300")]
    [InlineData("[shared]")]
    [InlineData("{ shared: true }")]
    public async Task A_store_that_is_not_memory_or_shared_stops_start_up_naming_the_setting(string store)
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestGateway.StartAsync(
            $"cache:\n  exact:\n    store: {store}\nmodels:\n  - {{ alias: m, provider: mock, model: mock-gpt }}\n"));

        Assert.Contains("cache.exact.store", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shared_without_a_postgres_database_stops_start_up_naming_the_setting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestGateway.StartAsync(
            "cache:\n  exact:\n    store: shared\nmodels:\n  - { alias: m, provider: mock, model: mock-gpt }\n"));

        Assert.Contains("storage.postgres", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_answer_comes_back_whole_and_a_batch_read_keeps_the_keys_order()
    {
        var (store, _) = await StoreAsync(1_000_000, TimeSpan.FromHours(1));
        var usage = new Usage(120, 100, 7, 30, 12) { CacheWrite1hTokens = 3, ToolCalls = new Dictionary<string, int> { ["web_search"] = 2 } };
        var answer = new CachedAnswer("k1", "key:a", "m", "d1", usage, "req-1", Start, "text/event-stream",
            [new("x-request-id", "up-1"), new("openai-processing-ms", "12")], Encoding.UTF8.GetBytes("data: {\"x\":1}\n\n"));
        await store.PutAsync([answer, Answer("k2", 10, Start)], default);

        var read = await store.GetManyAsync(["k2", "nope", "k1", "k1"], Start.AddMinutes(1), default);

        Assert.Equal(["k2", null, "k1", "k1"], read.Select(r => r?.Key));
        var back = read[2]!;
        Assert.Equal((answer.Tenant, answer.Alias, answer.Deployment, answer.SourceRequestId, answer.CreatedAt, answer.ContentType), (back.Tenant, back.Alias, back.Deployment, back.SourceRequestId, back.CreatedAt, back.ContentType));
        Assert.Equal(usage with { ToolCalls = null }, back.Usage with { ToolCalls = null });
        Assert.Equal(usage.ToolCalls, back.Usage.ToolCalls);
        Assert.Equal(answer.Headers, back.Headers);
        Assert.Equal(answer.Body, back.Body);
    }

    [Fact]
    public async Task The_last_answer_under_a_key_wins_and_one_over_the_limit_is_not_kept()
    {
        var (store, _) = await StoreAsync(5_000, TimeSpan.FromHours(1));

        await store.PutAsync([Answer("k", 10, Start, "req-1"), Answer("k", 20, Start, "req-2"), Answer("huge", 10_000, Start)], default);

        Assert.Equal("req-2", (await store.GetAsync("k", Start, default))?.SourceRequestId);
        Assert.Null(await store.GetAsync("huge", Start, default));
        Assert.Equal((1, Answer("k", 20, Start).Bytes), await store.SizeAsync(default));
    }

    [Fact]
    public async Task An_answer_is_served_until_its_ttl_and_a_purge_removes_exactly_what_every_condition_selects()
    {
        var (store, clock) = await StoreAsync(1_000_000, TimeSpan.FromHours(3));
        await store.PutAsync([Answer("a", 10, Start, tenant: "key:a"), Answer("b", 10, Start.AddHours(2), tenant: "key:a"), Answer("c", 10, Start, tenant: "key:b"), Answer("d", 10, Start, tenant: "key:a", alias: "other")], default);

        Assert.NotNull(await store.GetAsync("a", Start.AddHours(3).AddMilliseconds(-1), default));
        Assert.Null(await store.GetAsync("a", Start.AddHours(3), default));

        Assert.Equal(1, await store.PurgeAsync(new CachePurgeFilter("key:a", "m", TimeSpan.FromHours(1)), Start.AddHours(2), default));
        Assert.Null(await store.GetAsync("a", Start.AddHours(2), default));
        foreach (var key in new[] { "b", "c", "d" })
        {
            Assert.NotNull(await store.GetAsync(key, Start.AddHours(2), default));
        }

        clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal((3, 3 * Answer("b", 10, Start).Bytes), await store.SizeAsync(default));
        Assert.Equal(3, await store.PurgeAsync(new CachePurgeFilter(null, null, null), Start.AddHours(2), default));
        Assert.Equal((0, 0), await store.SizeAsync(default));
    }

    [Fact]
    public async Task Past_the_limit_the_least_recently_used_go_first_across_replicas_and_expired_rows_are_deleted()
    {
        var one = Answer("x", 488, Start).Bytes;
        var (store, clock, source) = await StoreWithSourceAsync(3 * one, TimeSpan.FromHours(1));
        var other = new PostgresResponseCacheStore(source, 3 * one, TimeSpan.FromHours(1), clock); // a second replica
        await store.PutAsync([Answer("a", 488, Start), Answer("b", 488, Start), Answer("c", 488, Start)], default);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.NotNull(await other.GetAsync("a", clock.GetUtcNow(), default)); // used through the other replica
        clock.Advance(TimeSpan.FromSeconds(2));

        await store.PutAsync([Answer("d", 488, clock.GetUtcNow())], default);

        Assert.Null(await other.GetAsync("b", clock.GetUtcNow(), default));
        foreach (var key in new[] { "a", "c", "d" })
        {
            Assert.NotNull(await other.GetAsync(key, clock.GetUtcNow(), default));
        }

        Assert.Equal((3, 3 * one), await store.SizeAsync(default));

        // An hour on, the pass after the next write deletes what expired (a, c and d), not only what is over the limit.
        clock.Advance(TimeSpan.FromHours(1));
        await store.PutAsync([Answer("e", 10, clock.GetUtcNow())], default);
        await using var connection = await source.OpenConnectionAsync();
        await using var count = new NpgsqlCommand("SELECT string_agg(key, ',') FROM response_cache", connection);
        Assert.Equal("e", await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_replica_serves_an_answer_it_read_from_memory_for_a_second_so_another_replicas_purge_applies_there_within_a_second()
    {
        var (store, clock, source) = await StoreWithSourceAsync(1_000_000, TimeSpan.FromHours(1));
        var counting = new CountingStore(store);
        var nearA = new ReplicaNearCache(counting, TimeSpan.FromHours(1), clock);
        var nearB = new ReplicaNearCache(new PostgresResponseCacheStore(source, 1_000_000, TimeSpan.FromHours(1), clock), TimeSpan.FromHours(1), clock);
        await nearB.PutAsync([Answer("k", 10, Start, "req-1")], default);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("req-1", (await nearA.GetAsync("k", clock.GetUtcNow(), default))?.SourceRequestId);
        }

        Assert.Equal(1, counting.Reads); // read from the database once, then from memory
        Assert.Equal(1, await nearB.PurgeAsync(new CachePurgeFilter(null, null, null), clock.GetUtcNow(), default));
        clock.Advance(ReplicaNearCache.FreshFor - TimeSpan.FromMilliseconds(1));
        Assert.NotNull(await nearA.GetAsync("k", clock.GetUtcNow(), default)); // within the second: still served here
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(await nearA.GetAsync("k", clock.GetUtcNow(), default));

        // A replica's own write or purge applies to it at once.
        await nearA.PutAsync([Answer("k", 10, clock.GetUtcNow(), "req-2")], default);
        Assert.Equal("req-2", (await nearA.GetAsync("k", clock.GetUtcNow(), default))?.SourceRequestId);
        await nearA.PutAsync([Answer("k", 10, clock.GetUtcNow(), "req-3")], default);
        Assert.Equal("req-3", (await nearA.GetAsync("k", clock.GetUtcNow(), default))?.SourceRequestId);
        await nearA.PurgeAsync(new CachePurgeFilter(null, "m", null), clock.GetUtcNow(), default);
        Assert.Null(await nearA.GetAsync("k", clock.GetUtcNow(), default));
    }

    private sealed class CountingStore(IResponseCacheStore inner) : IResponseCacheStore
    {
        public int Reads { get; private set; }

        public ValueTask<CachedAnswer?[]> GetManyAsync(IReadOnlyList<string> keys, DateTimeOffset now, CancellationToken cancellationToken)
        {
            Reads++;
            return inner.GetManyAsync(keys, now, cancellationToken);
        }

        public ValueTask PutAsync(IReadOnlyList<CachedAnswer> answers, CancellationToken cancellationToken) => inner.PutAsync(answers, cancellationToken);

        public ValueTask<int> PurgeAsync(CachePurgeFilter filter, DateTimeOffset now, CancellationToken cancellationToken) => inner.PurgeAsync(filter, now, cancellationToken);

        public ValueTask<(long Entries, long Bytes)> SizeAsync(CancellationToken cancellationToken) => inner.SizeAsync(cancellationToken);
    }

    /// <summary>A gateway configuration on a new database with the exact cache shared, serving <paramref name="models"/>.</summary>
    private async Task<string> SharedConfigAsync(string models) =>
        $"storage:\n  postgres: \"{await postgres.CreateDatabaseAsync()}\"\ncache:\n  exact:\n    store: shared\nmodels:\n" + models;

    private static async Task<(string Cache, string Body)> AskAsync(TestGateway gateway)
    {
        using var response = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(Question, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (response.Headers.GetValues(ResponseCache.Header).Single(), await response.Content.ReadAsStringAsync());
    }

    private static async Task<(string Cache, string[] Vectors)> EmbedAsync(TestGateway gateway, string[] documents)
    {
        var body = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object> { ["model"] = "emb", ["input"] = documents });
        using var response = await gateway.Client.PostAsync("/v1/embeddings", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.Headers.GetValues(ResponseCache.Header).Single(), [.. json.RootElement.GetProperty("data").EnumerateArray().Select(v => v.GetProperty("embedding").GetRawText())]);
    }

    private static CachedAnswer Answer(string key, int bodyBytes, DateTimeOffset at, string source = "req", string tenant = "key:a", string alias = "m") =>
        new(key, tenant, alias, "d", Usage.None, source, at, "application/json", [], new byte[bodyBytes]);

    private async Task<(PostgresResponseCacheStore Store, ManualTimeProvider Clock)> StoreAsync(long maxBytes, TimeSpan ttl)
    {
        var (store, clock, _) = await StoreWithSourceAsync(maxBytes, ttl);
        return (store, clock);
    }

    private async Task<(PostgresResponseCacheStore Store, ManualTimeProvider Clock, NpgsqlDataSource Source)> StoreWithSourceAsync(long maxBytes, TimeSpan ttl)
    {
        var source = await postgres.CreateMigratedSourceAsync();
        var clock = new ManualTimeProvider(Start);
        return (new PostgresResponseCacheStore(source, maxBytes, ttl, clock), clock, source);
    }
}
