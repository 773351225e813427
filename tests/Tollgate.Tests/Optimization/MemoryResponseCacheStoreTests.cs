using Tollgate.Metering;
using Tollgate.Optimization.ResponseCaching;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>The in-memory store keeps within its byte limit by dropping the least recently used, and never serves an expired answer.</summary>
public sealed class MemoryResponseCacheStoreTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);

    private static CachedAnswer Answer(string key, int bodyBytes, DateTimeOffset at, string tenant = "key:a", string alias = "m") =>
        new(key, tenant, alias, "d", Usage.None, "req-" + key, at, "application/json", [], new byte[bodyBytes]);

    [Fact]
    public void Past_the_limit_the_least_recently_used_go_first_and_a_lookup_counts_as_use()
    {
        var one = Answer("one", 488, Start).Bytes; // 1,000 bytes each with the fixed overhead
        var store = new MemoryResponseCacheStore(3 * one, TimeSpan.FromHours(1));
        store.Put(Answer("a", 488, Start));
        store.Put(Answer("b", 488, Start));
        store.Put(Answer("c", 488, Start));
        Assert.NotNull(store.Get("a", Start));

        store.Put(Answer("d", 488, Start));

        Assert.Null(store.Get("b", Start));
        Assert.NotNull(store.Get("a", Start));
        Assert.NotNull(store.Get("c", Start));
        Assert.NotNull(store.Get("d", Start));
        Assert.Equal((3, 3 * one), store.Size);
    }

    [Fact]
    public void An_answer_is_served_until_its_ttl_and_not_after_and_a_too_large_one_is_not_kept()
    {
        var store = new MemoryResponseCacheStore(10_000, TimeSpan.FromMinutes(10));
        store.Put(Answer("a", 10, Start));
        store.Put(Answer("huge", 20_000, Start));

        Assert.NotNull(store.Get("a", Start.AddMinutes(10).AddTicks(-1)));
        Assert.Null(store.Get("a", Start.AddMinutes(10)));
        Assert.Null(store.Get("huge", Start));
        Assert.Equal((0, 0), store.Size);
    }

    [Fact]
    public void A_purge_removes_exactly_what_every_condition_selects()
    {
        var store = new MemoryResponseCacheStore(1_000_000, TimeSpan.FromDays(1));
        store.Put(Answer("a", 10, Start, "key:a", "m"));
        store.Put(Answer("b", 10, Start.AddHours(2), "key:a", "m"));
        store.Put(Answer("c", 10, Start, "key:b", "m"));
        store.Put(Answer("d", 10, Start, "key:a", "other"));

        var purged = store.Purge(new CachePurgeFilter("key:a", "m", TimeSpan.FromHours(1)), Start.AddHours(2));

        Assert.Equal(1, purged);
        Assert.Null(store.Get("a", Start.AddHours(2)));
        Assert.All(new[] { "b", "c", "d" }, k => Assert.NotNull(store.Get(k, Start.AddHours(2))));
        Assert.Equal(3, store.Purge(new CachePurgeFilter(null, null, null), Start.AddHours(2)));
        Assert.Equal((0, 0), store.Size);
    }

    [Fact]
    public void Random_use_matches_a_plain_lru_model_and_the_byte_count_never_drifts()
    {
        var random = new Random(14);
        const long limit = 20_000;
        var store = new MemoryResponseCacheStore(limit, TimeSpan.FromDays(1));
        var model = new List<CachedAnswer>(); // most recent first
        for (var step = 0; step < 20_000; step++)
        {
            var key = "k" + random.Next(60);
            if (random.Next(3) == 0)
            {
                var answer = Answer(key, random.Next(0, 3_000), Start);
                store.Put(answer);
                model.RemoveAll(a => a.Key == key);
                model.Insert(0, answer);
                while (model.Sum(a => a.Bytes) > limit)
                {
                    model.RemoveAt(model.Count - 1);
                }
            }
            else
            {
                var expected = model.FirstOrDefault(a => a.Key == key);
                Assert.Same(expected, store.Get(key, Start));
                if (expected is not null)
                {
                    model.Remove(expected);
                    model.Insert(0, expected);
                }
            }

            Assert.Equal((model.Count, model.Sum(a => a.Bytes)), store.Size);
        }
    }
}
