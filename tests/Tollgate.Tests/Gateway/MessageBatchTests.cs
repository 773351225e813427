using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using Anthropic.Models.Messages.Batches;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Policy.Budgets;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>
/// Anthropic's Message Batches API through the gateway with the official Anthropic SDK, against a fake that runs
/// batches: requests checked and their model rewritten, the worst case held on the budget, the batch polled to its end
/// and every result line recorded at batch prices (50% of claude-haiku-4-5's, the catalogue listing no batch rates).
/// </summary>
public sealed class MessageBatchTests : IAsyncLifetime
{
    private FakeAnthropicUpstream _upstream = null!;
    private FakeOpenAiUpstream _openAi = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeAnthropicUpstream.StartAsync();
        _openAi = await FakeOpenAiUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync($"""
            batches:
              poll_interval_seconds: 0.05
              max_poll_interval_seconds: 0.2
            budgets:
              - {"{"} name: all, scope: global, period: monthly, limit_usd: 100, hard: true {"}"}
            models:
              - alias: claude
                provider: anthropic
                model: claude-haiku-4-5
                base_url: {_upstream.BaseUrl}
                api_key: sk-ant-upstream
            {TestGateway.Model("mini", "gpt-4o-mini", _openAi.BaseUrl)}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        await _openAi.DisposeAsync();
    }

    private AnthropicClient Client() => new() { ApiKey = TestGateway.MasterKey, BaseUrl = _gateway.BaseUrl.AbsoluteUri.TrimEnd('/'), MaxRetries = 0 };

    private static BatchCreateParams Batch(int count, Func<int, string>? customId = null, string model = "claude") => new()
    {
        Requests = [.. Enumerable.Range(0, count).Select(i => new Request
        {
            CustomID = customId?.Invoke(i) ?? $"req-{i}",
            Params = new Params { Model = model, MaxTokens = 64, Messages = [new UserMessageParam($"Phân loại sản phẩm {i}: áo dài lụa")] },
        })],
    };

    private async Task<decimal> ReservedWhenAsync(Func<decimal, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        decimal reserved;
        while (!until(reserved = _gateway.Service<BudgetGuard>().Snapshot().Single().Reserved) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return reserved;
    }

    /// <summary>Request <paramref name="i"/> at half of claude-haiku-4-5's rates (input 1, cache read 0.1, cache write 1.25, output 5 per million) and at full.</summary>
    private static (decimal Batch, decimal Realtime) HandPrice(int i)
    {
        var (input, read, write, output) = FakeAnthropicBatches.UsageOfRequest(i);
        var realtime = (input * 1m + read * 0.1m + write * 1.25m + output * 5m) / 1_000_000m;
        return (realtime / 2, realtime);
    }

    [Fact]
    public async Task A_message_batch_is_polled_to_its_end_and_every_result_is_recorded_at_half_the_realtime_price()
    {
        _upstream.Batches.ReadsToFinish = 3;

        var batch = await Client().Messages.Batches.Create(Batch(200, i => i == 7 ? "req-7-error" : i == 9 ? "req-9-expire" : $"req-{i}"));

        Assert.Contains("\"model\":\"claude-haiku-4-5\"", _upstream.Batches.Created[batch.ID], StringComparison.Ordinal);
        Assert.DoesNotContain("\"model\":\"claude\"", _upstream.Batches.Created[batch.ID], StringComparison.Ordinal);
        Assert.True(_gateway.Service<BudgetGuard>().Snapshot().Single().Reserved > 0);
        Assert.Equal(0m, await ReservedWhenAsync(r => r == 0));

        var records = (await _gateway.RecordsAsync(200 + 1)).Where(r => r.BatchId == batch.ID).ToDictionary(r => r.Id.Split('/')[1]);
        Assert.Equal(200, records.Count);
        Assert.All(records.Values, r => Assert.Equal(("batch.messages", "claude", "anthropic"), (r.Endpoint, r.Alias, r.Provider)));
        Assert.Equal(RecordStatus.UpstreamError, records["req-7-error"].Status);
        Assert.Contains("max_tokens: too large", records["req-7-error"].Error, StringComparison.Ordinal);
        Assert.Equal(RecordStatus.Expired, records["req-9-expire"].Status);
        var ran = Enumerable.Range(0, 200).Where(i => i is not 7 and not 9).ToList();
        Assert.All(ran, i => Assert.Equal(HandPrice(i).Batch, records[$"req-{i}"].Cost.Total));
        var (input, read, write, output) = FakeAnthropicBatches.UsageOfRequest(3);
        Assert.Equal(new Tollgate.Metering.Usage(input + read + write, read, write, output, null), records["req-3"].Usage with { CacheWrite1hTokens = null });
        var spent = ran.Sum(i => HandPrice(i).Batch);
        Assert.Equal(spent, records.Values.Sum(r => r.Cost.Total));
        Assert.Equal(ran.Sum(i => HandPrice(i).Realtime) - spent, records.Values.Sum(r => r.BatchSavedUsd));
        Assert.Contains("batch: 50% of realtime", records["req-0"].PriceSource, StringComparison.Ordinal);
        Assert.Equal(spent, _gateway.Service<BudgetGuard>().Snapshot().Single().Spent);

        var read2 = await Client().Messages.Batches.Retrieve(batch.ID);
        Assert.Equal(ProcessingStatus.Ended, read2.ProcessingStatus.Value());
        using var results = await _gateway.Client.GetAsync($"/v1/messages/batches/{batch.ID}/results");
        Assert.Equal(200, (await results.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task A_cancelled_message_batch_releases_its_hold_and_records_its_requests_as_cancelled()
    {
        _upstream.Batches.ReadsToFinish = 1_000;
        var batch = await Client().Messages.Batches.Create(Batch(50));
        Assert.True(_gateway.Service<BudgetGuard>().Snapshot().Single().Reserved > 0);

        await Client().Messages.Batches.Cancel(batch.ID);

        Assert.Equal(0m, await ReservedWhenAsync(r => r == 0));
        var records = (await _gateway.RecordsAsync(50 + 2)).Where(r => r.BatchId == batch.ID).ToList();
        Assert.Equal(50, records.Count);
        Assert.All(records, r => Assert.Equal((RecordStatus.Cancelled, 0m), (r.Status, r.Cost.Total)));
        Assert.Equal(0m, _gateway.Service<BudgetGuard>().Snapshot().Single().Spent);
    }

    [Theory]
    [InlineData("""{"requests":[{"custom_id":"has space","params":{"model":"claude","max_tokens":5,"messages":[]}}]}""", 400, "custom_id")]
    [InlineData("""{"requests":[{"custom_id":"a","params":{"model":"claude","max_tokens":5,"messages":[],"stream":true}}]}""", 400, "cannot stream")]
    [InlineData("""{"requests":[{"custom_id":"a","params":{"model":"mini","max_tokens":5,"messages":[]}}]}""", 400, "cannot be run here")]
    [InlineData("""{"requests":[{"custom_id":"a","params":{"model":"claude","max_tokens":5,"messages":[]}},{"custom_id":"b","params":{"model":"mini","max_tokens":5,"messages":[]}}]}""", 400, "same model")]
    [InlineData("""{"requests":[]}""", 400, "1 to 50000")]
    [InlineData("""[1,2]""", 400, "requests")]
    public async Task A_message_batch_the_gateway_could_not_meter_is_refused_in_anthropics_error_shape(string body, int status, string says)
    {
        using var refused = await _gateway.Client.PostAsync("/v1/messages/batches", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)refused.StatusCode);
        using var json = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal("error", json.RootElement.GetProperty("type").GetString());
        Assert.Contains(says, json.RootElement.GetProperty("error").GetRawText(), StringComparison.Ordinal);
        Assert.Empty(_upstream.Batches.Calls);
    }

    [Fact]
    public async Task Another_keys_or_an_unknown_batch_is_not_found()
    {
        var batch = await Client().Messages.Batches.Create(Batch(2));
        var other = await _gateway.CreateKeyAsync("other");
        using var otherClient = new HttpClient { BaseAddress = _gateway.BaseUrl };
        otherClient.DefaultRequestHeaders.Add("x-api-key", other);

        using var foreign = await otherClient.GetAsync($"/v1/messages/batches/{batch.ID}");
        using var unknown = await _gateway.Client.GetAsync("/v1/messages/batches/msgbatch_nope");
        using var list = await otherClient.GetAsync("/v1/messages/batches");

        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("not_found_error", JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(0, JsonDocument.Parse(await list.Content.ReadAsStringAsync()).RootElement.GetProperty("data").GetArrayLength());
        var mine = await Client().Messages.Batches.List();
        Assert.Equal(batch.ID, Assert.Single(mine.Items).ID);
    }
}
