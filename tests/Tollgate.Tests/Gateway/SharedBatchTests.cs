using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Files;
using Tollgate.FakeProviders;
using Tollgate.Policy.Budgets;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>
/// Behind a load balancer a client's calls land on any replica: a file uploaded through one is batched through the
/// other, the batch is read, listed and seen to end through either, its lines are recorded once, and the replica that
/// holds its budget settles the hold to what they cost even when the other saw the end.
/// </summary>
[Collection("postgres")]
public sealed class SharedBatchTests(PostgresServer postgres) : IAsyncLifetime
{
    private FakeOpenAiUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAiUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task A_batch_made_through_one_replica_is_read_listed_and_settled_through_the_other()
    {
        _upstream.Batches.Hold = true;
        var database = await postgres.CreateDatabaseAsync();
        var config = $"storage:\n  postgres: \"{database}\"\nbatches:\n  poll_interval_seconds: 0.05\n  max_poll_interval_seconds: 0.2\n"
            + "budgets:\n  - { name: all, scope: global, period: monthly, limit_usd: 100, hard: true }\n"
            + "models:\n" + TestGateway.Model("mini", "gpt-4o-mini", _upstream.BaseUrl);
        await using var a = await TestGateway.StartAsync(config);
        await using var b = await TestGateway.StartAsync(config);
        var lines = string.Concat(Enumerable.Range(0, 100).Select(i => JsonSerializer.Serialize(new
        {
            custom_id = $"line-{i}",
            method = "POST",
            url = "/v1/chat/completions",
            body = new { model = "mini", max_tokens = 50, messages = new[] { new { role = "user", content = $"Tag product {i}" } } },
        }) + "\n"));

        var sdk = new OpenAIClient(new ApiKeyCredential(TestGateway.MasterKey), new OpenAIClientOptions { Endpoint = new Uri(a.BaseUrl, "/v1") });
        OpenAIFile file = await sdk.GetOpenAIFileClient().UploadFileAsync(BinaryData.FromString(lines), "nightly.jsonl", FileUploadPurpose.Batch);
        using var created = await b.Client.PostAsync("/v1/batches", new StringContent(
            JsonSerializer.Serialize(new { input_file_id = file.Id, endpoint = "/v1/chat/completions", completion_window = "24h" }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var batchId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        var held = b.Service<BudgetGuard>().Snapshot().Single().Reserved;
        Assert.True(held > 0);
        Assert.Equal(0m, a.Service<BudgetGuard>().Snapshot().Single().Reserved);

        Assert.Equal("in_progress", await StatusAsync(a, batchId));
        using (var list = JsonDocument.Parse(await a.Client.GetStringAsync("/v1/batches")))
        {
            Assert.Contains(batchId, list.RootElement.GetProperty("data").EnumerateArray().Select(x => x.GetProperty("id").GetString()));
        }

        // It ends; replica A reads it first and records its lines; B, which holds the budget, settles its hold.
        _upstream.Batches.Hold = false;
        Assert.Equal("completed", await StatusAsync(a, batchId));
        var records = (await a.RecordsAsync(100 + 3)).Where(r => r.BatchId == batchId).ToList();
        Assert.Equal(100, records.Count);
        Assert.Equal(100, records.Select(r => r.Id).Distinct().Count());
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (b.Service<BudgetGuard>().Snapshot().Single().Reserved != 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var spent = records.Sum(r => r.Cost.Total!.Value);
        Assert.Equal(0m, b.Service<BudgetGuard>().Snapshot().Single().Reserved);
        deadline = DateTime.UtcNow.AddSeconds(5);
        while (new[] { a, b }.Any(g => g.Service<BudgetGuard>().Snapshot().Single().Spent != spent) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.All(new[] { a, b }, g => Assert.Equal(spent, g.Service<BudgetGuard>().Snapshot().Single().Spent));
        Assert.Equal("completed", await StatusAsync(b, batchId));
        Assert.Equal(100, (await b.RecordsAsync(100 + 3)).Count(r => r.BatchId == batchId));
    }

    private static async Task<string> StatusAsync(TestGateway gateway, string batchId)
    {
        using var read = await gateway.Client.GetAsync("/v1/batches/" + batchId);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using var json = JsonDocument.Parse(await read.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("status").GetString()!;
    }
}
