using System.Text;
using Tollgate.FakeProviders;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Analytics;

/// <summary>With <c>telemetry.otlp_endpoint</c> set, each request reaches a collector as a span with the GenAI attributes and its exact cost, and as GenAI metrics.</summary>
public sealed class OpenTelemetryTests
{
    [Fact]
    public async Task A_request_is_exported_as_a_genai_span_with_its_usage_cost_and_attribution_and_as_metrics()
    {
        await using var collector = await OtlpReceiver.StartAsync();
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        upstream.Usage = new FakeUsage(1_000, 200, CachedTokens: 400);
        await using var gateway = await TestGateway.StartAsync(
            $"telemetry:\n  otlp_endpoint: {collector.BaseUrl}\n  export_interval_ms: 200\n  service_name: tollgate-test\n"
            + "models:\n" + TestGateway.Model("mini", "gpt-4o-mini", upstream.BaseUrl));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"mini","max_tokens":300,"user":"người-dùng-7","messages":[{"role":"user","content":"Xin chào"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Feature", "support");
        request.Headers.Add("X-Tags", "team=growth");
        using var response = await gateway.Client.SendAsync(request);
        var requestId = response.Headers.GetValues("X-Request-ID").Single();
        var record = Assert.Single(await gateway.RecordsAsync(1));

        var deadline = DateTime.UtcNow.AddSeconds(10);
        (string Name, IReadOnlyDictionary<string, object> Attributes) span = default;
        while (DateTime.UtcNow < deadline && (span = collector.Spans.FirstOrDefault(s => s.Attributes.TryGetValue("tollgate.request_id", out var id) && (string)id == requestId)).Attributes is null)
        {
            await Task.Delay(50);
        }

        Assert.Equal("chat mini", span.Name);
        var a = span.Attributes ?? throw new Xunit.Sdk.XunitException($"no span for {requestId} reached the collector ({collector.Spans.Count} spans)");
        Assert.Equal(("chat", "openai", "mini", "gpt-4o-mini"), ((string)a["gen_ai.operation.name"], (string)a["gen_ai.provider.name"], (string)a["gen_ai.request.model"], (string)a["gen_ai.response.model"]));
        Assert.Equal((1_000L, 200L, 300L, 400L), ((long)a["gen_ai.usage.input_tokens"], (long)a["gen_ai.usage.output_tokens"], (long)a["gen_ai.request.max_tokens"], (long)a["tollgate.usage.cached_input_tokens"]));
        Assert.Equal(record.Cost.Total!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), (string)a["tollgate.cost_usd.exact"]);
        Assert.Equal((double)record.Cost.Total!.Value, (double)a["tollgate.cost_usd"], 12);
        Assert.Equal(("support", "người-dùng-7", "growth", "req_upstream_42"), ((string)a["tollgate.feature"], (string)a["tollgate.user"], (string)a["tollgate.tag.team"], (string)a["gen_ai.response.id"]));

        deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && !new[] { "gen_ai.client.token.usage", "gen_ai.client.operation.duration", "tollgate.cost" }.All(collector.MetricNames.ContainsKey))
        {
            await Task.Delay(50);
        }

        Assert.Contains("gen_ai.client.token.usage", collector.MetricNames.Keys);
        Assert.Contains("gen_ai.client.operation.duration", collector.MetricNames.Keys);
        Assert.Contains("tollgate.cost", collector.MetricNames.Keys);
    }
}
