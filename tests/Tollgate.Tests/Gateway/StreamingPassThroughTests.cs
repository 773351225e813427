using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>Byte-level checks with a plain HTTP client: what the client gets is what the provider sent.</summary>
public sealed class StreamingPassThroughTests : GatewayWithFakeUpstream
{
    private async Task<(HttpResponseMessage Response, string Body)> PostAsync(string json)
    {
        var response = await Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));
        return (response, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_stream_whose_client_did_not_ask_for_usage_gets_no_usage_chunk_yet_is_metered_exactly()
    {
        Upstream.Usage = new FakeUsage(77, 12, CachedTokens: 64);

        var (response, body) = await PostAsync("""{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("prompt_tokens", body, StringComparison.Ordinal);
        // Every event the provider sent, except the usage chunk it added for us, arrives byte for byte and in order.
        var expected = Upstream.LastStreamEvents.Where(e => !e.Contains("\"usage\":{", StringComparison.Ordinal)).ToList();
        Assert.Equal(string.Concat(expected), string.Concat(DataEvents(body)));
        Assert.Matches(@": tollgate cost_usd=0\.\d+\n\ndata: \[DONE\]\n\n$", body);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal(new Tollgate.Metering.Usage(77, 64, null, 12, 0), record.Usage);
        Assert.Equal((13 * 0.15m + 64 * 0.075m + 12 * 0.6m) / 1_000_000m, record.Cost.Total);
        Assert.Contains($"cost_usd={record.Cost.Total}", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_whose_client_asked_for_usage_gets_the_providers_usage_chunk()
    {
        var (_, body) = await PostAsync("""{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(string.Concat(Upstream.LastStreamEvents), string.Concat(DataEvents(body)));
        Assert.Contains("\"usage\":{\"prompt_tokens\":42", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fields_theGateway_does_not_interpret_reach_the_provider_and_the_answer_reaches_the_client_unchanged()
    {
        const string request = """
            {"model":"gpt-4o-mini","messages":[{"role":"system","content":"Trả lời bằng tiếng Việt."},{"role":"user","content":"Chào 😀"}],
             "tools":[{"type":"function","function":{"name":"lookup","description":"d","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}],
             "tool_choice":"auto","response_format":{"type":"json_object"},"logprobs":true,"top_logprobs":2,"seed":7,"n":1,
             "temperature":0.25,"parallel_tool_calls":false,"prediction":null,"x_custom":[1,"two",{"three":3.0}]}
            """;

        var (response, body) = await PostAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Encoding.UTF8.GetString(Upstream.LastResponseBody), body);
        var sent = JsonDocument.Parse(request).RootElement;
        var received = Assert.Single(Upstream.Received);
        var receivedText = Encoding.UTF8.GetString(received.Body);
        foreach (var property in sent.EnumerateObject().Where(p => p.Name != "model"))
        {
            Assert.Equal(property.Value.GetRawText(), received.Json.GetProperty(property.Name).GetRawText());
        }

        Assert.Contains("Trả lời bằng tiếng Việt.", receivedText, StringComparison.Ordinal);
        Assert.Contains("😀", receivedText, StringComparison.Ordinal);
        Assert.Equal("gpt-4o-mini", response.Headers.GetValues("X-Tollgate-Model").Single().Split('/')[1]);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal(record.Id, response.Headers.GetValues("X-Request-ID").Single());
        Assert.Equal(record.Cost.Total!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("X-Tollgate-Cost-USD").Single());
    }

    [Fact]
    public async Task Rate_limit_headers_pass_through_and_the_providers_request_id_is_kept_apart()
    {
        var (json, _) = await PostAsync("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""");
        var (stream, _) = await PostAsync("""{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        foreach (var response in new[] { json, stream })
        {
            Assert.Equal("4999", response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
            Assert.Equal("req_upstream_42", response.Headers.GetValues("X-Upstream-Request-ID").Single());
            Assert.StartsWith("req_0", response.Headers.GetValues("X-Request-ID").Single(), StringComparison.Ordinal);
            Assert.False(response.Headers.Contains("openai-organization"));
        }
    }

    [Fact]
    public async Task A_server_that_ignores_stream_true_is_answered_as_json_and_metered()
    {
        Upstream.IgnoresStream = true;

        var (response, body) = await PostAsync("""{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Encoding.UTF8.GetString(Upstream.LastResponseBody), body);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal((RecordStatus.Ok, 42L, false), (record.Status, record.Usage.InputTokens!.Value, record.Usage.Estimated));
    }

    [Fact]
    public async Task A_stream_cut_by_the_provider_ends_with_an_error_event_and_an_estimated_record()
    {
        Upstream.Fault = FakeFault.CutStream;
        Upstream.ReplyText = "one two three four five six seven eight nine ten";

        const string request = """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"count to ten"}]}""";
        var (_, body) = await PostAsync(request);

        Assert.True(body.Contains("data: {\"error\":", StringComparison.Ordinal), body);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal(RecordStatus.StreamCut, record.Status);
        Assert.True(record.Usage.Estimated);
        Assert.Equal(Tollgate.Metering.Tokenization.PromptTokenCounter.Count(JsonDocument.Parse(request).RootElement, "gpt-4o-mini").Tokens, record.Usage.InputTokens);
        Assert.True(record.Usage.OutputTokens > 0);
        Assert.True(record.Cost.Total > 0);
    }

    [Fact]
    public async Task AnUpstream_that_reports_no_usage_is_estimated_and_flagged()
    {
        Upstream.ReportsUsage = false;

        await PostAsync("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello there, how are you doing today?"}]}""");
        await PostAsync("""{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hello there, how are you doing today?"}]}""");

        var records = await Gateway.RecordsAsync(2);
        Assert.Equal(2, records.Count);
        Assert.All(records, r =>
        {
            Assert.Equal(RecordStatus.Ok, r.Status);
            Assert.True(r.Usage.Estimated);
            Assert.True(r.Usage.InputTokens > 0 && r.Usage.OutputTokens > 0);
        });
    }

    [Fact]
    public async Task Embeddings_are_forwarded_and_priced_on_their_input_tokens()
    {
        Upstream.Usage = new FakeUsage(1000, 0);
        await using var gateway = await TestGateway.StartAsync("models:\n" + TestGateway.Model("embed", "text-embedding-3-small", Upstream.BaseUrl));

        var response = await gateway.Client.PostAsync("/v1/embeddings", new StringContent("""{"model":"embed","input":["a","b"]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(Encoding.UTF8.GetString(Upstream.LastResponseBody), await response.Content.ReadAsStringAsync());
        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Equal("embeddings", record.Endpoint);
        Assert.Equal(1000 * 0.02m / 1_000_000m, record.Cost.Total);
    }

    /// <summary>The data events of a response, without the gateway's own comment lines.</summary>
    private static IEnumerable<string> DataEvents(string body) =>
        body.Split("\n\n").Where(e => e.StartsWith("data:", StringComparison.Ordinal)).Select(e => e + "\n\n");
}
