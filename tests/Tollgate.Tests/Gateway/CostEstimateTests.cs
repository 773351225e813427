using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.Metering.Tokenization;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

public sealed class CostEstimateTests : GatewayWithFakeUpstream
{
    private async Task<(HttpStatusCode Status, JsonElement Json)> EstimateAsync(string body)
    {
        var response = await Gateway.Client.PostAsync("/v1/cost/estimate", new StringContent(body, Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
    }

    [Fact]
    public async Task The_estimate_counts_the_prompt_exactly_and_prices_the_worst_case_without_calling_the_provider()
    {
        const string body = """{"model":"gpt-4o-mini","max_tokens":500,"messages":[{"role":"user","content":"Tóm tắt cuốn sách này giúp tôi."}]}""";

        var (status, json) = await EstimateAsync(body);

        Assert.Equal(HttpStatusCode.OK, status);
        var prompt = PromptTokenCounter.Count(JsonDocument.Parse(body).RootElement, "gpt-4o-mini").Tokens;
        Assert.Equal(prompt, json.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(prompt + PromptTokenCounter.RequestAllowance, json.GetProperty("prompt_tokens_upper_bound").GetInt64());
        Assert.True(json.GetProperty("prompt_tokens_exact").GetBoolean());
        Assert.Equal("o200k_base", json.GetProperty("tokenizer").GetString());
        Assert.Equal(500, json.GetProperty("max_output_tokens").GetInt64());
        Assert.Equal(((prompt + PromptTokenCounter.RequestAllowance) * 0.15m + 500 * 0.6m) / 1_000_000m, json.GetProperty("worst_case_cost_usd").GetDecimal());
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task Without_max_tokens_the_worst_case_uses_the_models_maximum_output()
    {
        var (_, json) = await EstimateAsync("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(16384, json.GetProperty("max_output_tokens").GetInt64());
        Assert.Equal("catalogue maximum", json.GetProperty("max_output_tokens_source").GetString());
    }

    [Fact]
    public async Task Bad_requests_get_openai_errors()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await EstimateAsync("""{"model":"nope","messages":[]}""")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await EstimateAsync("""{"model":"gpt-4o-mini"}""")).Status);
        using var anonymous = new HttpClient { BaseAddress = Gateway.BaseUrl };
        var response = await anonymous.PostAsync("/v1/cost/estimate", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
