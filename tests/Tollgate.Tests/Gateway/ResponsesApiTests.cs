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
/// <c>response.completed</c>, a cut stream estimated and flagged, and a hard budget that refuses it (Claude and Gemini
/// aliases: <see cref="ResponsesOverChatTests"/>).
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

    [Fact]
    public async Task A_kept_response_is_read_listed_cancelled_and_deleted_at_its_provider_by_its_caller_only()
    {
        using (var created = await RespondAsync("""{"model":"gpt-4o-mini","input":"Hi"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        using var read = await Gateway.Client.GetAsync("/v1/responses/resp_fake1");
        using var items = await Gateway.Client.GetAsync("/v1/responses/resp_fake1/input_items?limit=5&order=asc");
        using var cancelled = await Gateway.Client.PostAsync("/v1/responses/resp_fake1/cancel", null);
        using var deleted = await Gateway.Client.DeleteAsync("/v1/responses/resp_fake1");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], new[] { read.StatusCode, items.StatusCode, cancelled.StatusCode, deleted.StatusCode });
        Assert.Contains("\"status\":\"completed\"", await read.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("\"deleted\":true", await deleted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(
            ["/v1/responses", "/v1/responses/resp_fake1", "/v1/responses/resp_fake1/input_items?limit=5&order=asc", "/v1/responses/resp_fake1/cancel", "/v1/responses/resp_fake1"],
            Upstream.Received.Select(r => r.Path));
        // Every call that reached the provider has one record; only the creation is billed.
        var records = await Gateway.RecordsAsync(5);
        Assert.Equal(["responses", "responses.cancel", "responses.delete", "responses.input_items", "responses.retrieve"], records.Select(r => r.Endpoint).Order(StringComparer.Ordinal));
        Assert.All(records.Where(r => r.Endpoint != "responses"), r => Assert.Equal((0m, "not billed", RecordStatus.Ok), (r.Cost.Total!.Value, r.PriceSource, r.Status)));

        // Another key, or an id this gateway never made: 404, and the provider is not asked.
        var other = await Gateway.CreateKeyAsync("other");
        using var otherClient = new HttpClient { BaseAddress = Gateway.BaseUrl };
        otherClient.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", other);
        using var foreign = await otherClient.GetAsync("/v1/responses/resp_fake1");
        using var unknown = await Gateway.Client.GetAsync("/v1/responses/resp_unknown");
        using var malformed = await Gateway.Client.GetAsync("/v1/responses/resp%2F..%2Fx");
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(5, Upstream.Received.Count);
        Assert.Equal(5, (await Gateway.RecordsAsync(5)).Count);
    }

    [Fact]
    public async Task A_streamed_response_is_remembered_too()
    {
        using (var created = await RespondAsync("""{"model":"gpt-4o-mini","input":"Hi","stream":true}"""))
        {
            await created.Content.ReadAsStringAsync();
        }

        using var read = await Gateway.Client.GetAsync("/v1/responses/resp_fake1");

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Built_in_tool_calls_are_counted_and_priced_from_the_catalogue_whole_and_streamed(bool stream)
    {
        Upstream.Usage = new FakeUsage(2_000, 100);
        Upstream.ResponsesToolItems =
        [
            """{"type":"web_search_call","id":"ws_1","status":"completed","action":{"type":"search","query":"giá vàng"}}""",
            """{"type":"web_search_call","id":"ws_2","status":"completed","action":{"type":"search","query":"tỷ giá"}}""",
            """{"type":"file_search_call","id":"fs_1","status":"completed","queries":["hợp đồng"],"results":null}""",
            """{"type":"code_interpreter_call","id":"ci_1","status":"completed","code":"1+1","container_id":"cntr_1","outputs":[]}""",
            """{"type":"code_interpreter_call","id":"ci_2","status":"completed","code":"2+2","container_id":"cntr_1","outputs":[]}""",
            """{"type":"function_call","id":"fc_1","call_id":"c1","name":"f","arguments":"{}","status":"completed"}""",
        ];

        using var response = await RespondAsync($$$"""
            {"model":"gpt-4o-mini","input":"Tin tức hôm nay?","stream":{{{(stream ? "true" : "false")}}},"max_tool_calls":5,
             "tools":[{"type":"web_search"},{"type":"file_search","vector_store_ids":["vs_1"]},{"type":"code_interpreter","container":{"type":"auto"}},{"type":"function","name":"f","parameters":{"type":"object"}}]}
            """);
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal(new Dictionary<string, int> { ["code_interpreter"] = 1, ["file_search"] = 1, ["web_search"] = 2 }, record.Usage.ToolCalls!.OrderBy(t => t.Key).ToDictionary());
        // gpt-4o-mini tokens ($0.15 / M in, $0.60 / M out) + 2 searches at $0.01 + 1 file search at $0.0025 + 1 container at $0.03.
        Assert.Equal((2_000 * 0.15m + 100 * 0.60m) / 1_000_000m + 0.02m + 0.0025m + 0.03m, record.Cost.Total);
        // The record was read back from the ledger file: the calls are kept with it.
        Assert.Equal("code_interpreter=1;file_search=1;web_search=2", Tollgate.Metering.BuiltInToolCalls.Format(record.Usage.ToolCalls));
    }

    [Fact]
    public async Task A_web_search_preview_call_and_a_tool_without_a_catalogue_rate_are_told_apart()
    {
        Upstream.Usage = new FakeUsage(1_000, 10);
        Upstream.ResponsesToolItems = ["""{"type":"web_search_call","id":"ws_1","status":"completed"}"""];

        using var response = await RespondAsync("""{"model":"gpt-4o-mini","input":"Hi","tools":[{"type":"web_search_preview"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal(1, record.Usage.ToolCalls!["web_search_preview"]);
        Assert.Equal((1_000 * 0.15m + 10 * 0.60m) / 1_000_000m + 0.025m, record.Cost.Total);
    }

    [Fact]
    public async Task A_hard_budget_refuses_built_in_tools_without_max_tool_calls_and_holds_their_worst_case_with_it()
    {
        using var unbounded = await RespondAsync("""{"model":"gpt-4o-mini","input":"Hi","max_output_tokens":10,"tools":[{"type":"web_search"}]}""", feature: "capped");
        using var bounded = await RespondAsync("""{"model":"gpt-4o-mini","input":"Hi","max_output_tokens":10,"max_tool_calls":3,"tools":[{"type":"web_search"}]}""", feature: "capped");

        Assert.Equal(HttpStatusCode.BadRequest, unbounded.StatusCode);
        Assert.Contains("max_tool_calls", await unbounded.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The tiny budget cannot hold 3 searches at $0.01.
        Assert.Equal(HttpStatusCode.TooManyRequests, bounded.StatusCode);
        Assert.Empty(Upstream.Received);
    }

    [Theory]
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
