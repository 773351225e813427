using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>
/// OpenAI's Responses API (<c>POST /v1/responses</c>) through to an OpenAI deployment: read by the official OpenAI SDK,
/// metered exactly from the Responses usage shape (cached and reasoning tokens priced), streamed with the usage of
/// <c>response.completed</c>, a cut stream estimated and flagged, a hard budget that refuses it, and a Claude alias
/// answered with a clear 400 rather than a 404.
/// </summary>
public sealed class ResponsesApiTests : GatewayWithFakeUpstream
{
    protected override string Settings => "budgets:\n  - { name: tiny, scope: feature, value: capped, period: daily, limit_usd: 0.000001, hard: true }\n";

    protected override string Models(Uri upstream) =>
        TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream) + """
              - alias: claude
                provider: anthropic
                model: claude-haiku-4-5
                base_url: http://127.0.0.1:9/v1
                api_key: sk-ant
            """ + "\n";

    private async Task<HttpResponseMessage> RespondAsync(string body, string? feature = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (feature is not null)
        {
            request.Headers.Add("X-Feature", feature);
        }

        return await Gateway.Client.SendAsync(request);
    }

#pragma warning disable OPENAI001 // the SDK marks its Responses client experimental
    [Fact]
    public async Task The_official_sdk_gets_its_response_and_cached_and_reasoning_tokens_are_priced_exactly()
    {
        Upstream.Usage = new FakeUsage(1_000, 300, CachedTokens: 400, ReasoningTokens: 120);
        Upstream.ReplyText = "Xin chào! Tôi có thể giúp gì?";
        var client = new OpenAI.OpenAIClient(new System.ClientModel.ApiKeyCredential(TestGateway.MasterKey), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseUrl, "/v1") })
            .GetResponsesClient();

        var response = (await client.CreateResponseAsync("gpt-4o-mini", "Chào bạn")).Value;

        Assert.Equal("Xin chào! Tôi có thể giúp gì?", response.GetOutputText());
        Assert.EndsWith("/v1/responses", Assert.Single(Upstream.Received).Path, StringComparison.Ordinal);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal("responses", record.Endpoint);
        Assert.Equal((1_000L, 400L, 300L, 120L), (record.Usage.InputTokens!.Value, record.Usage.CachedInputTokens!.Value, record.Usage.OutputTokens!.Value, record.Usage.ReasoningTokens!.Value));
        Assert.False(record.Usage.Estimated);

        // gpt-4o-mini: $0.15 / M input, $0.075 / M cached input, $0.60 / M output (reasoning is output).
        Assert.Equal((600 * 0.15m / 1_000_000) + (400 * 0.075m / 1_000_000) + (300 * 0.60m / 1_000_000), record.Cost.Total);
    }
#pragma warning restore OPENAI001

    [Fact]
    public async Task A_stream_is_relayed_event_by_event_and_metered_from_response_completed()
    {
        using var response = await RespondAsync("""{"model":"gpt-4o-mini","input":[{"role":"user","content":[{"type":"input_text","text":"Hi"}]}],"stream":true}""");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("event: response.output_text.delta\n", text, StringComparison.Ordinal);
        Assert.Contains("event: response.completed\n", text, StringComparison.Ordinal);
        Assert.False(Assert.Single(Upstream.Received).Json.TryGetProperty("stream_options", out _)); // the Responses API refuses it
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal((RecordStatus.Ok, 42L, 17L, false, true), (record.Status, record.Usage.InputTokens!.Value, record.Usage.OutputTokens!.Value, record.Usage.Estimated, record.Stream));
    }

    [Fact]
    public async Task A_stream_cut_before_response_completed_is_recorded_once_estimated_and_flagged()
    {
        Upstream.Fault = FakeFault.CutStream;
        Upstream.ReplyText = string.Join(' ', Enumerable.Repeat("word", 40));

        using var response = await RespondAsync("""{"model":"gpt-4o-mini","input":"Count to forty","stream":true}""");
        await response.Content.ReadAsStringAsync();

        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal(RecordStatus.StreamCut, record.Status);
        Assert.True(record.Usage.Estimated);
        Assert.True(record.Usage.OutputTokens > 0);
    }

    [Fact]
    public async Task A_hard_budget_refuses_a_responses_call_by_its_worst_case_before_the_provider_sees_it()
    {
        using var response = await RespondAsync("""{"model":"gpt-4o-mini","input":"Write a long essay","max_output_tokens":4000}""", feature: "capped");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Contains("budget_exceeded", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(Upstream.Received);
    }

    [Theory]
    [InlineData("""{"model":"claude","input":"Hi"}""", "unsupported_endpoint")]
    [InlineData("""{"model":"gpt-4o-mini"}""", "missing_required_parameter")]
    [InlineData("""{"model":"gpt-4o-mini","input":[1,2]}""", "invalid_type")]
    [InlineData("""{"model":"gpt-4o-mini","input":"Hi","max_output_tokens":"many"}""", "invalid_type")]
    public async Task What_cannot_be_served_or_is_malformed_is_a_clear_400_and_nothing_is_forwarded(string body, string code)
    {
        using var response = await RespondAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(code, json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(Upstream.Received);
    }
}
