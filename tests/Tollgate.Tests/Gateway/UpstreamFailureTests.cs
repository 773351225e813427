using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>Every request that reached (or tried to reach) a provider leaves exactly one record, whatever happened.</summary>
public sealed class UpstreamFailureTests : GatewayWithFakeUpstream
{
    private Task<HttpResponseMessage> PostAsync(bool stream) => Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
        "{\"model\":\"gpt-4o-mini\",\"stream\":" + (stream ? "true" : "false") + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", Encoding.UTF8, "application/json"));

    [Theory]
    [InlineData(500, false)]
    [InlineData(429, false)]
    [InlineData(503, true)]
    public async Task A_provider_error_is_passed_to_the_client_and_recorded_at_zero_cost(int status, bool stream)
    {
        Upstream.Fault = FakeFault.ErrorStatus;
        Upstream.FaultStatus = status;

        var response = await PostAsync(stream);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Contains("Injected failure", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal((RecordStatus.UpstreamError, status, 0m), (record.Status, record.HttpStatus, record.Cost.Total!.Value));
    }

    [Fact]
    public async Task A_providers_429_reaches_the_client_with_its_retry_after()
    {
        Upstream.Fault = FakeFault.ErrorStatus;
        Upstream.FaultStatus = 429;

        var response = await PostAsync(stream: false);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task A_client_that_leaves_mid_stream_leaves_exactly_one_record()
    {
        Upstream.ChunkDelay = TimeSpan.FromMilliseconds(100);
        Upstream.ReplyText = string.Join(' ', Enumerable.Repeat("word", 40));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"talk\"}]}", Encoding.UTF8, "application/json"),
        };

        using (var response = await Gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[256];
            Assert.True(await body.ReadAsync(buffer) > 0);
        }

        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal(RecordStatus.ClientCancelled, record.Status);
        Assert.True(record.Usage.Estimated);
        Assert.True(record.Usage.InputTokens > 0);
        Assert.True(record.Cost.Total > 0);
    }

    [Fact]
    public async Task An_unreachable_provider_is_a_502_in_openai_shape_and_one_record()
    {
        var closedPort = FreePort();
        await using var gateway = await TestGateway.StartAsync("models:\n" + TestGateway.Model("gone", "gpt-4o-mini", new Uri($"http://127.0.0.1:{closedPort}/v1")));

        var response = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent("{\"model\":\"gone\",\"messages\":[]}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_error", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Equal((RecordStatus.UpstreamError, 0m), (record.Status, record.Cost.Total!.Value));
        Assert.False(record.Usage.IsReported);
    }

    [Fact]
    public async Task A_provider_answering_broken_json_is_passed_through_and_estimated()
    {
        Upstream.Fault = FakeFault.BadJson;

        var response = await PostAsync(stream: false);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.True(record.Usage.Estimated);
    }

    [Fact]
    public async Task Records_still_queued_at_shutdown_are_written_before_the_process_stops()
    {
        const int requests = 40;
        await Task.WhenAll(Enumerable.Range(0, requests).Select(i => PostAsync(stream: i % 2 == 0)));

        var records = await Gateway.StopAndReadAsync();

        Assert.Equal(requests, records.Count);
        Assert.Equal(requests, records.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task Stopping_with_streams_in_flight_lets_them_finish_and_records_every_one()
    {
        Upstream.ChunkDelay = TimeSpan.FromMilliseconds(40);
        Upstream.ReplyText = string.Join(' ', Enumerable.Repeat("token", 20));
        var streams = Enumerable.Range(0, 10).Select(_ => PostAsync(stream: true).ContinueWith(t => t.Result.Content.ReadAsStringAsync()).Unwrap()).ToList();
        for (var waited = 0; Upstream.Received.Count < 10 && waited < 10_000; waited += 10)
        {
            await Task.Delay(10);
        }

        var records = await Gateway.StopAndReadAsync();

        Assert.All(await Task.WhenAll(streams), body => Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal));
        Assert.Equal(10, records.Count);
        Assert.All(records, r => Assert.Equal(RecordStatus.Ok, r.Status));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
