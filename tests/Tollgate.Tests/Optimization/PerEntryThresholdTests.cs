using System.Text;
using System.Text.Json;
using Tollgate.Ledger;
using Tollgate.Optimization.SemanticCaching;
using Tollgate.Providers;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>
/// The bounded mode's per-entry threshold: once a kept answer was verified wrong for a lookup at some similarity, that
/// entry is not used again at or below it, even where the alias's bound (learnt over all entries) would serve; other
/// entries keep being served.
/// </summary>
public sealed class PerEntryThresholdTests
{
    private static readonly SemanticCacheSettings Bounded = new(["a"], [], [], "lexical", null, 0.05, 0, 0.80, 0.90, 1_000);

    private static JsonElement Ask(string question) => JsonSerializer.SerializeToElement(new
    {
        model = "a",
        messages = new object[] { new { role = "system", content = "Bạn là trợ lý của cửa hàng." }, new { role = "user", content = question } },
    });

    private static byte[] Answer(string text) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
    {
        choices = new object[] { new { index = 0, message = new { role = "assistant", content = text }, finish_reason = "stop" } },
    }));

    private static async Task<SemanticLookup> LookAsync(SemanticCache cache, string question) =>
        (await cache.LookAsync("key:1", GatewayEndpoint.ChatCompletions, "a", Attribution.Empty, Ask(question), CancellationToken.None))!;

    [Fact]
    public async Task An_entry_verified_wrong_is_not_served_again_at_that_similarity_while_other_entries_are()
    {
        var cache = new SemanticCache(Bounded, new LexicalEmbedder());

        // The alias's bound has seen 600 right answers in every similarity bin from 0.80 up: it serves there.
        for (var s = 0.805; s < 1.0; s += 0.01)
        {
            for (var i = 0; i < 600; i++)
            {
                cache.BoundFor("a").Learn(s, keptAnswerWasRight: true);
            }
        }

        cache.Remember(await LookAsync(cache, "Bao lâu thì giao hàng tới Đà Nẵng?"), "exact-shipping");
        cache.Remember(await LookAsync(cache, "Mấy giờ cửa hàng mở cửa?"), "exact-hours");
        var shipping = await LookAsync(cache, "Shop ơi, bao lâu giao hàng tới Đà Nẵng vậy?");
        var hours = await LookAsync(cache, "Shop ơi, mấy giờ cửa hàng mở cửa vậy?");
        Assert.Equal(BoundedDecision.Serve, shipping.Decision);
        Assert.Equal(BoundedDecision.Serve, hours.Decision);

        // A verification of the shipping entry finds its kept answer wrong for this question.
        await cache.LearnAsync("a", shipping, Answer("Hai ngày."), Answer("Chúng tôi không giao tới Đà Nẵng, chỉ giao nội thành Hà Nội."), Attribution.Empty, CancellationToken.None);

        var again = await LookAsync(cache, "Shop ơi, bao lâu giao hàng tới Đà Nẵng vậy?");
        Assert.Equal(shipping.Similarity, again.Similarity);
        Assert.Equal(BoundedDecision.Miss, again.Decision);
        Assert.Equal(BoundedDecision.Serve, cache.BoundFor("a").Decide(again.Similarity)); // the alias's bound alone would serve
        Assert.Equal(BoundedDecision.Serve, (await LookAsync(cache, "Shop ơi, mấy giờ cửa hàng mở cửa vậy?")).Decision);
    }
}
