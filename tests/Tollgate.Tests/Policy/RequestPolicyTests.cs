using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Policy;
using Tollgate.Providers;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Policy;

public sealed class RequestPolicyTests
{
    private static readonly RequestPolicy Policy = new(
        ["feature", "team"],
        new MaxTokensRule(Default: 1024, Cap: 4096),
        new Dictionary<string, MaxTokensRule> { ["sentiment"] = new(Default: null, Cap: 30) });

    private static Attribution Tagged(string? feature, string? team) =>
        Attribution.Empty with { Feature = feature, Tags = team is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["team"] = team } };

    private static (string? Error, JsonElement? Body) Apply(Attribution attribution, string body)
    {
        var error = RequestPolicyEnforcer.Apply(Policy, attribution, JsonDocument.Parse(body).RootElement, GatewayEndpoint.ChatCompletions, out var rewritten);
        return (error?.Message, rewritten is null ? null : JsonDocument.Parse(rewritten).RootElement);
    }

    [Fact]
    public void A_request_without_required_tags_is_refused_naming_every_missing_one()
    {
        var (error, _) = Apply(Tagged(null, null), """{"messages":[]}""");

        Assert.Contains("feature, team", error, StringComparison.Ordinal);
        Assert.Contains("X-Feature", error, StringComparison.Ordinal);

        // A custom tag has no header of its own: the hint names what the gateway reads.
        Assert.Contains("X-Tags: team=", error, StringComparison.Ordinal);
        Assert.Contains("metadata.team", error, StringComparison.Ordinal);
        Assert.DoesNotContain("X-Team", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_request_without_a_limit_gets_the_default_and_one_above_the_cap_is_lowered()
    {
        var (_, defaulted) = Apply(Tagged("chat", "core"), """{"model":"m","messages":[{"role":"user","content":"Chào 😀"}]}""");
        var (_, capped) = Apply(Tagged("chat", "core"), """{"model":"m","max_completion_tokens":100000,"messages":[]}""");
        var (_, unchanged) = Apply(Tagged("chat", "core"), """{"model":"m","max_tokens":200,"messages":[]}""");

        Assert.Equal(1024, defaulted!.Value.GetProperty("max_tokens").GetInt32());
        Assert.Equal("Chào 😀", defaulted.Value.GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Equal(4096, capped!.Value.GetProperty("max_completion_tokens").GetInt32());
        Assert.Null(unchanged);
    }

    [Fact]
    public void A_features_own_cap_wins_over_the_global_one()
    {
        var (_, capped) = Apply(Tagged("sentiment", "core"), """{"model":"m","max_tokens":1024,"messages":[]}""");

        Assert.Equal(30, capped!.Value.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public void A_policy_may_require_max_tokens_and_a_keys_default_comes_before_the_policys()
    {
        var strict = Policy with { RequireMaxTokens = true };
        var missing = RequestPolicyEnforcer.Apply(strict, Tagged("chat", "core"), JsonDocument.Parse("""{"messages":[]}""").RootElement, GatewayEndpoint.ChatCompletions, out _);
        RequestPolicyEnforcer.Apply(Policy, Tagged("chat", "core"), JsonDocument.Parse("""{"messages":[]}""").RootElement, GatewayEndpoint.ChatCompletions, out var withKeyDefault, keyDefault: 256);

        Assert.Equal("missing_max_tokens", missing?.Code);
        Assert.Equal(256, JsonDocument.Parse(withKeyDefault!).RootElement.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public void The_policy_is_read_from_config_and_checked()
    {
        var config = ConfigLoader.Parse("""
            policies:
              required_tags: [feature, cost_center]
              max_tokens: { default: 512, cap: 2048 }
              features:
                sentiment: { max_tokens: { cap: 30 } }
            models:
              - { alias: m, provider: mock, model: m }
            """, "t", _ => null);
        var bad = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("policies:\n  max_tokens: { default: 900, cap: 100 }\nmodels:\n  - { alias: m, provider: mock, model: m }\n", "t", _ => null));

        Assert.Equal(["feature", "cost_center"], config.Policy.RequiredTags);
        Assert.Equal(new MaxTokensRule(512, 30), config.Policy.RuleFor("sentiment"));
        Assert.Contains(bad.Errors, e => e.Contains("default 900 is above cap 100", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Through_the_gateway_the_provider_receives_the_capped_limit_and_untagged_requests_never_leave()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync("""
            policies:
              required_tags: [feature]
              features:
                sentiment: { max_tokens: { cap: 30 } }
            models:
            """ + "\n" + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream.BaseUrl));
        const string body = """{"model":"gpt-4o-mini","max_tokens":1024,"messages":[{"role":"user","content":"Great product!"}]}""";

        var untagged = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Feature", "sentiment");
        var tagged = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, untagged.StatusCode);
        Assert.Equal("missing_required_tags", JsonDocument.Parse(await untagged.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, tagged.StatusCode);
        Assert.Equal(30, Assert.Single(upstream.Received).Json.GetProperty("max_tokens").GetInt32());
        Assert.Equal("sentiment", Assert.Single(await gateway.RecordsAsync(1)).Attribution.Feature);
    }

    [Fact]
    public async Task A_required_custom_tag_is_satisfied_the_way_the_refusal_says()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        await using var gateway = await TestGateway.StartAsync("""
            policies:
              required_tags: [team]
            models:
            """ + "\n" + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream.BaseUrl));
        const string body = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";

        using var refused = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var hint = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString()!;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Tags", "team=growth");
        using var tagged = await gateway.Client.SendAsync(request);
        using var viaMetadata = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"gpt-4o-mini","metadata":{"team":"growth"},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));

        Assert.Contains("X-Tags: team=", hint, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, tagged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, viaMetadata.StatusCode);
    }
}
