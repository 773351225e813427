using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.FakeProviders;
using Tollgate.Metering;
using Tollgate.Optimization.PromptCaching;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Optimization;

public sealed class PromptCachingTests
{
    private static readonly string LongPrompt = string.Concat(Enumerable.Repeat("Quy tắc phục vụ khách hàng: luôn lịch sự, trả lời đúng trọng tâm. ", 120));

    private static JsonElement? Apply(string json, int minTokens = 1024)
    {
        var bytes = SystemPromptCacheBreakpoint.Apply(JsonDocument.Parse(json).RootElement, minTokens);
        return bytes is null ? null : JsonDocument.Parse(bytes).RootElement;
    }

    [Fact]
    public void A_long_string_system_prompt_becomes_a_block_marked_for_the_cache()
    {
        var body = Apply(JsonSerializer.Serialize(new { model = "m", max_tokens = 10, system = LongPrompt, messages = new[] { new { role = "user", content = "hi" } } }))!.Value;

        var block = Assert.Single(body.GetProperty("system").EnumerateArray());
        Assert.Equal(LongPrompt, block.GetProperty("text").GetString());
        Assert.Equal("ephemeral", block.GetProperty("cache_control").GetProperty("type").GetString());
        Assert.Equal("hi", body.GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Fact]
    public void Only_the_last_system_block_is_marked()
    {
        var body = Apply(JsonSerializer.Serialize(new { system = new[] { new { type = "text", text = LongPrompt }, new { type = "text", text = "Today is Monday." } }, messages = Array.Empty<object>() }))!.Value;

        var blocks = body.GetProperty("system").EnumerateArray().ToList();
        Assert.False(blocks[0].TryGetProperty("cache_control", out _));
        Assert.True(blocks[1].TryGetProperty("cache_control", out _));
    }

    [Fact]
    public void Short_prompts_and_requests_that_manage_their_own_cache_are_left_alone()
    {
        Assert.Null(Apply("""{"system":"Be brief.","messages":[]}"""));
        Assert.Null(Apply(JsonSerializer.Serialize(new { system = LongPrompt, messages = new[] { new { role = "user", content = new[] { new { type = "text", text = "x", cache_control = new { type = "ephemeral" } } } } } })));
        Assert.Null(Apply("""{"messages":[]}"""));
    }

    [Fact]
    public void Savings_are_reads_at_the_cached_rate_less_the_premium_on_writes()
    {
        var sonnet = PriceCatalogReader.BuiltIn().Find("claude-sonnet-4-5", new DateOnly(2026, 11, 24))!;

        Assert.Equal(7200 * (3m - 0.3m) / 1_000_000m, CachingSavings.Of(new Usage(7230, 7200, 0, 50, null), sonnet));
        Assert.Equal(-7200 * (3.75m - 3m) / 1_000_000m, CachingSavings.Of(new Usage(7230, 0, 7200, 50, null), sonnet));
        Assert.Equal(0m, CachingSavings.Of(new Usage(30, 0, 0, 50, null), sonnet));
    }

    [Fact]
    public async Task With_the_policy_on_the_upstream_gets_the_breakpoint_and_the_ledger_shows_the_saving()
    {
        await using var upstream = await FakeAnthropicUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync($"""
            models:
              - alias: claude
                provider: anthropic
                model: claude-sonnet-4-5
                base_url: {upstream.BaseUrl}
                auto_cache_system_prompt: 1024
            """);
        var request = JsonSerializer.Serialize(new { model = "claude", max_tokens = 50, system = LongPrompt, messages = new[] { new { role = "user", content = "Xin chào" } } });

        upstream.Usage = new FakeAnthropicUsage(InputTokens: 10, OutputTokens: 20, CacheCreationTokens: 2000);
        var first = await gateway.Client.PostAsync("/v1/messages", new StringContent(request, Encoding.UTF8, "application/json"));
        upstream.Usage = new FakeAnthropicUsage(InputTokens: 10, OutputTokens: 20, CacheReadTokens: 2000);
        await gateway.Client.PostAsync("/v1/messages", new StringContent(request, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.All(upstream.Received, r => Assert.Equal("ephemeral", r.Json.GetProperty("system")[0].GetProperty("cache_control").GetProperty("type").GetString()));
        var records = (await gateway.RecordsAsync(2)).OrderBy(r => r.Timestamp).ThenBy(r => r.Id).ToList();
        Assert.Equal(-2000 * 0.75m / 1_000_000m, records.Single(r => r.Usage.CacheWriteTokens == 2000).CacheSavingsUsd);
        Assert.Equal(2000 * 2.7m / 1_000_000m, records.Single(r => r.Usage.CachedInputTokens == 2000).CacheSavingsUsd);
    }

    [Fact]
    public void The_policy_is_refused_for_providers_that_cache_by_themselves()
    {
        var ex = Assert.Throws<Tollgate.Configuration.ConfigException>(() => Tollgate.Configuration.ConfigLoader.Parse(
            "models:\n  - alias: a\n    provider: openai\n    model: gpt-4o\n    auto_cache_system_prompt: 2048\n", "t", _ => null));

        Assert.Contains(ex.Errors, e => e.StartsWith("models[0].auto_cache_system_prompt: applies to provider 'anthropic' only", StringComparison.Ordinal));
    }
}
