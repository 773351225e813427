using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.FakeProviders;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>
/// Legacy text completions (<c>POST /v1/completions</c>) through to an OpenAI-compatible host: whole and streamed, metered
/// exactly from the provider's usage (asked for on the client's behalf in a stream), a cut stream estimated and flagged,
/// and a clear 400 — never a 404 — for an alias whose provider has no such endpoint.
/// </summary>
public sealed class LegacyCompletionsTests : GatewayWithFakeUpstream
{
    protected override string Models(Uri upstream) =>
        TestGateway.Model("local", "gpt-4o-mini", upstream) + """
              - alias: claude
                provider: anthropic
                model: claude-haiku-4-5
                base_url: http://127.0.0.1:9/v1
                api_key: sk-ant
            """ + "\n";

    private Task<HttpResponseMessage> CompleteAsync(string body) =>
        Gateway.Client.PostAsync("/v1/completions", new StringContent(body, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task A_whole_completion_is_passed_through_and_recorded_at_the_providers_usage()
    {
        Upstream.ReplyText = " a quick brown fox.";
        using var response = await CompleteAsync("""{"model":"local","prompt":"Once upon a time","max_tokens":20}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("text_completion", json.RootElement.GetProperty("object").GetString());
        Assert.Equal(" a quick brown fox.", json.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        var sent = Assert.Single(Upstream.Received);
        Assert.EndsWith("/v1/completions", sent.Path, StringComparison.Ordinal);
        Assert.Equal("gpt-4o-mini", sent.Json.GetProperty("model").GetString());

        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal("completions", record.Endpoint);
        Assert.Equal((42L, 17L, false), (record.Usage.InputTokens!.Value, record.Usage.OutputTokens!.Value, record.Usage.Estimated));
        Assert.Equal((42 * 0.15m / 1_000_000) + (17 * 0.60m / 1_000_000), record.Cost.Total);
        Assert.Equal(record.Cost.Total!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues(ProxyRequestHandler.CostHeader).Single());
    }

    [Fact]
    public async Task A_stream_is_relayed_and_metered_exactly_though_the_client_did_not_ask_for_usage()
    {
        using var response = await CompleteAsync("""{"model":"local","prompt":"Once upon a time","max_tokens":20,"stream":true}""");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"object\":\"text_completion\"", text, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"usage\":{", text, StringComparison.Ordinal); // not asked for: not passed on
        Assert.True(Assert.Single(Upstream.Received).Json.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal((RecordStatus.Ok, 42L, 17L, false), (record.Status, record.Usage.InputTokens!.Value, record.Usage.OutputTokens!.Value, record.Usage.Estimated));
        Assert.True(record.Stream);
    }

    [Fact]
    public async Task A_cut_stream_is_recorded_once_with_its_usage_estimated_and_flagged()
    {
        Upstream.Fault = FakeFault.CutStream;
        Upstream.ReplyText = string.Join(' ', Enumerable.Repeat("word", 40));

        using var response = await CompleteAsync("""{"model":"local","prompt":"Count to forty","stream":true}""");
        await response.Content.ReadAsStringAsync();

        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal(RecordStatus.StreamCut, record.Status);
        Assert.True(record.Usage.Estimated);
        Assert.True(record.Usage.OutputTokens > 0);
    }

    [Theory]
    [InlineData("""{"model":"claude","prompt":"Hi"}""", "unsupported_endpoint")]
    [InlineData("""{"model":"local"}""", "missing_required_parameter")]
    [InlineData("""{"model":"local","prompt":[{"text":"Hi"}]}""", "invalid_type")]
    [InlineData("""{"model":"local","prompt":"Hi","n":3,"best_of":2}""", "invalid_value")]
    [InlineData("""{"model":"local","prompt":"Hi","logprobs":"5"}""", "invalid_type")]
    public async Task What_a_host_cannot_serve_or_a_malformed_request_is_a_clear_400_and_nothing_is_forwarded(string body, string code)
    {
        using var response = await CompleteAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(code, json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task The_model_list_says_which_endpoints_each_alias_serves_and_the_official_sdk_still_reads_it()
    {
        using var json = JsonDocument.Parse(await Gateway.Client.GetStringAsync("/v1/models"));
        var endpoints = json.RootElement.GetProperty("data").EnumerateArray()
            .ToDictionary(m => m.GetProperty("id").GetString()!, m => m.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()!).ToArray());

        Assert.Equal(["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/batches"], endpoints["local"]);
        Assert.Equal(["/v1/chat/completions", "/v1/messages", "/v1/responses", "/v1/messages/batches"], endpoints["claude"]);
        var client = new OpenAI.OpenAIClient(new System.ClientModel.ApiKeyCredential(TestGateway.MasterKey), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseUrl, "/v1") });
        var models = (await client.GetOpenAIModelClient().GetModelsAsync()).Value;
        Assert.Equal(["claude", "local"], models.Select(m => m.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Null_numbers_mean_their_defaults()
    {
        using var response = await CompleteAsync("""{"model":"local","prompt":"Hi","best_of":null,"n":null,"max_tokens":null,"logprobs":null}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void Best_of_and_a_prompt_array_multiply_the_completions_billed()
    {
        using var body = JsonDocument.Parse("""{"prompt":["a","b","c"],"n":2,"best_of":4}""");

        Assert.Equal(12, RequestFields.Choices(body.RootElement));
    }
}
