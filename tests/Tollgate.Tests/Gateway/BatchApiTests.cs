#pragma warning disable OPENAI001 // The SDK marks its Batch API as experimental.
using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Batch;
using OpenAI.Files;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Policy.Budgets;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>
/// The Batch API through the gateway, against a fake OpenAI that runs batches: files uploaded with each line's model
/// rewritten, batches created within the creator's budget, followed across a restart, and metered line by line at batch
/// prices once they end.
/// </summary>
public sealed class BatchApiTests : IAsyncLifetime
{
    // gpt-4o-mini in the catalogue: input 0.15, cached 0.075, output 0.6; batch input 0.075, batch output 0.3 (per million).
    private const decimal BatchInput = 0.075m;
    private const decimal BatchCached = 0.0375m;
    private const decimal BatchOutput = 0.3m;
    private const decimal Input = 0.15m;
    private const decimal Cached = 0.075m;
    private const decimal Output = 0.6m;

    private FakeOpenAiUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAiUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    private string Config(string budgets = "") =>
        "batches:\n  poll_interval_seconds: 0.05\n  max_poll_interval_seconds: 0.2\n" + budgets + "models:\n" + TestGateway.Model("mini", "gpt-4o-mini", _upstream.BaseUrl);

    private static string Lines(int count, Func<int, string>? customId = null, string model = "mini") => string.Concat(Enumerable.Range(0, count).Select(i =>
        JsonSerializer.Serialize(new
        {
            custom_id = customId?.Invoke(i) ?? $"line-{i}",
            method = "POST",
            url = "/v1/chat/completions",
            body = new { model, max_tokens = 50, messages = new[] { new { role = "user", content = $"Tag product {i}: Áo dài lụa tơ tằm 👗" } } },
        }) + "\n"));

    private static OpenAIClient Sdk(TestGateway gateway, string key = TestGateway.MasterKey) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(gateway.BaseUrl, "/v1") });

    private static async Task<string> UploadAsync(TestGateway gateway, string lines, string key = TestGateway.MasterKey)
    {
        OpenAIFile file = await Sdk(gateway, key).GetOpenAIFileClient().UploadFileAsync(BinaryData.FromString(lines), "nightly.jsonl", FileUploadPurpose.Batch);
        return file.Id;
    }

    private static async Task<HttpResponseMessage> CreateAsync(HttpClient client, string fileId, string feature = "nightly") =>
        await client.PostAsync("/v1/batches", new StringContent(
            JsonSerializer.Serialize(new { input_file_id = fileId, endpoint = "/v1/chat/completions", completion_window = "24h", metadata = new { feature } }), Encoding.UTF8, "application/json"));

    private static async Task<string> StatusAsync(HttpClient client, string batchId)
    {
        using var read = await client.GetAsync("/v1/batches/" + batchId);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using var json = JsonDocument.Parse(await read.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("status").GetString()!;
    }

    private static (decimal Batch, decimal Realtime) HandPrice(int line)
    {
        var (prompt, cached, completion) = FakeOpenAiBatches.UsageOfLine(line, 50);
        return (((prompt - cached) * BatchInput + cached * BatchCached + completion * BatchOutput) / 1_000_000m,
            ((prompt - cached) * Input + cached * Cached + completion * Output) / 1_000_000m);
    }

    private static async Task<decimal> WaitForReservedAsync(TestGateway gateway, Func<decimal, bool> until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        decimal reserved;
        while (!until(reserved = gateway.Service<BudgetGuard>().Snapshot().Single().Reserved) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        return reserved;
    }

    [Fact]
    public async Task A_thousand_line_batch_is_followed_across_a_restart_and_metered_line_by_line_at_batch_prices()
    {
        _upstream.Batches.Hold = true;
        var first = await TestGateway.StartAsync(Config("budgets:\n  - { name: all, scope: global, period: monthly, limit_usd: 100, hard: true }\n"));
        string batchId;
        decimal held;
        TestGateway second;
        try
        {
            var fileId = await UploadAsync(first, Lines(1000, i => i == 10 ? "line-10-fail" : i == 20 ? "line-20-expire" : $"line-{i}"));
            var uploaded = _upstream.Batches.UploadedFiles[fileId];
            Assert.DoesNotContain("\"model\":\"mini\"", uploaded, StringComparison.Ordinal);
            Assert.Equal(1000, uploaded.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.Contains("\"model\":\"gpt-4o-mini\"", StringComparison.Ordinal)));

            var operation = await Sdk(first).GetBatchClient().CreateBatchAsync(BinaryContent.Create(BinaryData.FromString(
                JsonSerializer.Serialize(new { input_file_id = fileId, endpoint = "/v1/chat/completions", completion_window = "24h", metadata = new { feature = "nightly" } }))), waitUntilCompleted: false);
            batchId = operation.BatchId;
            held = first.Service<BudgetGuard>().Snapshot().Single().Reserved;
            Assert.True(held > 0, "the batch's worst case is held while it runs");

            // Polled while it runs: nothing recorded but the unbilled calls (upload, create).
            await Task.Delay(300);
            Assert.Equal("in_progress", await StatusAsync(first.Client, batchId));
            second = await first.RestartAsync();
        }
        catch
        {
            await first.DisposeAsync();
            throw;
        }

        await using var restarted = second;
        Assert.Equal(held, second.Service<BudgetGuard>().Snapshot().Single().Reserved);

        _upstream.Batches.Hold = false;
        Assert.Equal(0m, await WaitForReservedAsync(second, r => r == 0));

        var records = await second.RecordsAsync(1000 + 3);
        var lines = records.Where(r => r.BatchId == batchId).OrderBy(r => int.Parse(r.Id.Split('/')[1].Split('-')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(1000, lines.Count);
        Assert.All(lines, r =>
        {
            Assert.Equal("batch.chat.completions", r.Endpoint);
            Assert.Equal("nightly", r.Attribution.Feature);
            Assert.Equal("mini", r.Alias);
            Assert.Equal("gpt-4o-mini", r.UpstreamModel);
        });
        Assert.Equal((RecordStatus.UpstreamError, 400), (lines[10].Status, lines[10].HttpStatus));
        Assert.Equal(RecordStatus.Expired, lines[20].Status);
        Assert.Equal(0m, lines[10].Cost.Total);
        Assert.Equal(0m, lines[20].Cost.Total);

        var ran = Enumerable.Range(0, 1000).Where(i => i is not 10 and not 20).ToList();
        var expected = ran.Sum(i => HandPrice(i).Batch);
        var realtime = ran.Sum(i => HandPrice(i).Realtime);
        Assert.All(ran, i => Assert.Equal(HandPrice(i).Batch, lines[i].Cost.Total));
        Assert.Equal(expected, lines.Sum(r => r.Cost.Total));
        Assert.Equal(realtime - expected, lines.Sum(r => r.BatchSavedUsd ?? 0));
        Assert.Contains("batch rates", lines[0].PriceSource, StringComparison.Ordinal);
        Assert.Equal(expected, second.Service<BudgetGuard>().Snapshot().Single().Spent);

        // The report by endpoint separates batch spend, and says what batching saved.
        using var report = await second.Client.GetAsync("/admin/analytics/spend?group_by=endpoint&from=1d");
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        using var json = JsonDocument.Parse(await report.Content.ReadAsStringAsync());
        var batchRow = json.RootElement.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("group").GetString() == "batch.chat.completions");
        Assert.Equal(998, batchRow.GetProperty("requests").GetInt64() - 2);
        Assert.Equal(expected, batchRow.GetProperty("cost_usd").GetDecimal());
        Assert.Equal(realtime - expected, batchRow.GetProperty("batch_saved_usd").GetDecimal());

        var metrics = PrometheusExposition.Parse(await second.Client.GetStringAsync("/metrics"));
        Assert.Equal((double)(realtime - expected), metrics["tollgate_batch_saved_usd_total"].Samples.Single(s => s.Labels["alias"] == "mini").Value, 12);

        // The output is the creator's to download.
        using var listed = await second.Client.GetAsync("/v1/batches");
        using var list = JsonDocument.Parse(await listed.Content.ReadAsStringAsync());
        var outputId = list.RootElement.GetProperty("data")[0].GetProperty("output_file_id").GetString();
        using var output = await second.Client.GetAsync($"/v1/files/{outputId}/content");
        Assert.Equal(HttpStatusCode.OK, output.StatusCode);
        Assert.Equal(998, (await output.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task A_batch_whose_worst_case_exceeds_a_hard_budget_is_refused_at_creation()
    {
        await using var gateway = await TestGateway.StartAsync(Config("budgets:\n  - { name: tiny, scope: global, period: monthly, limit_usd: 0.001, hard: true }\n"));
        var fileId = await UploadAsync(gateway, Lines(100));

        using var refused = await CreateAsync(gateway.Client, fileId);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("budget_exceeded", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("POST /v1/batches", _upstream.Batches.Calls);
        Assert.Equal(0m, gateway.Service<BudgetGuard>().Snapshot().Single().Reserved);
    }

    [Fact]
    public async Task A_cancelled_batch_records_the_lines_it_ran_and_releases_the_rest_of_its_hold()
    {
        _upstream.Batches.Hold = true;
        _upstream.Batches.FinishedBeforeCancel = 10;
        await using var gateway = await TestGateway.StartAsync(Config("budgets:\n  - { name: all, scope: global, period: monthly, limit_usd: 100, hard: true }\n"));
        var fileId = await UploadAsync(gateway, Lines(100));
        using var created = await CreateAsync(gateway.Client, fileId);
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        using var batch = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var batchId = batch.RootElement.GetProperty("id").GetString()!;
        Assert.True(gateway.Service<BudgetGuard>().Snapshot().Single().Reserved > 0);

        using var cancelled = await gateway.Client.PostAsync($"/v1/batches/{batchId}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);

        Assert.Equal(0m, await WaitForReservedAsync(gateway, r => r == 0));
        var records = (await gateway.RecordsAsync(100 + 3)).Where(r => r.BatchId == batchId).ToList();
        Assert.Equal(100, records.Count);
        Assert.Equal(10, records.Count(r => r.Status == RecordStatus.Ok));
        Assert.Equal(90, records.Count(r => r.Status == RecordStatus.Cancelled));
        var spent = Enumerable.Range(0, 10).Sum(i => HandPrice(i).Batch);
        Assert.Equal(spent, records.Sum(r => r.Cost.Total));
        Assert.Equal(spent, gateway.Service<BudgetGuard>().Snapshot().Single().Spent);
        Assert.Equal("cancelled", await StatusAsync(gateway.Client, batchId));
    }

    [Fact]
    public async Task Files_and_batches_are_the_callers_own_and_every_call_to_the_provider_leaves_one_record()
    {
        await using var gateway = await TestGateway.StartAsync(Config());
        var alice = await gateway.CreateKeyAsync("alice");
        var bob = await gateway.CreateKeyAsync("bob");
        using var aliceClient = new HttpClient { BaseAddress = gateway.BaseUrl };
        aliceClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", alice);
        using var bobClient = new HttpClient { BaseAddress = gateway.BaseUrl };
        bobClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bob);

        var fileId = await UploadAsync(gateway, Lines(3), alice);
        using var bobsTry = await CreateAsync(bobClient, fileId);
        Assert.Equal(HttpStatusCode.NotFound, bobsTry.StatusCode);
        using var bobsRead = await bobClient.GetAsync("/v1/files/" + fileId);
        Assert.Equal(HttpStatusCode.NotFound, bobsRead.StatusCode);

        using var created = await CreateAsync(aliceClient, fileId);
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        using var batch = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var batchId = batch.RootElement.GetProperty("id").GetString()!;
        using var bobsBatch = await bobClient.GetAsync("/v1/batches/" + batchId);
        Assert.Equal(HttpStatusCode.NotFound, bobsBatch.StatusCode);
        using var bobsList = await bobClient.GetAsync("/v1/batches");
        Assert.Equal(0, JsonDocument.Parse(await bobsList.Content.ReadAsStringAsync()).RootElement.GetProperty("data").GetArrayLength());
        using var alicesList = await aliceClient.GetAsync("/v1/batches?limit=1");
        Assert.Equal(batchId, JsonDocument.Parse(await alicesList.Content.ReadAsStringAsync()).RootElement.GetProperty("data")[0].GetProperty("id").GetString());

        var records = await gateway.RecordsAsync(3 + 2);
        Assert.Equal(["batches.create", "files.upload"], records.Where(r => r.BatchId is null).Select(r => r.Endpoint).Order(StringComparer.Ordinal));
        Assert.All(records.Where(r => r.BatchId is null), r => Assert.Equal(("not billed", 0m), (r.PriceSource, r.Cost.Total)));
    }

    [Fact]
    public async Task An_upload_that_is_not_a_batch_file_is_refused_and_one_over_the_size_limit_is_a_413()
    {
        await using var gateway = await TestGateway.StartAsync("batches:\n  max_file_bytes: 2048\nmodels:\n" + TestGateway.Model("mini", "gpt-4o-mini", _upstream.BaseUrl));
        async Task<(HttpStatusCode Status, string Body)> UploadAsync(string purpose, string part, string content)
        {
            using var form = new MultipartFormDataContent { { new StringContent(purpose), "purpose" }, { new ByteArrayContent(Encoding.UTF8.GetBytes(content)), part, "in.jsonl" } };
            using var response = await gateway.Client.PostAsync("/v1/files", form);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var fineTune = await UploadAsync("fine-tune", "file", Lines(1));
        var noFile = await UploadAsync("batch", "document", Lines(1));
        var tooLarge = await UploadAsync("batch", "file", Lines(40));
        using var json = await gateway.Client.PostAsync("/v1/files", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, fineTune.Status);
        Assert.Contains("unsupported_purpose", fineTune.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noFile.Status);
        Assert.Contains("missing_file", noFile.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.Status);
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        Assert.Contains("invalid_content_type", await json.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(_upstream.Batches.Calls);
    }

    [Theory]
    [InlineData("{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"mini\",\"messages\":[]}}\n{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"mini\",\"messages\":[]}}", "duplicate_custom_id")]
    [InlineData("{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"mini\",\"messages\":[],\"stream\":true}}", "invalid_stream")]
    [InlineData("{\"custom_id\":\"a\",\"method\":\"GET\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"mini\"}}", "invalid_method")]
    [InlineData("{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/images\",\"body\":{\"model\":\"mini\"}}", "invalid_url")]
    [InlineData("{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"nope\",\"messages\":[]}}", "model_not_found")]
    [InlineData("not json", "invalid_json")]
    [InlineData("", "empty_file")]
    public async Task A_file_the_gateway_could_not_meter_is_refused_at_upload_naming_why(string content, string code)
    {
        await using var gateway = await TestGateway.StartAsync(Config());
        using var form = new MultipartFormDataContent { { new StringContent("batch"), "purpose" }, { new ByteArrayContent(Encoding.UTF8.GetBytes(content)), "file", "in.jsonl" } };

        using var refused = await gateway.Client.PostAsync("/v1/files", form);

        Assert.True(refused.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, refused.StatusCode.ToString());
        Assert.Contains(code, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("POST /v1/files", _upstream.Batches.Calls);
    }
}
