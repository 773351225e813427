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
    public async Task Past_the_limit_the_least_recently_used_go_first_and_a_lookup_counts_as_use()
    {
        var one = Answer("one", 488, Start).Bytes; // 1,000 bytes each with the fixed overhead
        var store = new MemoryResponseCacheStore(3 * one, TimeSpan.FromHours(1));
        await store.PutAsync([Answer("a", 488, Start)], default);
        await store.PutAsync([Answer("b", 488, Start)], default);
        await store.PutAsync([Answer("c", 488, Start)], default);
        Assert.NotNull(await store.GetAsync("a", Start, default));

        await store.PutAsync([Answer("d", 488, Start)], default);

        Assert.Null(await store.GetAsync("b", Start, default));
        Assert.NotNull(await store.GetAsync("a", Start, default));
        Assert.NotNull(await store.GetAsync("c", Start, default));
        Assert.NotNull(await store.GetAsync("d", Start, default));
        Assert.Equal((3, 3 * one), (await store.SizeAsync(default)));
    }

    [Fact]
    public async Task An_answer_is_served_until_its_ttl_and_not_after_and_a_too_large_one_is_not_kept()
    {
        var store = new MemoryResponseCacheStore(10_000, TimeSpan.FromMinutes(10));
        await store.PutAsync([Answer("a", 10, Start)], default);
        await store.PutAsync([Answer("huge", 20_000, Start)], default);

        Assert.NotNull(await store.GetAsync("a", Start.AddMinutes(10).AddTicks(-1), default));
        Assert.Null(await store.GetAsync("a", Start.AddMinutes(10), default));
        Assert.Null(await store.GetAsync("huge", Start, default));
        Assert.Equal((0, 0), (await store.SizeAsync(default)));
    }

    [Fact]
    public async Task A_purge_removes_exactly_what_every_condition_selects()
    {
        var store = new MemoryResponseCacheStore(1_000_000, TimeSpan.FromDays(1));
        await store.PutAsync([Answer("a", 10, Start, "key:a", "m")], default);
        await store.PutAsync([Answer("b", 10, Start.AddHours(2), "key:a", "m")], default);
        await store.PutAsync([Answer("c", 10, Start, "key:b", "m")], default);
        await store.PutAsync([Answer("d", 10, Start, "key:a", "other")], default);

        var purged = await store.PurgeAsync(new CachePurgeFilter("key:a", "m", TimeSpan.FromHours(1)), Start.AddHours(2), default);

        Assert.Equal(1, purged);
        Assert.Null(await store.GetAsync("a", Start.AddHours(2), default));
        foreach (var k in new[] { "b", "c", "d" })
        {
            Assert.NotNull(await store.GetAsync(k, Start.AddHours(2), default));
        }

        Assert.Equal(3, await store.PurgeAsync(new CachePurgeFilter(null, null, null), Start.AddHours(2), default));
        Assert.Equal((0, 0), (await store.SizeAsync(default)));
    }

    [Fact]
    public async Task Random_use_matches_a_plain_lru_model_and_the_byte_count_never_drifts()
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
                await store.PutAsync([answer], default);
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
                Assert.Same(expected, await store.GetAsync(key, Start, default));
                if (expected is not null)
                {
                    model.Remove(expected);
                    model.Insert(0, expected);
                }
            }

            Assert.Equal((model.Count, model.Sum(a => a.Bytes)), (await store.SizeAsync(default)));
        }
    }
}
