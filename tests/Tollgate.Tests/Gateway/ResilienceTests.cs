using System.Diagnostics;
using System.Net;
using System.Text;
using Tollgate.FakeProviders;
using Tollgate.Gateway.Forwarding;
using Tollgate.Ledger;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>Retries, fallbacks, circuit breakers and timeouts, against fake providers that fail on purpose.</summary>
public sealed class ResilienceTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private FakeOpenAiUpstream _primary = null!;
    private FakeOpenAiUpstream _backup = null!;

    public async Task InitializeAsync()
    {
        _primary = await FakeOpenAiUpstream.StartAsync();
        _backup = await FakeOpenAiUpstream.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _primary.DisposeAsync();
        await _backup.DisposeAsync();
    }

    private static StringContent Chat(string model = "gpt-4o-mini", bool stream = false) => new(
        $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json");

    private string PrimaryOnly(string settings = "") => settings + "\nmodels:\n" + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", _primary.BaseUrl);

    private string WithBackup(string settings = "") => settings + """

        fallbacks:
          gpt-4o-mini: [backup]
        models:
        """ + "\n" + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", _primary.BaseUrl) + "\n"
        + TestGateway.Model("backup", "gpt-4o-mini", _backup.BaseUrl, "    name: backup-deployment");

    [Fact]
    public async Task A_429_with_retry_after_2_is_retried_no_sooner_than_2_seconds_later()
    {
        _primary.FaultStatus = 429;
        _primary.RetryAfter = "2";
        _primary.ScriptedFaults.Enqueue(FakeFault.ErrorStatus);
        await using var gateway = await TestGateway.StartAsync(PrimaryOnly());

        var response = await gateway.Client.PostAsync("/v1/chat/completions", Chat());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var arrivals = _primary.Received.Select(r => r.ArrivedAt).ToList();
        Assert.Equal(2, arrivals.Count);
        Assert.True(arrivals[1] - arrivals[0] >= TimeSpan.FromSeconds(2), $"retried after {arrivals[1] - arrivals[0]}");
        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Equal((RecordStatus.Ok, 2), (record.Status, record.Attempts));
    }

    [Fact]
    public async Task When_retries_run_out_the_client_gets_the_429_with_its_retry_after()
    {
        _primary.Fault = FakeFault.ErrorStatus;
        _primary.FaultStatus = 429;
        _primary.RetryAfter = "1";
        await using var gateway = await TestGateway.StartAsync(PrimaryOnly("retries:\n  max_retries: 1"));

        var response = await gateway.Client.PostAsync("/v1/chat/completions", Chat());

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Equal(2, _primary.Received.Count);
        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Equal((RecordStatus.UpstreamError, 429, 2, 0m), (record.Status, record.HttpStatus, record.Attempts, record.Cost.Total!.Value));
    }

    [Fact]
    public async Task A_retry_after_beyond_the_cap_is_not_waited_for()
    {
        _primary.Fault = FakeFault.ErrorStatus;
        _primary.FaultStatus = 429;
        _primary.RetryAfter = "120";
        await using var gateway = await TestGateway.StartAsync(PrimaryOnly());
        var stopwatch = Stopwatch.StartNew();

        var response = await gateway.Client.PostAsync("/v1/chat/completions", Chat());

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(120), response.Headers.RetryAfter?.Delta);
        Assert.Single(_primary.Received);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_connection_reset_is_retried_and_the_answer_metered_once()
    {
        _primary.ScriptedFaults.Enqueue(FakeFault.ConnectionReset);
        await using var gateway = await TestGateway.StartAsync(PrimaryOnly());

        var response = await gateway.Client.PostAsync("/v1/chat/completions", Chat(stream: true));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("data: [DONE]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Equal((RecordStatus.Ok, 2, 42L), (record.Status, record.Attempts, record.Usage.InputTokens!.Value));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_failing_primary_falls_back_to_another_deployment(bool stream)
    {
        _primary.Fault = FakeFault.ErrorStatus;
        _primary.FaultStatus = 503;
        await using var gateway = await TestGateway.StartAsync(WithBackup("retries:\n  max_retries: 1\n  base_delay_ms: 10"));

        var response = await gateway.Client.PostAsync("/v1/chat/completions", Chat(stream: stream));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("backup-deployment", response.Headers.GetValues("X-Tollgate-Model").Single());
        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Equal(("backup-deployment", "gpt-4o-mini", 3), (record.Deployment, record.Alias, record.Attempts));
    }

    [Fact]
    public async Task A_prompt_too_long_for_the_model_goes_to_the_context_window_fallback_without_retrying()
    {
        _primary.Fault = FakeFault.ErrorStatus;
        _primary.FaultStatus = 400;
        _primary.FaultCode = "context_length_exceeded";
        await using var gateway = await TestGateway.StartAsync("""
            context_window_fallbacks:
              gpt-4o-mini: [backup]
            models:
            """ + "\n" + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", _primary.BaseUrl) + "\n"
            + TestGateway.Model("backup", "gpt-4.1", _backup.BaseUrl, "    name: long-context"));

        var response = await gateway.Client.PostAsync("/v1/chat/completions", Chat());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_primary.Received);
        Assert.Equal("long-context", response.Headers.GetValues("X-Tollgate-Model").Single());
    }

    [Fact]
    public async Task A_first_byte_timeout_is_a_504_and_is_not_retried()
    {
        _primary.Fault = FakeFault.SlowFirstByte;
        _primary.FirstByteDelay = TimeSpan.FromSeconds(5);
        await using var gateway = await TestGateway.StartAsync("models:\n" + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", _primary.BaseUrl, "    timeouts: { first_byte_seconds: 0.4 }"));
        var stopwatch = Stopwatch.StartNew();

        var response = await gateway.Client.PostAsync("/v1/chat/completions", Chat());

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("first-byte timeout", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3));
        Assert.Single(_primary.Received);
        Assert.Single(await gateway.RecordsAsync(1));
    }

    [Fact]
    public async Task A_stream_that_goes_quiet_past_the_idle_timeout_ends_with_an_error_event_and_one_record()
    {
        _primary.ChunkDelay = TimeSpan.FromSeconds(1);
        await using var gateway = await TestGateway.StartAsync("models:\n" + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", _primary.BaseUrl, "    timeouts: { idle_seconds: 0.3 }"));

        var response = await gateway.Client.PostAsync("/v1/chat/completions", Chat(stream: true));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Contains("idle timeout", text, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", text, StringComparison.Ordinal);
        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Equal(RecordStatus.StreamCut, record.Status);
    }

    [Fact]
    public async Task With_every_circuit_open_the_client_gets_503_with_retry_after_and_no_call_is_made()
    {
        _primary.Fault = FakeFault.ErrorStatus;
        await using var gateway = await TestGateway.StartAsync(PrimaryOnly("retries:\n  max_retries: 0\ncircuit_breaker:\n  failures: 2\n  open_seconds: 30"));

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.InternalServerError, (await gateway.Client.PostAsync("/v1/chat/completions", Chat())).StatusCode);
        }

        var refused = await gateway.Client.PostAsync("/v1/chat/completions", Chat());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 30);
        Assert.Equal(2, _primary.Received.Count);
        Assert.Equal(2, (await gateway.RecordsAsync(2)).Count);
    }

    /// <summary>
    /// 20 clients through an outage of the primary and its recovery. The 60 s case is the literal one (one
    /// minute of the test run; clients pause 50 ms between requests to keep the ledger small); the 5 s case checks
    /// probe spacing on a finer interval.
    /// </summary>
    [Theory]
    [InlineData(5, 500, 0)]
    [InlineData(60, 5000, 50)]
    public async Task A_primary_failing_for_a_while_costs_no_answers_keeps_retries_under_20_percent_and_is_probed_once_per_interval(int outageSeconds, int openMs, int pauseMs)
    {
        _primary.Fault = FakeFault.ErrorStatus;
        var interval = TimeSpan.FromMilliseconds(openMs);
        await using var gateway = await TestGateway.StartAsync(WithBackup($"retries:\n  base_delay_ms: 20\ncircuit_breaker:\n  failures: 5\n  open_seconds: {openMs / 1000m}"));
        var outage = TimeSpan.FromSeconds(outageSeconds);
        var stopwatch = Stopwatch.StartNew();
        var start = Stopwatch.GetElapsedTime(0);
        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        var sent = 0;

        async Task ClientAsync()
        {
            while (stopwatch.Elapsed < outage + interval + TimeSpan.FromSeconds(1))
            {
                if (stopwatch.Elapsed >= outage)
                {
                    _primary.Fault = FakeFault.None;
                }

                Interlocked.Increment(ref sent);
                statuses.Add((await gateway.Client.PostAsync("/v1/chat/completions", Chat())).StatusCode);
                await Task.Delay(pauseMs);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(ClientAsync)));

        var ok = statuses.Count(s => s == HttpStatusCode.OK);
        Assert.True(ok >= 0.99 * sent, $"{ok} of {sent} succeeded");
        var health = gateway.Service<DeploymentHealth>();
        var retries = health.Budget("openai/gpt-4o-mini").Retries + health.Budget("backup-deployment").Retries;
        Assert.True(retries <= 0.2 * sent, $"{retries} retries for {sent} requests");
        output.WriteLine($"outage {outage.TotalSeconds} s: {ok} of {sent} requests succeeded, {retries} retries, {_primary.Received.Count} calls reached the primary");

        // During the outage, once the circuit opened, the primary saw one probe per interval at most. Calls admitted
        // just before it opened may reach the fake a while after (on a loaded machine, over a second), so the probes
        // are found from the end: the longest run of calls an interval apart that closes the outage. It must begin
        // early in the outage (the circuit opened soon after the primary began failing and stayed shut to all but
        // probes) and hold one probe per interval to the end; a breaker that let more through, or never opened, ends
        // the run late.
        var failing = _primary.Received.Where(r => r.ArrivedAt - start < outage - TimeSpan.FromMilliseconds(100)).Select(r => r.ArrivedAt).Order().ToList();
        var first = failing.Count - 1;
        while (first > 0 && failing[first] - failing[first - 1] >= interval - TimeSpan.FromMilliseconds(30))
        {
            first--;
        }

        var probesFrom = failing[first] - start;
        Assert.True(probesFrom <= interval + (outage / 4), $"calls an interval apart only from {probesFrom.TotalSeconds:F2} s into a {outage.TotalSeconds} s outage");
        Assert.InRange(failing.Count - first, (int)((outage - probesFrom) / interval) - 2, (int)(outage / interval) + 1);

        // Once the primary answers again, a probe closes the circuit and traffic returns to it.
        Assert.Equal(CircuitState.Closed, health.Breaker("openai/gpt-4o-mini").State);
        Assert.True(_primary.Received.Count(r => r.ArrivedAt - start > outage + interval + TimeSpan.FromMilliseconds(200)) > 10);
    }
}
