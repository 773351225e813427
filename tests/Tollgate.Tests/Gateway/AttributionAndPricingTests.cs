using System.Net;
using System.Text;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

public sealed class AttributionAndPricingTests : IAsyncLifetime
{
    private FakeOpenAiUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAiUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    private static HttpRequestMessage Chat(string body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return request;
    }

    [Fact]
    public async Task Every_attribution_field_is_recorded_from_headers_and_body_with_headers_winning()
    {
        await using var gateway = await TestGateway.StartAsync("models:\n" + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", _upstream.BaseUrl));

        await gateway.Client.SendAsync(Chat(
            """{"model":"gpt-4o-mini","user":"body-user","metadata":{"feature":"body-feature","session_id":"s-9","customer":"acme"},"messages":[{"role":"user","content":"hi"}]}""",
            ("X-User-ID", "u-42"), ("X-Cost-Center", "CC-100"), ("X-Feature", "summarise"), ("X-Project", "atlas"), ("X-Env", "prod"),
            ("X-Tags", "team=core, region=eu-west")));
        await gateway.Client.SendAsync(Chat("""{"model":"gpt-4o-mini","user":"body-user","messages":[{"role":"user","content":"hi"}]}"""));

        var records = await gateway.RecordsAsync(2);
        var first = records.Single(r => r.Attribution.User == "u-42").Attribution;
        Assert.Equal(("master", "s-9", "CC-100", "summarise", "atlas", "prod"), (first.KeyId, first.Session, first.CostCenter, first.Feature, first.Project, first.Env));
        Assert.Equal(new Dictionary<string, string> { ["customer"] = "acme", ["team"] = "core", ["region"] = "eu-west" }, first.Tags);
        Assert.Contains(records, r => r.Attribution.User == "body-user" && r.Attribution.Feature is null);
    }

    [Fact]
    public async Task A_model_with_no_known_price_is_recorded_with_cost_unknown_not_a_guess()
    {
        await using var gateway = await TestGateway.StartAsync("models:\n" + TestGateway.Model("tuned", "ft:my-private-model", _upstream.BaseUrl));

        var response = await gateway.Client.SendAsync(Chat("""{"model":"tuned","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Tollgate-Cost-USD"));
        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Null(record.Cost.Total);
        Assert.Equal(42, record.Usage.InputTokens);
        Assert.StartsWith("unknown: no catalogue price for 'ft:my-private-model'", record.PriceSource, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_config_price_override_wins_over_the_catalogue()
    {
        await using var gateway = await TestGateway.StartAsync("models:\n" + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", _upstream.BaseUrl,
            "    price: { input_per_million: 0.10, cached_input_per_million: 0.01, output_per_million: 0.50 }"));
        _upstream.Usage = new FakeUsage(1000, 100, CachedTokens: 500);

        await gateway.Client.SendAsync(Chat("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"""));

        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Equal((500 * 0.10m + 500 * 0.01m + 100 * 0.50m) / 1_000_000m, record.Cost.Total);
        Assert.Equal("config override", record.PriceSource);
    }

    [Fact]
    public async Task Imported_prices_price_a_model_the_built_in_catalogue_lacks()
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        await using var gateway = await TestGateway.StartAsync(
            "models:\n" + TestGateway.Model("codestral", "codestral-2508", _upstream.BaseUrl),
            prepareDataDirectory: data =>
            {
                Tollgate.Metering.LocalPriceCatalog.Save(data,
                    [new Tollgate.Metering.TokenPrice { Model = "codestral-2508", EffectiveFrom = today.AddDays(-1), InputPerMillion = 0.3m, OutputPerMillion = 0.9m }]);
                return Task.CompletedTask;
            });

        await gateway.Client.SendAsync(Chat("""{"model":"codestral","messages":[{"role":"user","content":"def f():"}]}"""));

        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Equal((42 * 0.3m + 17 * 0.9m) / 1_000_000m, record.Cost.Total);
    }

    [Fact]
    public async Task A_self_hosted_deployment_priced_per_hour_charges_each_request_its_share_of_gpu_time()
    {
        await using var gateway = await TestGateway.StartAsync("models:\n" + TestGateway.Model("local", "llama3.1:8b", _upstream.BaseUrl, "    price: { per_hour: 3600 }"));
        _upstream.Fault = FakeFault.SlowFirstByte;
        _upstream.FirstByteDelay = TimeSpan.FromMilliseconds(50);

        await gateway.Client.SendAsync(Chat("""{"model":"local","messages":[{"role":"user","content":"hi"}]}"""));

        // $3600 an hour is $1 a second: a lone request costs its time at the GPU, never more than its latency.
        // (The exact sharing between overlapping requests is tested with a manual clock in HourlyCostAllocatorTests.)
        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Equal("hourly share", record.PriceSource);
        Assert.True(record.Cost.Total > 0m);
        Assert.True(record.Cost.Total <= (decimal)record.LatencyMs / 1000m, $"{record.Cost.Total} > {record.LatencyMs} ms");
    }

    [Fact]
    public async Task A_litellm_config_with_an_env_key_starts_and_serves()
    {
        var yaml = $"""
            model_list:
              - model_name: gpt-4o-mini
                litellm_params:
                  model: openai/gpt-4o-mini
                  api_key: os.environ/OPENAI_API_KEY
                  api_base: {_upstream.BaseUrl}
            general_settings:
              master_key: os.environ/LITELLM_MASTER_KEY
            """;
        await using var gateway = await TestGateway.StartAsync(yaml, new Dictionary<string, string>
        {
            ["OPENAI_API_KEY"] = "sk-from-environment",
            ["LITELLM_MASTER_KEY"] = TestGateway.MasterKey,
        });

        var completion = (await gateway.OpenAiChat("gpt-4o-mini").CompleteChatAsync([new OpenAI.Chat.UserChatMessage("hi")])).Value;

        Assert.Equal(_upstream.ReplyText, completion.Content[0].Text);
        Assert.Equal("Bearer sk-from-environment", Assert.Single(_upstream.Received).Headers["Authorization"]);
        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Equal((42 * 0.15m + 17 * 0.6m) / 1_000_000m, record.Cost.Total);
    }
}
