using Tollgate.Analytics;
using Tollgate.Cli;
using Xunit;

namespace Tollgate.Tests.Cli;

/// <remarks>Its tests capture the process-wide console: they run apart from the other class that does.</remarks>
[Collection("console")]
public sealed class CliTests
{
    private static readonly SpendRow[] Rows =
    [
        new("gpt-4o-mini", 3, 300, 100, 0, 90, 0, 0.0000123456789m, 0, 1) { CacheSavingsUsd = 0.0000075m },
        new("team, \"core\"", 1, 10, 0, 0, 5, 0, 1.5m, 0, 0),
    ];

    [Fact]
    public void Csv_carries_exact_costs_and_quotes_awkward_groups()
    {
        var output = new StringWriter();

        SpendReportWriter.Write(output, Rows, "model", "csv");

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("model,requests,input_tokens,cached_input_tokens,cache_write_tokens,output_tokens,reasoning_tokens,cost_usd,unpriced_requests,estimated_requests,cache_savings_usd,response_cache_hits,response_cache_saved_usd,response_cache_spent_usd,routing_saved_usd,batch_saved_usd", lines[0]);
        Assert.Equal("gpt-4o-mini,3,300,100,0,90,0,0.0000123456789,0,1,0.0000075,0,0,0,0,0", lines[1]);
        Assert.Equal("\"team, \"\"core\"\"\",1,10,0,0,5,0,1.5,0,0,0,0,0,0,0,0", lines[2]);
    }

    [Fact]
    public void The_table_has_a_total_line_and_small_costs_do_not_read_as_zero()
    {
        var output = new StringWriter();

        SpendReportWriter.Write(output, Rows, "model", "table");

        var text = output.ToString();
        Assert.Contains("0.00001235", text, StringComparison.Ordinal);
        Assert.Matches(@"TOTAL\s+4\s+310", text);
    }

    [Fact]
    public void A_table_split_in_time_has_its_period_in_a_column_of_its_own_aligned_under_its_header()
    {
        var output = new StringWriter();
        SpendRow[] rows = [Rows[0] with { Period = "2026-11-01" }, Rows[1] with { Period = "2026-11-02T13" }];

        SpendReportWriter.Write(output, rows, "model", "table");

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("PERIOD", lines[0], StringComparison.Ordinal);
        var groupColumn = lines[0].IndexOf("MODEL", StringComparison.Ordinal);
        Assert.Equal(groupColumn, lines[1].IndexOf("gpt-4o-mini", StringComparison.Ordinal));
        Assert.Equal(groupColumn, lines[2].IndexOf("team", StringComparison.Ordinal));
        Assert.Equal(lines[0].IndexOf("COST (USD)", StringComparison.Ordinal) + "COST (USD)".Length, lines[1].IndexOf("0.00001235", StringComparison.Ordinal) + "0.00001235".Length);
    }

    [Fact]
    public void A_reprice_that_prices_nothing_says_so_instead_of_a_100_percent_drop()
    {
        var output = new StringWriter();
        SpendRow[] rows = [Rows[0] with { RepricedCostUsd = 0, UnrepricedRequests = 3 }];

        SpendReportWriter.Write(output, rows, "model", "table");

        var text = output.ToString();
        Assert.DoesNotContain("-100.0%", text, StringComparison.Ordinal);
        Assert.Contains("Nothing was repriced", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_partial_reprice_compares_against_what_the_repriced_requests_cost()
    {
        var output = new StringWriter();
        SpendRow[] rows = [new SpendRow("m", 2, 0, 0, 0, 0, 0, 3m, 0, 0) { RepricedCostUsd = 0.5m, RepricedFromUsd = 1m, UnrepricedRequests = 1 }];

        SpendReportWriter.Write(output, rows, "model", "table");

        Assert.Contains("-50.0%", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Json_is_machine_readable_with_decimal_costs()
    {
        var output = new StringWriter();

        SpendReportWriter.Write(output, Rows, "feature", "json");

        var json = System.Text.Json.JsonDocument.Parse(output.ToString()).RootElement;
        Assert.Equal("feature", json.GetProperty("group_by").GetString());
        Assert.Equal(0.0000123456789m, json.GetProperty("rows")[0].GetProperty("cost_usd").GetDecimal());
    }

    [Theory]
    [InlineData("7d", 7 * 24 * 60)]
    [InlineData("24h", 24 * 60)]
    [InlineData("90m", 90)]
    [InlineData("2w", 14 * 24 * 60)]
    public void Since_accepts_durations(string text, int minutes)
    {
        var now = new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

        Assert.True(SinceParser.TryParse(text, now, out var since));
        Assert.Equal(now.AddMinutes(-minutes), since);
    }

    [Fact]
    public void Since_accepts_a_utc_date_and_rejects_nonsense()
    {
        Assert.True(SinceParser.TryParse("2026-11-01", DateTimeOffset.UtcNow, out var since));
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), since);
        Assert.False(SinceParser.TryParse("last week", DateTimeOffset.UtcNow, out _));
        Assert.False(SinceParser.TryParse("7y", DateTimeOffset.UtcNow, out _));
    }

    [Fact]
    public async Task Prices_import_writes_the_local_catalogue_from_a_litellm_list()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"tollgate-cli-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            var list = Path.Combine(directory, "litellm.json");
            await File.WriteAllTextAsync(list, """{"vendor/model-z":{"input_cost_per_token":1e-06,"output_cost_per_token":4e-06}}""");
            var config = Path.Combine(directory, "tollgate.yaml");
            await File.WriteAllTextAsync(config, $"storage:\n  data_dir: {directory}/data\nmodels:\n  - alias: m\n    provider: mock\n    model: m\n");

            var exit = await TollgateCli.Build().Parse(["prices", "import", list, "--effective-from", "2026-01-01", "--config", config]).InvokeAsync();

            Assert.Equal(0, exit);
            var price = Tollgate.Metering.LocalPriceCatalog.Load(Path.Combine(directory, "data")).Find("vendor/model-z", new DateOnly(2026, 1, 1));
            Assert.Equal((1m, 4m), (price!.InputPerMillion, price.OutputPerMillion));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"sample_spec":{"mode":"chat"},"dall-e-3":{"mode":"image_generation","output_cost_per_image":0.04}}""")]
    [InlineData("[1,2,3]")]
    public async Task Prices_import_of_a_file_without_prices_fails_and_writes_nothing(string content)
    {
        var directory = Directory.CreateTempSubdirectory("tollgate-noprices-").FullName;
        var list = Path.Combine(directory, "empty.json");
        await File.WriteAllTextAsync(list, content);
        var config = Path.Combine(directory, "tollgate.yaml");
        await File.WriteAllTextAsync(config, $"storage:\n  data_dir: {directory}/data\nmodels:\n  - alias: m\n    provider: mock\n    model: m\n");

        var exit = await TollgateCli.Build().Parse(["prices", "import", list, "--config", config]).InvokeAsync();

        Assert.Equal(1, exit);
        Assert.False(File.Exists(Tollgate.Metering.LocalPriceCatalog.PathIn(Path.Combine(directory, "data"))));
    }

    [Fact]
    public async Task Keys_are_created_listed_and_revoked_through_the_running_gateway()
    {
        await using var gateway = await Tollgate.Tests.Support.TestGateway.StartAsync("models:\n  - { alias: m, provider: mock, model: m }\n");
        string[] Connection() => ["--url", gateway.BaseUrl.AbsoluteUri, "--master-key", Tollgate.Tests.Support.TestGateway.MasterKey];
        var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, await TollgateCli.Build().Parse(["keys", "create", "--name", "cli-made", "--tag", "feature=x", .. Connection()]).InvokeAsync());
            var created = output.ToString();
            var id = System.Text.RegularExpressions.Regex.Match(created, "key_[0-9a-f]+").Value;
            var secret = System.Text.RegularExpressions.Regex.Match(created, "sk-tg-[0-9a-f]{64}").Value;
            Assert.Equal(0, await TollgateCli.Build().Parse(["keys", "list", .. Connection()]).InvokeAsync());
            Assert.Equal(0, await TollgateCli.Build().Parse(["keys", "revoke", id, .. Connection()]).InvokeAsync());

            Assert.Contains("cli-made", output.ToString(), StringComparison.Ordinal);
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(output.ToString(), "sk-tg-[0-9a-f]{64}"));
            using var client = new HttpClient { BaseAddress = gateway.BaseUrl };
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
            var response = await client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"m","messages":[]}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        }
        finally
        {
            Console.SetOut(previous);
        }
    }

    [Fact]
    public async Task Plan_gpu_prints_the_session_the_fit_and_the_break_even_against_each_api_model()
    {
        var (exit, text) = await RunAsync(
            "plan", "gpu", "--gpu", "l4", "--price-per-hour", "2.52", "--vram-gb", "80", "--params", "8", "--precision", "4bit", "--throughput", "40",
            "--hours", "5", "--boot-minutes", "10", "--idle-minutes", "20", "--input-tokens-per-day", "150000", "--output-tokens-per-day", "23000",
            "--models", "claude-sonnet-4-5,gpt-4o-mini");

        Assert.Equal(0, exit);
        Assert.Contains("4.8 GB of VRAM", text, StringComparison.Ordinal);
        Assert.Contains("l4: $0.72/h, 24 GB — the model fits.", text, StringComparison.Ordinal);
        Assert.Contains("= $3.96;", text, StringComparison.Ordinal);
        Assert.Contains("your GPU: $2.52/h, 80 GB", text, StringComparison.Ordinal);
        Assert.Contains("= $13.86;", text, StringComparison.Ordinal);
        // $3.96 at Sonnet's $4.5954 a million for this mix (13.3% output); gpt-4o-mini's break-even needs more output than an L4 makes.
        Assert.Matches(@"claude-sonnet-4-5\s+\$\s+0\.80/day\s+break-even\s+861,736 tokens/day\s+API cheaper", text);
        Assert.Matches(@"gpt-4o-mini\s+\$\s+0\.04/day\s+break-even\s+18,872,727 tokens/day \(beyond this GPU's capacity\)", text);
    }

    [Fact]
    public async Task Plan_gpu_sizes_the_gpus_for_the_peak_and_refuses_a_peak_it_cannot_use()
    {
        var (exit, text) = await RunAsync(
            "plan", "gpu", "--gpu", "l4", "--params", "8", "--precision", "4bit", "--throughput", "1000", "--hours", "10",
            "--input-tokens-per-day", "1000000", "--output-tokens-per-day", "300000", "--models", "gpt-4o-mini",
            "--peak-requests-per-second", "10", "--output-tokens-per-request", "300");

        Assert.Equal(0, exit);

        // 10 h + 5 min boot at $0.72 = $7.26 a GPU; three are needed for 3,000 tokens a second.
        Assert.Contains("at the peak, 10 requests and 3,000 output tokens a second: 3 GPUs at 1000 tokens a second each; 3 up for the day's serving hours cost $21.78.", text, StringComparison.Ordinal);

        foreach (var bad in new[] { new[] { "--peak-requests-per-second", "10" }, ["--peak-requests-per-second", "-1", "--output-tokens-per-request", "300"], ["--peak-requests-per-second", "5", "--output-tokens-per-request", "0"] })
        {
            var (refused, _) = await RunAsync([
                "plan", "gpu", "--gpu", "l4", "--params", "8", "--throughput", "1000", "--input-tokens-per-day", "1", "--output-tokens-per-day", "1", .. bad]);
            Assert.Equal(1, refused);
        }

        // Values no GPU or workload has, up to decimal's limit, are refused rather than overflowing.
        string[][] outOfRange =
        [
            ["--throughput", "0"], ["--throughput", "0.001"], ["--throughput", "79228162514264337593543950335"],
            ["--peak-requests-per-second", "79228162514264337593543950335", "--output-tokens-per-request", "2"],
            ["--price-per-hour", "79228162514264337593543950335"], ["--price-per-hour", "-1"], ["--hours", "25"], ["--boot-minutes", "-5"],
            ["--params", "0"], ["--params", "79228162514264337593543950335"],
        ];
        foreach (var bad in outOfRange)
        {
            string[] args = ["plan", "gpu", "--gpu", "l4", "--params", "8", "--throughput", "40", "--input-tokens-per-day", "1", "--output-tokens-per-day", "1"];
            var (refused, _) = await RunAsync([.. args.Where((a, i) => !bad.Contains(a) && (i == 0 || !bad.Contains(args[i - 1]))), .. bad]);
            Assert.Equal(1, refused);
        }
    }

    [Fact]
    public async Task Cache_eval_trains_a_pair_model_on_the_tuning_half_saves_it_and_judges_with_it()
    {
        var directory = Directory.CreateTempSubdirectory("tollgate-cache-eval").FullName;
        var file = await WriteTownPairsAsync(directory);
        var model = Path.Combine(directory, "judge.json");

        var (trained, report) = await RunAsync("cache", "eval", "--pairs", file, "--limit", "400", "--save-pair-model", model, "--epochs", "5");
        var (judged, again) = await RunAsync("cache", "eval", "--pairs", file, "--limit", "400", "--pair-model", model);
        var (wrongEmbedder, _) = await RunAsync("cache", "eval", "--pairs", file, "--limit", "400", "--pair-model", model, "--embedder", "minilm");
        var (notAModel, _) = await RunAsync("cache", "eval", "--pairs", file, "--limit", "400", "--pair-model", file);
        var (tooFew, _) = await RunAsync("cache", "eval", "--pairs", file, "--limit", "8");
        var (unwritableModel, _) = await RunAsync("cache", "eval", "--pairs", file, "--save-pair-model", Path.Combine(directory, "no-such-folder", "judge.json"));
        var (cacheIsAFile, _) = await RunAsync("cache", "eval", "--pairs", file, "--vector-cache", file);
        var malformed = new List<int>();
        foreach (var bad in new[] { "not json", "{}", "[1]", "[{\"text_a\": \"a\", \"text_b\": 2, \"label\": 1}]", "[{\"text_a\": \"a\", \"text_b\": \"b\", \"label\": 2}]", "[{\"text_a\": \"a\", \"text_b\": \"b\", \"label\": 1e300}]", "[{\"text_a\": \"a\\ud800\", \"text_b\": \"b\", \"label\": 1}]" })
        {
            var badFile = Path.Combine(directory, $"bad-{malformed.Count}.json");
            await File.WriteAllTextAsync(badFile, bad);
            var (exit, output) = await RunAsync("cache", "eval", "--pairs", badFile);
            Assert.True(output.StartsWith(badFile + ": ", StringComparison.Ordinal) && !output.Contains("Unhandled", StringComparison.Ordinal), output);
            malformed.Add(exit);
        }

        Assert.Equal(0, trained);
        Assert.Contains("Pair model (128 hidden units, 5 passes) trained on 160 tuning pairs; thresholds chosen on the other 40.", report, StringComparison.Ordinal);
        Assert.Equal("lexical", Tollgate.Optimization.SemanticCaching.PairScorer.FromJson(await File.ReadAllTextAsync(model)).Embedder);
        Assert.Equal(0, judged);
        Assert.Contains($"Pair model {model} (128 hidden units)", again, StringComparison.Ordinal);
        Assert.Equal((1, 1, 1, 1, 1), (wrongEmbedder, notAModel, tooFew, unwritableModel, cacheIsAFile));
        Assert.All(malformed, exit => Assert.Equal(1, exit));
    }

    /// <summary>
    /// 400 labelled pairs of questions about one of forty towns and one of four topics: a pair is the same question when
    /// both agree. Written to <paramref name="directory"/>; the file's path.
    /// </summary>
    private static async Task<string> WriteTownPairsAsync(string directory)
    {
        string[] topics = ["how long does delivery take to", "what does shipping cost to", "can I return an order from", "when does the shop open in"];
        var towns = Enumerable.Range(0, 40).Select(i => $"Town{i}").ToArray();
        var random = new Random(5);
        var pairs = Enumerable.Range(0, 400).Select(i =>
        {
            var (topic, town) = (random.Next(topics.Length), random.Next(towns.Length));
            var same = i % 2 == 0;
            var otherTopic = same || random.Next(2) == 0 ? topic : (topic + 1) % topics.Length;
            var otherTown = same || otherTopic != topic ? town : (town + 1) % towns.Length;
            return new { text_a = $"{topics[topic]} {towns[town]}?", text_b = $"please tell me {topics[otherTopic]} {towns[otherTown]}", label = same ? 1 : 0 };
        });
        var file = Path.Combine(directory, "pairs.json");
        await File.WriteAllTextAsync(file, System.Text.Json.JsonSerializer.Serialize(pairs));
        return file;
    }

    [Fact]
    public async Task Cache_eval_embeds_through_an_embeddings_endpoint_in_batches_for_an_alias_pair_model()
    {
        var directory = Directory.CreateTempSubdirectory("tollgate-cache-eval").FullName;
        var file = await WriteTownPairsAsync(directory);
        var model = Path.Combine(directory, "judge.json");
        var lexical = new Tollgate.Optimization.SemanticCaching.LexicalEmbedder(dimensions: 256);
        await using var upstream = await Tollgate.FakeProviders.FakeOpenAiUpstream.StartAsync();
        upstream.VectorOf = text => lexical.Embed(Tollgate.Optimization.SemanticCaching.QueryText.Of(text).Normalised);
        var texts = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(file)).RootElement.EnumerateArray()
            .SelectMany(p => new[] { p.GetProperty("text_a").GetString(), p.GetProperty("text_b").GetString() }).Distinct().Count();

        var (trained, report) = await RunAsync(
            "cache", "eval", "--pairs", file, "--limit", "400", "--embedder", "alias:emb", "--embeddings-url", upstream.BaseUrl.ToString(), "--no-normalise", "--save-pair-model", model);
        var requests = upstream.Received.Count;
        var (withoutUrl, _) = await RunAsync("cache", "eval", "--pairs", file, "--embedder", "alias:emb");
        var (notAUrl, _) = await RunAsync("cache", "eval", "--pairs", file, "--embedder", "alias:emb", "--embeddings-url", "file:///etc/passwd");
        upstream.Fault = Tollgate.FakeProviders.FakeFault.ErrorStatus;
        var (failing, _) = await RunAsync("cache", "eval", "--pairs", file, "--embedder", "alias:emb", "--embeddings-url", upstream.BaseUrl.ToString());

        Assert.True(trained == 0, report);
        Assert.Contains("embedder: alias:emb", report, StringComparison.Ordinal);
        var judge = Tollgate.Optimization.SemanticCaching.PairScorer.FromJson(await File.ReadAllTextAsync(model));
        Assert.Equal(("alias:emb", 256), (judge.Embedder, judge.Dimensions));
        Assert.Equal(texts, upstream.EmbeddedItems);
        Assert.Equal((texts + 31) / 32, requests); // batches of 32 texts
        Assert.Equal((1, 1, 1), (withoutUrl, notAUrl, failing));
    }

    [Fact]
    public async Task Route_eval_trains_and_measures_on_labelled_prompts_and_refuses_data_that_is_not_so()
    {
        // Two subjects: the cheap model misses the "hard" prompts, which only the strong model gets right.
        var directory = Directory.CreateTempSubdirectory("tollgate-route-eval").FullName;
        var data = Directory.CreateDirectory(Path.Combine(directory, "responses")).FullName;
        foreach (var subject in new[] { "algebra", "history" })
        {
            var rows = Enumerable.Range(0, 40).Select(i => i % 2 == 0
                ? $"\"hard {subject} question {i}: prove the theorem\",False,True"
                : $"\"easy {subject} question {i}: name the capital\",True,True");
            await File.WriteAllLinesAsync(Path.Combine(data, subject + ".csv"), ["prompt,cheap,strong", .. rows]);
        }

        var model = Path.Combine(directory, "difficulty.json");
        var (exit, report) = await RunAsync("route", "eval", "--data", data, "--cheap-price", "0.6", "--strong-price", "10", "--save-model", model, "--model-kind", "logistic");

        Assert.True(exit == 0, report);
        Assert.Contains("80 prompts from responses: 40 to train on, 40 held out; embedder lexical.", report, StringComparison.Ordinal);
        Assert.Contains("| random |", report, StringComparison.Ordinal);
        Assert.Equal(("lexical", "logistic"), (Tollgate.Routing.Difficulty.DifficultyModel.FromJson(await File.ReadAllTextAsync(model)) is var m ? (m.Embedder, m.Kind) : default));

        async Task<(int Exit, string Output)> RefusedAsync(string csv, string? exclude = null, params string[] more)
        {
            var folder = Directory.CreateTempSubdirectory("tollgate-route-bad").FullName;
            if (csv.Length > 0)
            {
                await File.WriteAllTextAsync(Path.Combine(folder, "bad.csv"), csv);
            }

            string[] args = ["route", "eval", "--data", folder, .. more];
            if (exclude is not null)
            {
                var file = Path.Combine(folder, "exclude.jsonl");
                await File.WriteAllTextAsync(file, exclude);
                args = [.. args, "--exclude", file];
            }

            return await RunAsync(args);
        }

        var good = "prompt,cheap,strong\n" + string.Join("\n", Enumerable.Range(0, 20).Select(i => $"q{i},True,{(i % 2 == 0 ? "True" : "False")}"));
        (int Exit, string Output)[] refused =
        [
            await RefusedAsync(""),
            await RefusedAsync("prompt,cheap\nq,True"),
            await RefusedAsync("prompt,cheap,strong\nq,Maybe,True"),
            await RefusedAsync(good, exclude: "{\"prompt\": 1}"),
            await RefusedAsync(good, null, "--save-model", Path.Combine(directory, "no-such-folder", "m.json")),
            await RefusedAsync(good, null, "--vector-cache", model),
        ];
        string[] reasons =
        [
            "0 labelled prompts", "found 2 column(s)", "row 2: 'Maybe' is not True or False", "line 1: not {\"train_prompt\": string}",
            "The difficulty model could not be written", "--vector-cache:",
        ];
        Assert.All(refused.Zip(reasons), r => Assert.True(r.First.Exit == 1 && r.First.Output.Contains(r.Second, StringComparison.Ordinal), r.First.Output));
    }

    /// <summary>Runs the command line with <paramref name="args"/>, its standard output and error captured.</summary>
    private static async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var (previous, previousError) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(output);
        try
        {
            return (await TollgateCli.Build().Parse(args).InvokeAsync(), output.ToString());
        }
        finally
        {
            Console.SetOut(previous);
            Console.SetError(previousError);
        }
    }

    [Fact]
    public async Task Plan_gpu_from_the_ledger_reports_a_self_hosted_deployments_paid_busy_and_idle_time()
    {
        var directory = Directory.CreateTempSubdirectory("tollgate-cli-plan-").FullName;
        var database = Path.Combine(directory, "ledger.db");
        var config = Path.Combine(directory, "tollgate.yaml");
        var yaml = $"storage:\n  data_dir: {directory}\n  sqlite_path: {database}\nmodels:\n  - {{ alias: local, provider: vllm, model: llama3.1:8b, base_url: http://127.0.0.1:9/v1, price: {{ per_hour: 0.72 }} }}\n";
        await File.WriteAllTextAsync(config, yaml);
        var deployment = Tollgate.Configuration.ConfigLoader.Parse(yaml, "test", _ => null).Deployments.Single().Name;
        var now = DateTimeOffset.UtcNow;
        await using (var ledger = new Tollgate.Ledger.Sqlite.SqliteLedgerStore(database))
        {
            // Up since 10 hours ago; busy one hour then half an hour.
            await ledger.InitializeAsync(CancellationToken.None);
            await ledger.AppendAsync([
                Tollgate.Tests.Support.Records.Ok("llama3.1:8b", now.AddHours(-10), new Tollgate.Metering.Usage(1_000, 0, 0, 50_000, 0), Tollgate.Metering.CostBreakdown.Flat(0.72m)) with { Deployment = deployment, LatencyMs = 3_600_000 },
                Tollgate.Tests.Support.Records.Ok("llama3.1:8b", now.AddHours(-5), new Tollgate.Metering.Usage(1_000, 0, 0, 20_000, 0), Tollgate.Metering.CostBreakdown.Flat(0.36m)) with { Deployment = deployment, LatencyMs = 1_800_000 },
            ], CancellationToken.None);
        }

        var (exit, text) = await RunAsync(
            "plan", "gpu", "--gpu", "l4", "--params", "8", "--precision", "4bit", "--throughput", "40", "--from-ledger", "1d", "--models", "gpt-4o-mini", "--config", config);

        Assert.Equal(0, exit);
        Assert.Contains(
            $"Self-hosted {deployment} ($0.72/h), from its first request in the range: up 10.0 h = $7.20; busy 1.50 h (15.0 % utilisation) serving 2 requests, 2,000 input + 70,000 output tokens; idle $6.12.",
            text, StringComparison.Ordinal);

        // Its busiest minute: the one request of 50,000 output tokens, 833 a second, 21 GPUs at 40 each.
        Assert.Contains("at the peak, 0.02 requests and 833 output tokens a second: 21 GPUs at 40 tokens a second each;", text, StringComparison.Ordinal);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Reconcile_compares_per_project_through_each_deployments_provider_project()
    {
        var directory = Directory.CreateTempSubdirectory("tollgate-cli-reconcile-projects-").FullName;
        var database = Path.Combine(directory, "ledger.db");
        var config = Path.Combine(directory, "tollgate.yaml");
        var yaml = $"storage:\n  data_dir: {directory}\n  sqlite_path: {database}\nmodels:\n"
            + "  - { alias: a, name: team-a, provider: openai, model: gpt-4o-mini, api_key: sk-a, provider_project: proj_a }\n"
            + "  - { alias: b, name: team-b, provider: openai, model: gpt-4o-mini, api_key: sk-b, provider_project: proj_b }\n";
        await File.WriteAllTextAsync(config, yaml);
        Assert.Equal(["proj_a", "proj_b"], Tollgate.Configuration.ConfigLoader.Parse(yaml, "test", _ => null).Deployments.Select(d => d.ProviderProject));
        var day = new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero);
        await using (var ledger = new Tollgate.Ledger.Sqlite.SqliteLedgerStore(database))
        {
            await ledger.InitializeAsync(CancellationToken.None);
            await ledger.AppendAsync([
                Tollgate.Tests.Support.Records.Ok("gpt-4o-mini", day, Tollgate.Metering.Usage.None, Tollgate.Metering.CostBreakdown.Flat(0.25m)) with { Deployment = "team-a", UpstreamRequestId = "req_a" },
                Tollgate.Tests.Support.Records.Ok("gpt-4o-mini", day.AddHours(1), Tollgate.Metering.Usage.None, Tollgate.Metering.CostBreakdown.Flat(0.5m)) with { Deployment = "team-b", UpstreamRequestId = "req_b" },
            ], CancellationToken.None);
        }

        var export = Path.Combine(directory, "costs.csv");
        try
        {
            await File.WriteAllTextAsync(export, "date,model,cost_usd,project\n2026-11-01,gpt-4o-mini,0.25,proj_a\n2026-11-01,gpt-4o-mini,0.5,proj_b\n");
            Assert.Equal(0, (await RunAsync("reconcile", export, "--config", config)).Exit);
            Assert.Equal(1, (await RunAsync("reconcile", export, "--config", config, "--tolerance", "-0.01")).Exit);

            // The same day's total, split the other way between the projects.
            await File.WriteAllTextAsync(export, "date,model,cost_usd,project\n2026-11-01,gpt-4o-mini,0.5,proj_a\n2026-11-01,gpt-4o-mini,0.25,proj_b\n");
            var (exit, text) = await RunAsync("reconcile", export, "--config", config);

            Assert.Equal(3, exit);
            Assert.Matches(@"2026-11-01\s+gpt-4o-mini\s+proj_a\s+differs\s+ledger \$0\.25", text);
            Assert.Matches(@"2026-11-01\s+gpt-4o-mini\s+proj_b\s+differs\s+ledger \$0\.5", text);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Reconcile_prints_each_difference_with_its_provider_request_ids_and_exits_3()
    {
        var directory = Directory.CreateTempSubdirectory("tollgate-cli-reconcile-").FullName;
        var database = Path.Combine(directory, "ledger.db");
        var config = Path.Combine(directory, "tollgate.yaml");
        await File.WriteAllTextAsync(config, $"storage:\n  data_dir: {directory}\n  sqlite_path: {database}\nmodels:\n  - {{ alias: m, provider: mock, model: m }}\n");
        await using (var ledger = new Tollgate.Ledger.Sqlite.SqliteLedgerStore(database))
        {
            await ledger.InitializeAsync(CancellationToken.None);
            await ledger.AppendAsync([
                Tollgate.Tests.Support.Records.Ok("gpt-4o-mini", new DateTimeOffset(2026, 11, 1, 9, 0, 0, TimeSpan.Zero), Tollgate.Metering.Usage.None, Tollgate.Metering.CostBreakdown.Flat(0.25m)) with { UpstreamRequestId = "req_a" },
                Tollgate.Tests.Support.Records.Ok("gpt-4o-mini", new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero), Tollgate.Metering.Usage.None, Tollgate.Metering.CostBreakdown.Flat(0.5m)) with { UpstreamRequestId = "req_b" },
            ], CancellationToken.None);
        }

        var export = Path.Combine(directory, "costs.csv");
        await File.WriteAllTextAsync(export, "date,model,cost_usd\n2026-11-01,gpt-4o-mini-2024-07-18,0.25\n2026-11-02,gpt-4o-mini-2024-07-18,0.6\n");
        try
        {
            var (exit, text) = await RunAsync("reconcile", export, "--config", config, "--provider", "openai");

            Assert.Equal(3, exit);
            Assert.Contains("1 difference(s):", text, StringComparison.Ordinal);
            Assert.Matches(@"2026-11-02\s+gpt-4o-mini\s+differs\s+ledger \$0\.5 \(1 records\)\s+provider \$0\.6\s+difference \$\+0\.1", text);
            Assert.Contains("provider request ids: req_b", text, StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Export_writes_every_record_of_the_range_to_a_file_as_csv_and_json()
    {
        var directory = Directory.CreateTempSubdirectory("tollgate-export-").FullName;
        var ledger = new Tollgate.Tests.Support.SeededLedger(new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero), days: 5, requestsPerDay: 30);
        var database = Path.Combine(directory, "ledger.db");
        await ledger.WriteAsync(database);
        var expected = ledger.Records.Where(r => r.Timestamp < new DateTimeOffset(2026, 10, 3, 0, 0, 0, TimeSpan.Zero)).ToList();

        var csvExit = await TollgateCli.Build().Parse(["export", "--db", database, "--since", "2026-10-01", "--until", "2026-10-03", "--out", Path.Combine(directory, "out.csv")]).InvokeAsync();
        var jsonExit = await TollgateCli.Build().Parse(["export", "--db", database, "--since", "2026-10-01", "--until", "2026-10-03", "--format", "json", "--out", Path.Combine(directory, "out.json")]).InvokeAsync();

        Assert.Equal((0, 0), (csvExit, jsonExit));
        var lines = await File.ReadAllLinesAsync(Path.Combine(directory, "out.csv"));
        Assert.Equal(expected.Count + 1, lines.Length);
        Assert.StartsWith("id,timestamp,", lines[0], StringComparison.Ordinal);
        using var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(directory, "out.json")));
        Assert.Equal(expected.Select(r => r.Id), json.RootElement.EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        Assert.Equal(expected.Sum(r => r.Cost.Total), json.RootElement.EnumerateArray().Sum(r => r.GetProperty("cost_total_usd").GetDecimal()));
    }

    [Fact]
    public async Task Report_and_export_read_a_ledger_an_earlier_version_wrote_before_the_gateway_has_upgraded_it()
    {
        var directory = Directory.CreateTempSubdirectory("tollgate-old-ledger-").FullName;
        var ledger = new Tollgate.Tests.Support.SeededLedger(new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero), days: 2, requestsPerDay: 10);
        var database = Path.Combine(directory, "ledger.db");
        await ledger.WriteAsync(database);
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=false"))
        {
            // The ledger as the version before the response cache left it.
            await connection.OpenAsync();
            await using var drop = connection.CreateCommand();
            drop.CommandText = "ALTER TABLE usage_records DROP COLUMN response_cache; ALTER TABLE usage_records DROP COLUMN response_cache_similarity; ALTER TABLE usage_records DROP COLUMN response_cache_saved_usd;";
            await drop.ExecuteNonQueryAsync();
        }

        var reportExit = await TollgateCli.Build().Parse(["report", "--db", database, "--since", "2026-09-30", "--format", "csv"]).InvokeAsync();
        var exportExit = await TollgateCli.Build().Parse(["export", "--db", database, "--since", "2026-09-30", "--out", Path.Combine(directory, "out.csv")]).InvokeAsync();

        Assert.Equal((0, 0), (reportExit, exportExit));
        Assert.Equal(ledger.Records.Count + 1, (await File.ReadAllLinesAsync(Path.Combine(directory, "out.csv"))).Length);
    }

    [Fact]
    public async Task Report_on_a_missing_ledger_explains_what_to_do_and_fails()
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            var exit = await TollgateCli.Build().Parse(["report", "--db", "/nonexistent/ledger.db"]).InvokeAsync();

            Assert.Equal(1, exit);
            Assert.Contains("No ledger at", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Console.SetError(previous);
        }
    }

    [Fact]
    public async Task Only_serve_needs_the_provider_secrets_a_config_names()
    {
        var directory = Directory.CreateTempSubdirectory("tollgate-secrets-").FullName;
        var database = Path.Combine(directory, "ledger.db");
        await new Tollgate.Tests.Support.SeededLedger(new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero), days: 1, requestsPerDay: 5).WriteAsync(database);
        var config = Path.Combine(directory, "tollgate.yaml");
        await File.WriteAllTextAsync(config, $$"""
            master_key: ${TOLLGATE_TEST_UNSET_MASTER}
            storage: { data_dir: {{directory}}, sqlite_path: {{database}} }
            models:
              - alias: gpt
                provider: openai
                model: gpt-4o-mini
                api_key: ${TOLLGATE_TEST_UNSET_OPENAI_KEY}
              - alias: claude
                provider: anthropic
                model: claude-haiku-4-5
                api_key: os.environ/TOLLGATE_TEST_UNSET_ANTHROPIC_KEY
            """);

        var report = await TollgateCli.Build().Parse(["report", "--config", config, "--since", "2026-09-01", "--format", "csv"]).InvokeAsync();
        var export = await TollgateCli.Build().Parse(["export", "--config", config, "--since", "2026-09-01", "--out", Path.Combine(directory, "out.csv")]).InvokeAsync();
        var prices = await TollgateCli.Build().Parse(["prices", "list", "gpt-4o-mini", "--config", config]).InvokeAsync();
        var serve = Assert.Throws<Tollgate.Configuration.ConfigException>(() => Tollgate.Configuration.ConfigLoader.Load(config, _ => null));

        Assert.Equal((0, 0, 0), (report, export, prices));
        Assert.Contains(serve.Errors, e => e.Contains("TOLLGATE_TEST_UNSET_OPENAI_KEY is not set", StringComparison.Ordinal));
        Assert.Contains(serve.Errors, e => e.Contains("TOLLGATE_TEST_UNSET_ANTHROPIC_KEY is not set", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Keys_list_marks_an_expired_key_budgets_list_shows_small_limits_and_json_keeps_its_plus_signs()
    {
        await using var gateway = await Tollgate.Tests.Support.TestGateway.StartAsync("models:\n  - { alias: m, provider: mock, model: m }\n");
        string[] Connection() => ["--url", gateway.BaseUrl.AbsoluteUri, "--master-key", Tollgate.Tests.Support.TestGateway.MasterKey];
        using var created = await gateway.Client.PostAsync("/admin/keys", new StringContent(
            """{"name":"old","expires_at":"2020-01-01T00:00:00+00:00"}""", System.Text.Encoding.UTF8, "application/json"));
        var raw = await created.Content.ReadAsStringAsync();
        var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, await TollgateCli.Build().Parse(["budgets", "set", "tiny", "--limit-usd", "0.00005", .. Connection()]).InvokeAsync());
            Assert.Equal(0, await TollgateCli.Build().Parse(["budgets", "list", .. Connection()]).InvokeAsync());
            Assert.Equal(0, await TollgateCli.Build().Parse(["keys", "list", .. Connection()]).InvokeAsync());
        }
        finally
        {
            Console.SetOut(previous);
        }

        var printed = output.ToString();
        Assert.Contains("+00:00", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u002B", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u002B", printed, StringComparison.Ordinal);
        Assert.Matches(@"tiny\s+global\s+monthly\s+0\.00005\b", printed);
        Assert.Contains("expired 2020-01-01", printed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_outcome_of_the_wrong_type_is_refused_naming_the_field_not_a_dotnet_type()
    {
        await using var gateway = await Tollgate.Tests.Support.TestGateway.StartAsync("models:\n  - { alias: m, provider: mock, model: m }\n");

        using var response = await gateway.Client.PostAsync("/v1/outcomes", new StringContent(
            """{"request_id":"req_1","conversions":"three"}""", System.Text.Encoding.UTF8, "application/json"));
        var error = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("conversions", error.GetProperty("param").GetString());
        Assert.DoesNotContain("System.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
