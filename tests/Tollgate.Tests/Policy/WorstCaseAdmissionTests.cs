using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.FakeProviders;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Policy;

/// <summary>
/// Everything the provider bills enters the worst case a hard budget or a TPM limit admits on: every choice of
/// <c>n</c>, response schemas, images, tool definitions; what cannot be bounded (a model with no price, a file) is
/// refused by a hard budget unless it allows unpriced requests.
/// </summary>
public sealed class WorstCaseAdmissionTests : IAsyncLifetime
{
    private FakeOpenAiUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAiUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    /// <summary>$10 per million tokens either way, so that a request's cost is its tokens / 100,000.</summary>
    private string Config(string settings, string extraModels = "") => $"""
        retries:
          max_retries: 0
        {settings}
        models:
        {TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", _upstream.BaseUrl, "    price: { input_per_million: 10, output_per_million: 10 }")}
        {extraModels}
        """;

    /// <summary>An alias whose model is in no price list.</summary>
    private string UnpricedModel => $"""
          - alias: private-model
            provider: openai
            model: acme-private-llm
            base_url: {_upstream.BaseUrl}
            api_key: sk-upstream-secret
        """;

    /// <summary>200 requests at once: n of 1, 5 and 16 in turn, every other one streamed; their statuses.</summary>
    private static Task<HttpStatusCode[]> SendMixAsync(HttpClient client)
    {
        int[] mix = [1, 5, 16];
        return Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var response = await client.PostAsync("/v1/chat/completions", Chat(mix[i % 3], stream: i % 2 == 0));
            await response.Content.ReadAsStringAsync();
            return response.StatusCode;
        }));
    }

    private static StringContent Chat(int choices, bool stream) => new(
        $$"""{"model":"gpt-4o-mini","n":{{choices}},"stream":{{(stream ? "true" : "false")}},"max_tokens":1000,"messages":[{"role":"user","content":"Viết một bài thơ."}]}""",
        Encoding.UTF8,
        "application/json");

    [Fact]
    public async Task Two_hundred_concurrent_requests_with_n_of_1_5_and_16_streamed_or_not_never_overspend_a_hard_budget()
    {
        // Each choice really uses 900 of its 1,000 tokens: an n=16 answer costs $0.144, 16 times what one choice reserves.
        _upstream.Usage = new FakeUsage(20, 900);
        await using var gateway = await TestGateway.StartAsync(Config("budgets:\n  - { name: all, scope: global, period: total, limit_usd: 1.00 }"));

        var responses = await SendMixAsync(gateway.Client);

        var admitted = responses.Count(s => s == HttpStatusCode.OK);
        var records = await gateway.RecordsAsync(admitted);
        var spent = records.Sum(r => r.Cost.Total ?? 0);
        Assert.Equal(admitted, records.Count);
        Assert.True(spent <= 1.00m, $"spent {spent} on {admitted} requests");
        Assert.True(spent >= 0.70m, $"only {spent} spent: the budget should bind, not starve");
        Assert.Contains(records, r => r.Usage.OutputTokens == 16 * 900);
        Assert.All(responses.Where(s => s != HttpStatusCode.OK), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
    }

    [Fact]
    public async Task Two_hundred_concurrent_requests_with_n_mixed_never_pass_a_keys_tpm_limit()
    {
        _upstream.Usage = new FakeUsage(20, 900);
        await using var gateway = await TestGateway.StartAsync(Config(""));
        using var created = await gateway.Client.PostAsync("/admin/keys", new StringContent("""{"name":"tpm","tpm":100000}""", Encoding.UTF8, "application/json"));
        var secret = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString();
        using var client = new HttpClient { BaseAddress = gateway.BaseUrl };
        client.DefaultRequestHeaders.Authorization = new("Bearer", secret);

        var responses = await SendMixAsync(client);

        var admitted = responses.Count(s => s == HttpStatusCode.OK);
        var records = await gateway.RecordsAsync(admitted);
        var tokens = records.Sum(r => (r.Usage.InputTokens ?? 0) + (r.Usage.OutputTokens ?? 0));
        Assert.True(tokens <= 100_000, $"{tokens} tokens in one minute on a 100,000 TPM key");
        Assert.True(admitted > 0);
        Assert.All(responses.Where(s => s != HttpStatusCode.OK), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
    }

    [Fact]
    public async Task A_model_with_no_price_is_refused_by_a_hard_budget_with_an_error_naming_it_and_how_to_price_it()
    {
        await using var gateway = await TestGateway.StartAsync(Config("budgets:\n  - { name: all, scope: global, period: monthly, limit_usd: 100 }", UnpricedModel));

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"private-model","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("unbounded_cost", error.GetProperty("code").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains("acme-private-llm", message, StringComparison.Ordinal);
        Assert.Contains("price", message, StringComparison.Ordinal);
        Assert.Contains("'all'", message, StringComparison.Ordinal);
        Assert.Empty(_upstream.Received);
    }

    [Fact]
    public async Task A_budget_that_allows_unpriced_requests_admits_them_and_a_soft_budget_never_refuses_them()
    {
        await using var gateway = await TestGateway.StartAsync(Config(
            "budgets:\n  - { name: all, scope: global, period: monthly, limit_usd: 100, unpriced: allow }\n  - { name: watch, scope: global, period: daily, limit_usd: 1, hard: false }",
            UnpricedModel));

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"private-model","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Null(record.Cost.Total);
    }

    [Fact]
    public async Task A_file_part_is_refused_by_a_hard_budget_because_its_tokens_cannot_be_bounded()
    {
        await using var gateway = await TestGateway.StartAsync(Config("budgets:\n  - { name: all, scope: global, period: monthly, limit_usd: 100 }"));

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0x","filename":"a.pdf"}}]}]}""",
            Encoding.UTF8,
            "application/json"));
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("unbounded_cost", error.GetProperty("code").GetString());
        Assert.Contains("messages[0].content[0]", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_without_max_tokens_to_a_model_of_unknown_maximum_output_is_refused_by_a_hard_budget()
    {
        var priced = $$"""
              - alias: custom
                provider: openai
                model: acme-llm
                base_url: {{_upstream.BaseUrl}}
                api_key: sk-upstream-secret
                price: { input_per_million: 1, output_per_million: 2 }
            """;
        await using var gateway = await TestGateway.StartAsync(Config("budgets:\n  - { name: all, scope: global, period: monthly, limit_usd: 100 }", priced));

        using var without = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"custom","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        using var with = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"custom","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, without.StatusCode);
        Assert.Contains("max_tokens", await without.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
    }

    [Fact]
    public async Task A_large_response_schema_an_image_and_every_choice_enter_the_worst_case()
    {
        await using var gateway = await TestGateway.StartAsync(Config(""));
        var schema = JsonSerializer.Serialize(new string('x', 100_000));
        var image = "data:image/png;base64," + new string('A', 100_000);

        var plain = await EstimateAsync(gateway, """{"model":"gpt-4o-mini","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}""");
        var withSchema = await EstimateAsync(gateway, $$$"""{"model":"gpt-4o-mini","max_tokens":100,"response_format":{"type":"json_schema","json_schema":{"name":"s","description":{{{schema}}}}},"messages":[{"role":"user","content":"hi"}]}""");
        var withImage = await EstimateAsync(gateway, $$$"""{"model":"gpt-4o-mini","max_tokens":100,"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"{{{image}}}"}}]}]}""");
        var sixteen = await EstimateAsync(gateway, """{"model":"gpt-4o-mini","max_tokens":100,"n":16,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.True(withSchema.GetProperty("prompt_tokens_upper_bound").GetInt64() > plain.GetProperty("prompt_tokens_upper_bound").GetInt64() + 10_000);
        // gpt-4o-mini bills an image at up to 2,833 + 8 × 5,667 tokens, whatever its bytes.
        Assert.True(withImage.GetProperty("prompt_tokens_upper_bound").GetInt64() >= 48_169);
        Assert.Equal(1600, sixteen.GetProperty("max_billed_output_tokens").GetInt64());
        Assert.Equal(
            plain.GetProperty("worst_case_cost_usd").GetDecimal() + (15 * 100 * 10m / 1_000_000m),
            sixteen.GetProperty("worst_case_cost_usd").GetDecimal());
    }

    [Fact]
    public async Task A_feature_cap_below_the_global_default_is_what_a_request_without_max_tokens_gets()
    {
        await using var gateway = await TestGateway.StartAsync(Config("""
            policies:
              max_tokens: { default: 1024 }
              features:
                tagline: { max_tokens: { cap: 30 } }
            """));

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"gpt-4o-mini","metadata":{"feature":"tagline"},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(30, Assert.Single(_upstream.Received).Json.GetProperty("max_tokens").GetInt32());
    }

    private static async Task<JsonElement> EstimateAsync(TestGateway gateway, string body)
    {
        using var response = await gateway.Client.PostAsync("/v1/cost/estimate", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }
}
