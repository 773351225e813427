using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Tollgate.FakeProviders;
using Tollgate.Ledger.Postgres;
using Tollgate.Optimization.ResponseCaching;
using Tollgate.Optimization.SemanticCaching;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>
/// With the exact cache shared (<c>store: shared</c>), replicas share what their semantic caches learn: a rewording of a
/// question one replica saw is served by another, and after a restart; the bounded mode's verifications add up across
/// replicas and survive a restart.
/// </summary>
[Collection("postgres")]
public sealed class SharedSemanticCacheTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_rewording_of_a_question_one_replica_saw_is_served_by_another_and_after_a_restart()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        var config = $"storage:\n  postgres: \"{await postgres.CreateDatabaseAsync()}\"\n"
            + "cache:\n  exact: { ttl_seconds: 3600, store: shared }\n  semantic: { aliases: [gpt-4o-mini], embedder: lexical, threshold: 0.91 }\nmodels:\n"
            + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream.BaseUrl);
        await using var a = await TestGateway.StartAsync(config);
        await using var b = await TestGateway.StartAsync(config);

        using var first = await SemanticCacheTests.AskAsync(a.Client, "Bao lâu thì giao hàng tới Đà Nẵng?");
        await a.Service<SemanticCacheFollower>().SyncAsync(default);
        await b.Service<SemanticCacheFollower>().SyncAsync(default);
        using var second = await SemanticCacheTests.AskAsync(b.Client, "Shop ơi, bao lâu giao hàng tới Đà Nẵng vậy ạ?");

        Assert.Equal("miss", first.Headers.GetValues(ResponseCache.Header).Single());
        Assert.StartsWith("semantic; similarity=", second.Headers.GetValues(ResponseCache.Header).Single(), StringComparison.Ordinal);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Single(upstream.Received);

        Assert.Contains("tollgate_semantic_questions_shared_total{direction=\"out\"} 1", await a.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
        Assert.Contains("tollgate_semantic_questions_shared_total{direction=\"in\"} 1", await b.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);

        // A replica started afterwards takes in the newest questions at start.
        await using var c = await TestGateway.StartAsync(config);
        await c.Service<SemanticCacheFollower>().SyncAsync(default);
        using var third = await SemanticCacheTests.AskAsync(c.Client, "Shop ơi, bao lâu giao hàng tới Đà Nẵng vậy ạ?");
        Assert.StartsWith("semantic", third.Headers.GetValues(ResponseCache.Header).Single(), StringComparison.Ordinal);
        Assert.Single(upstream.Received);

        // A differing number is still refused, whichever replica remembered the question.
        using var other = await SemanticCacheTests.AskAsync(c.Client, "Bao lâu thì giao hàng tới Đà Nẵng nếu đặt 3 cái?");
        Assert.Equal("miss", other.Headers.GetValues(ResponseCache.Header).Single());
    }

    [Fact]
    public async Task A_question_with_a_nul_or_a_lone_surrogate_is_shared_without_failing_the_questions_beside_it()
    {
        var source = await postgres.CreateMigratedSourceAsync();
        var (cacheA, followerA) = Replica(source, "replica-a");
        var (cacheB, followerB) = Replica(source, "replica-b");
        var questions = new Dictionary<string, string>
        {
            ["k-nul"] = "What are the opening\0hours on Sunday?",
            ["k-surrogate"] = "What is the refund \ud800 policy for shoes?",
            ["k-plain"] = "How long does delivery to Hanoi take?",
        };
        foreach (var (key, text) in questions)
        {
            cacheA.Remember(await LookAsync(cacheA, text), key);
        }

        await followerA.SyncAsync(default);
        await followerB.SyncAsync(default);

        // Each is found on the other replica by its own wording.
        foreach (var (key, text) in questions)
        {
            Assert.Equal(key, (await LookAsync(cacheB, text)).Nearest?.ExactKey);
        }
    }

    [Fact]
    public async Task Verifications_add_up_across_replicas_and_survive_a_restart()
    {
        var source = await postgres.CreateMigratedSourceAsync();
        var (cacheA, followerA) = Replica(source, "replica-a");
        var (cacheB, followerB) = Replica(source, "replica-b");

        // 20 right answers at 0.95 on each replica: neither has the 30 the bound needs before it serves there.
        for (var i = 0; i < 20; i++)
        {
            cacheA.BoundFor("m").Learn(0.95, keptAnswerWasRight: true);
            cacheB.BoundFor("m").Learn(0.955, keptAnswerWasRight: true);
        }

        Assert.Equal(BoundedDecision.Verify, cacheA.BoundFor("m").Decide(0.95));
        await followerA.SyncAsync(default);
        await followerB.SyncAsync(default);
        await followerA.SyncAsync(default);

        // Together 40, none wrong: the Wilson upper bound of 0 in 40 (0.063) is under the tolerated 0.07.
        Assert.Equal(0.95, cacheA.BoundFor("m").CurrentThreshold(), 3);
        Assert.Equal(0.95, cacheB.BoundFor("m").CurrentThreshold(), 3);

        // A restart: a new cache on replica-a's id takes the evidence in at its first round.
        var (restarted, follower) = Replica(source, "replica-a");
        Assert.Equal(1.01, restarted.BoundFor("m").CurrentThreshold(), 3);
        await follower.SyncAsync(default);
        Assert.Equal(0.95, restarted.BoundFor("m").CurrentThreshold(), 3);
    }

    [Fact]
    public async Task A_kept_answer_one_replica_found_wrong_is_not_served_by_another_at_or_below_that_similarity_nor_after_a_start()
    {
        var source = await postgres.CreateMigratedSourceAsync();
        var (cacheA, followerA) = Replica(source, "replica-a");
        var (cacheB, followerB) = Replica(source, "replica-b");
        const string Kept = "What are the opening hours of the shop on Sunday?";
        const string Reworded = "What are the opening hours of your shop on Sunday?"; // lexical similarity 0.85
        cacheA.Remember(await LookAsync(cacheA, Kept), "k-hours");
        await followerA.SyncAsync(default);
        await followerB.SyncAsync(default);

        var onA = await LookAsync(cacheA, Reworded);
        var before = await LookAsync(cacheB, Reworded);
        Assert.Equal("k-hours", before.Nearest?.ExactKey);
        Assert.Equal(onA.Similarity, before.Similarity, 6);
        Assert.NotEqual(BoundedDecision.Miss, before.Decision); // the bound would verify or serve here

        // A verification on replica A finds the kept answer wrong for the rewording.
        await cacheA.LearnAsync("m", onA, Answer("We open at 9 am on Sundays."), Answer("Refunds are paid back to your card within 30 days."), Tollgate.Ledger.Attribution.Empty, default);
        Assert.Equal(BoundedDecision.Miss, (await LookAsync(cacheA, Reworded)).Decision);
        await followerA.SyncAsync(default);
        await followerB.SyncAsync(default);

        // Replica B no longer uses that answer at or below the similarity it was wrong at; above it, it still may.
        Assert.Equal(BoundedDecision.Miss, (await LookAsync(cacheB, Reworded)).Decision);
        Assert.NotEqual(BoundedDecision.Miss, (await LookAsync(cacheB, Kept)).Decision);

        // A replica started afterwards takes the question and its mark in at its first round.
        var (cacheC, followerC) = Replica(source, "replica-c");
        await followerC.SyncAsync(default);
        var onC = await LookAsync(cacheC, Reworded);
        Assert.Equal("k-hours", onC.Nearest?.ExactKey);
        Assert.Equal(BoundedDecision.Miss, onC.Decision);
    }

    private static ReadOnlyMemory<byte> Answer(string text) =>
        System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { choices = new[] { new { message = new { role = "assistant", content = text } } } }));

    private static async Task<SemanticLookup> LookAsync(SemanticCache cache, string question)
    {
        using var body = System.Text.Json.JsonDocument.Parse(System.Text.Json.JsonSerializer.Serialize(new { model = "m", messages = new[] { new { role = "user", content = question } } }));
        return await cache.LookAsync("key:a", Tollgate.Providers.GatewayEndpoint.ChatCompletions, "m", Tollgate.Ledger.Attribution.Empty, body.RootElement, default)
            ?? throw new InvalidOperationException("not looked up");
    }

    private static (SemanticCache Cache, SemanticCacheFollower Follower) Replica(NpgsqlDataSource source, string id)
    {
        var settings = SemanticCacheSettings.Off with { Aliases = ["m"], MaxErrorRate = 0.07, Threshold = null };
        var cache = new SemanticCache(settings, new LexicalEmbedder(), shared: true);
        return (cache, new SemanticCacheFollower(cache, new PostgresSemanticCacheShare(source, id), TimeSpan.FromHours(1), TimeProvider.System, NullLogger<SemanticCacheFollower>.Instance, new Tollgate.Analytics.Metrics.GatewayMetrics()));
    }
}

/// <summary>Questions taken in from other replicas are not kept twice for one answer, however questions come and go.</summary>
public sealed class SemanticCacheAdoptionTests
{
    [Fact]
    public void Random_remembering_and_adopting_keeps_one_question_per_adopted_answer_and_the_oldest_go_first()
    {
        var random = new Random(19);
        for (var run = 0; run < 50; run++)
        {
            var settings = SemanticCacheSettings.Off with { Aliases = ["m"], Threshold = 0.9, MaxEntries = 12 };
            using var cache = new SemanticCache(settings, new LexicalEmbedder(), shared: true);
            var model = new List<(string Context, string Key)>(); // oldest first
            for (var step = 0; step < 400; step++)
            {
                var context = "c" + random.Next(2);
                var key = "k" + random.Next(20);
                var vector = new float[] { 1, random.Next(3), 0 };
                if (random.Next(2) == 0)
                {
                    cache.Remember(new SemanticLookup(context, QueryText.Of("q"), vector, BoundedDecision.Miss, 0, null) { Text = "q" }, key);
                    model.Add((context, key));
                }
                else
                {
                    cache.Adopt(new SharedQuestion(step, context, vector, "q", key));
                    if (!model.Contains((context, key)))
                    {
                        model.Add((context, key));
                    }
                }

                while (model.Count > settings.MaxEntries)
                {
                    model.RemoveAt(0);
                }

                Assert.Equal(model.Count, cache.Count);
            }
        }
    }
}

/// <summary>A shared store that fails loses only the questions it could not take; the replica goes on serving its own.</summary>
public sealed class SemanticCacheFollowerFailureTests
{
    [Fact]
    public async Task Questions_the_store_refuses_are_counted_as_lost_not_retried_and_the_next_round_goes_on()
    {
        var settings = SemanticCacheSettings.Off with { Aliases = ["m"], Threshold = 0.9 };
        using var cache = new SemanticCache(settings, new LexicalEmbedder(), shared: true);
        var share = new FailingShare();
        var metrics = new Tollgate.Analytics.Metrics.GatewayMetrics();
        using var follower = new SemanticCacheFollower(cache, share, TimeSpan.FromHours(1), TimeProvider.System, NullLogger<SemanticCacheFollower>.Instance, metrics);
        for (var i = 0; i < 3; i++)
        {
            cache.Remember(new SemanticLookup("c", QueryText.Of("q" + i), [1, i, 0], BoundedDecision.Miss, 0, null) { Text = "q" + i }, "k" + i);
        }

        await follower.SyncAsync(default);
        share.Fail = false;
        cache.Remember(new SemanticLookup("c", QueryText.Of("q3"), [1, 3, 0], BoundedDecision.Miss, 0, null) { Text = "q3" }, "k3");
        await follower.SyncAsync(default);

        Assert.Equal(["k3"], share.Appended.Select(q => q.ExactKey));
        Assert.Equal(new Dictionary<string, long> { ["lost"] = 3, ["out"] = 1, ["in"] = 0 }, metrics.SemanticQuestionsShared.ToDictionary(p => p.Key, p => p.Value));
        Assert.Equal(4, cache.Count); // this replica still has every question it remembered
    }

    [Fact]
    public async Task A_wrong_mark_the_store_refuses_is_kept_and_handed_over_at_the_next_round()
    {
        var settings = SemanticCacheSettings.Off with { Aliases = ["m"], MaxErrorRate = 0.05, Threshold = null };
        using var cache = new SemanticCache(settings, new LexicalEmbedder(), shared: true);
        var share = new FailingShare();
        var metrics = new Tollgate.Analytics.Metrics.GatewayMetrics();
        using var follower = new SemanticCacheFollower(cache, share, TimeSpan.FromHours(1), TimeProvider.System, NullLogger<SemanticCacheFollower>.Instance, metrics);
        var entry = new SemanticLookup("c", QueryText.Of("opening hours sunday"), [1, 1, 0], BoundedDecision.Miss, 0, null) { Text = "opening hours sunday" };
        cache.Remember(entry, "k1");
        var nearest = cache.Find("c", "k1");
        var lookup = new SemanticLookup("c", QueryText.Of("open sunday"), [1, 0.9f, 0], BoundedDecision.Verify, 0.93, nearest);
        await cache.LearnAsync("m", lookup, Answer("We open at 9."), Answer("Refunds take 30 days."), Tollgate.Ledger.Attribution.Empty, default);

        await Assert.ThrowsAsync<IOException>(() => follower.SyncAsync(default));
        Assert.Empty(share.Marked);
        share.Fail = false;
        await follower.SyncAsync(default);

        var mark = Assert.Single(share.Marked);
        Assert.Equal(new WrongMark("c", "k1", 0.93), mark);

        // Marks read from the store count as taken in only when they raise what this replica knew.
        share.ToReturn = [new WrongMark("c", "k1", 0.93), new WrongMark("c", "k1", 0.95), new WrongMark("c", "k2", 0.9)];
        await follower.SyncAsync(default);
        await follower.SyncAsync(default); // the same marks read again
        Assert.Equal(0.95, cache.Find("c", "k1")!.WrongAt);
        Assert.Equal(new Dictionary<string, long> { ["out"] = 1, ["in"] = 2 }, metrics.SemanticWrongMarksShared.ToDictionary(p => p.Key, p => p.Value));
    }

    [Fact]
    public void A_mark_taken_in_before_its_question_applies_to_the_question_when_it_comes()
    {
        var settings = SemanticCacheSettings.Off with { Aliases = ["m"], MaxErrorRate = 0.05, Threshold = null };
        using var cache = new SemanticCache(settings, new LexicalEmbedder(), shared: true);
        cache.AdoptMark(new WrongMark("c", "k1", 0.9));
        cache.AdoptMark(new WrongMark("c", "k1", 0.85)); // a mark only rises
        cache.Adopt(new SharedQuestion(1, "c", [1, 0, 0], "q", "k1"));
        cache.Adopt(new SharedQuestion(2, "c", [0, 1, 0], "q2", "k2"));

        Assert.Equal(0.9, cache.Find("c", "k1")!.WrongAt);
        Assert.Equal(-1, cache.Find("c", "k2")!.WrongAt);
    }

    private static ReadOnlyMemory<byte> Answer(string text) =>
        System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { choices = new[] { new { message = new { role = "assistant", content = text } } } }));

    private sealed class FailingShare : ISemanticCacheShare
    {
        public bool Fail { get; set; } = true;

        public List<SharedQuestion> Appended { get; } = [];

        public Task AppendAsync(IReadOnlyList<SharedQuestion> questions, CancellationToken cancellationToken)
        {
            if (Fail)
            {
                throw new IOException("database unreachable");
            }

            Appended.AddRange(questions);
            return Task.CompletedTask;
        }

        public Task<(IReadOnlyList<SharedQuestion> Questions, DateTimeOffset Cursor)> ReadAsync(
            DateTimeOffset? cursor, IReadOnlyCollection<long> skip, TimeSpan maxAge, int limit, CancellationToken cancellationToken) =>
            Task.FromResult<(IReadOnlyList<SharedQuestion>, DateTimeOffset)>(([], cursor ?? DateTimeOffset.UnixEpoch));

        public Task PruneAsync(TimeSpan maxAge, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<IReadOnlyDictionary<string, WrongHitBound.Evidence>> ExchangeEvidenceAsync(
            IReadOnlyDictionary<string, WrongHitBound.Evidence> added, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyDictionary<string, WrongHitBound.Evidence>>(new Dictionary<string, WrongHitBound.Evidence>());

        public List<WrongMark> Marked { get; } = [];

        public IReadOnlyList<WrongMark> ToReturn { get; set; } = [];

        public Task<(IReadOnlyList<WrongMark> Marks, DateTimeOffset Cursor)> ExchangeWrongMarksAsync(
            IReadOnlyList<WrongMark> added, DateTimeOffset? since, TimeSpan maxAge, CancellationToken cancellationToken)
        {
            if (Fail)
            {
                throw new IOException("database unreachable");
            }

            Marked.AddRange(added);
            return Task.FromResult<(IReadOnlyList<WrongMark>, DateTimeOffset)>((ToReturn, DateTimeOffset.UnixEpoch));
        }
    }
}
