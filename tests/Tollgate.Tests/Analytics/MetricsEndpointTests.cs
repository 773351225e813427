using System.Net;
using System.Text;
using Tollgate.Analytics.Metrics;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Analytics;

/// <summary><c>/metrics</c> passes a strict reading of the Prometheus text format, and its figures agree with the ledger.</summary>
public sealed class MetricsEndpointTests : GatewayWithFakeUpstream
{
    private const string Body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    protected override string Settings => """
        budgets:
          - { name: monthly-all, scope: global, period: monthly, limit_usd: 100, hard: false }

        """;

    protected override string Models(Uri upstream) => TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream, "    rpm: 3");

    private async Task<HttpResponseMessage> PostAsync(string body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        var response = await Gateway.Client.SendAsync(request);
        await response.Content.ReadAsStringAsync();
        return response;
    }

    [Fact]
    public async Task The_scrape_is_valid_exposition_format_and_matches_the_ledger()
    {
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(Body, "k1")).StatusCode);
        Assert.Equal("true", (await PostAsync(Body, "k1")).Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(Body.Replace("{\"model\"", "{\"stream\":true,\"model\"", StringComparison.Ordinal))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(Body)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PostAsync(Body)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync("{not json")).StatusCode);
        var records = await Gateway.RecordsAsync(3);

        var response = await Gateway.Client.GetAsync("/metrics");
        var families = PrometheusExposition.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        double Value(string family, string metric, params (string Name, string Value)[] labels) =>
            families[family].Samples.Single(s => s.Name == metric && labels.All(l => s.Labels.GetValueOrDefault(l.Name) == l.Value)).Value;
        Assert.Equal(("counter", "histogram", "gauge"), (families["tollgate_requests_total"].Type, families["tollgate_gateway_overhead_seconds"].Type, families["tollgate_budget_remaining_usd"].Type));
        Assert.Equal(3, Value("tollgate_requests_total", "tollgate_requests_total", ("status", "ok"), ("alias", "gpt-4o-mini")));
        Assert.Equal(records.Sum(r => r.Usage.InputTokens!.Value), Value("tollgate_tokens_total", "tollgate_tokens_total", ("kind", "input")));
        Assert.Equal(records.Sum(r => r.Usage.OutputTokens!.Value), Value("tollgate_tokens_total", "tollgate_tokens_total", ("kind", "output")));
        Assert.Equal((double)records.Sum(r => r.Cost.Total!.Value), Value("tollgate_cost_usd_total", "tollgate_cost_usd_total"), 12);
        Assert.Equal(1, Value("tollgate_cache_hits_total", "tollgate_cache_hits_total", ("cache", "idempotency")));
        Assert.Equal(1, Value("tollgate_rejections_total", "tollgate_rejections_total", ("reason", "rate_limit_exceeded")));
        Assert.Equal(1, Value("tollgate_rejections_total", "tollgate_rejections_total", ("reason", "invalid_json")));
        Assert.Equal(3, Value("tollgate_request_duration_seconds", "tollgate_request_duration_seconds_count", ("deployment", "openai/gpt-4o-mini")));

        // The gateway's own time, by stage, for each forwarded request (the journal wait of the two whole answers: the
        // stream's record is journaled inside its relay, in the provider's time); the stages add up to the overhead.
        var stageSum = 0.0;
        foreach (var (stage, count) in new[] { ("admission", 3), ("journal", 2), ("reply", 3) })
        {
            Assert.Equal(count, Value("tollgate_gateway_stage_seconds", "tollgate_gateway_stage_seconds_count", ("stage", stage)));
            stageSum += Value("tollgate_gateway_stage_seconds", "tollgate_gateway_stage_seconds_sum", ("stage", stage));
        }

        Assert.Equal(Value("tollgate_gateway_overhead_seconds", "tollgate_gateway_overhead_seconds_sum", ("deployment", "openai/gpt-4o-mini")), stageSum, 6);
        Assert.InRange(Value("tollgate_gc_collections_total", "tollgate_gc_collections_total", ("generation", "0")), 0, double.MaxValue);
        Assert.InRange(Value("tollgate_gc_pause_seconds_total", "tollgate_gc_pause_seconds_total"), 0, double.MaxValue);
        Assert.Equal("gauge", families["tollgate_threadpool_queue_length"].Type);
        Assert.Equal((double)(100 - records.Sum(r => r.Cost.Total!.Value)), Value("tollgate_budget_remaining_usd", "tollgate_budget_remaining_usd", ("budget", "monthly-all")), 12);
    }

    [Fact]
    public async Task Metrics_need_the_master_key()
    {
        using var anonymous = new HttpClient { BaseAddress = Gateway.BaseUrl };

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public void Label_values_with_quotes_backslashes_and_line_breaks_are_escaped_and_read_back_the_same()
    {
        var writer = new PrometheusTextWriter();
        writer.Family("x_total", "counter", "help with \\ and\na line break");
        writer.Sample("x_total", [("alias", "a\"b\\c\nd"), ("kind", "ünïcode 👋")], 2.5);
        var histogram = new Histogram([0.1, 1]);
        histogram.Observe(0.05);
        histogram.Observe(5);
        writer.Family("y_seconds", "histogram", "h");
        writer.Histogram("y_seconds", [("d", "x")], histogram);

        var families = PrometheusExposition.Parse(writer.ToString());

        var sample = Assert.Single(families["x_total"].Samples);
        Assert.Equal(("a\"b\\c\nd", "ünïcode 👋", 2.5), (sample.Labels["alias"], sample.Labels["kind"], sample.Value));
        Assert.Equal([1, 1, 2], families["y_seconds"].Samples.Where(s => s.Name == "y_seconds_bucket").Select(s => s.Value));
    }

    [Theory]
    [InlineData("x 1")]
    [InlineData("# TYPE x counter\nx{a=\"1\"} one\n")]
    [InlineData("# TYPE x counter\nx{a=1} 1\n")]
    [InlineData("# TYPE x counter\nx{a=\"\\t\"} 1\n")]
    [InlineData("# TYPE x counter\nx 1\n# TYPE x counter\n")]
    [InlineData("# TYPE x counter\nx{a=\"1\"} 1\n# TYPE y gauge\ny 1\nx{a=\"2\"} 1\n")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n")]
    public void The_reader_rejects_what_prometheus_would(string text)
    {
        Assert.Throws<FormatException>(() => PrometheusExposition.Parse(text));
    }
}
