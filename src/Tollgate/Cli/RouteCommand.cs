using System.CommandLine;
using Tollgate.Optimization.SemanticCaching;
using Tollgate.Routing.Evaluation;

namespace Tollgate.Cli;

/// <summary>
/// <c>tollgate route eval</c>: how routers trade accuracy for strong-model calls on labelled prompts (offline);
/// <c>tollgate route simulate</c>: what a configured router would have spent on the ledger's recorded requests.
/// </summary>
public static class RouteCommand
{
    public static Command Build(Func<string?, Configuration.GatewayConfig?> loadConfig, Func<Option<string?>> configOption)
    {
        ArgumentNullException.ThrowIfNull(configOption);
        return new Command("route", "Routers: offline evaluation on labelled prompts, and a replay of recorded traffic.") { EvalCommand(), SimulateCommand(loadConfig, configOption()) };
    }

    private static Command SimulateCommand(Func<string?, Configuration.GatewayConfig?> loadConfig, Option<string?> config)
    {
        var routerName = new Option<string>("--router") { Description = "The router (from the config's routers:) to replay.", Required = true };
        var since = new Option<string>("--since") { Description = "Replay records since: 90m, 24h, 7d, 4w or a date.", DefaultValueFactory = _ => "30d" };
        var until = new Option<string?>("--until") { Description = "Replay records before this (default: now)." };
        var aliases = new Option<string?>("--aliases") { Description = "Comma-separated aliases whose records are replayed (default: the router's targets and the router itself)." };
        var database = new Option<string?>("--db") { Description = "Path to the SQLite ledger, overriding the config." };
        var simulate = new Command("simulate", "What a router would have spent on recorded requests (from tokens, key, feature, tags: the ledger keeps no prompts).")
        {
            config, routerName, since, until, aliases, database,
        };
        simulate.SetAction(async (parse, ct) =>
        {
            if (loadConfig(parse.GetValue(config)) is not { } loaded)
            {
                return 2;
            }

            var name = parse.GetValue(routerName)!;
            if (loaded.Routers.FirstOrDefault(r => r.Name == name) is not { } router)
            {
                await Console.Error.WriteLineAsync($"No router '{name}' in {loaded.Source} (routers: {string.Join(", ", loaded.Routers.Select(r => r.Name))}).");
                return 1;
            }

            var now = DateTimeOffset.UtcNow;
            if (!Analytics.SinceParser.TryParseReportStart(parse.GetValue(since)!, now, out var from))
            {
                await Console.Error.WriteLineAsync("--since must look like 90m, 24h, 7d, 4w or 2026-11-01");
                return 1;
            }

            var to = now;
            if (parse.GetValue(until) is { } untilText && !Analytics.SinceParser.TryParse(untilText, now, out to))
            {
                await Console.Error.WriteLineAsync("--until must look like 90m, 24h, 7d, 4w or 2026-11-01");
                return 1;
            }

            var path = parse.GetValue(database) ?? loaded.Storage.SqlitePath;
            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"No ledger at {Path.GetFullPath(path)} yet: start the gateway and send a request first.");
                return 1;
            }

            await using var store = new Ledger.Sqlite.SqliteLedgerStore(path);
            await store.InitializeAsync(ct);
            var replayed = parse.GetValue(aliases) is { } list
                ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal)
                : [.. router.Targets, router.Name];
            var targets = new Routing.Simulation.ConfiguredTargets(loaded, Metering.LocalPriceCatalog.Load(loaded.Storage.DataDirectory), DateOnly.FromDateTime(now.UtcDateTime));
            using var embedder = router.Difficulty is { } difficulty ? SentenceModelEmbedder.Create(difficulty.Embedder) : null;
            var scorer = OfflineScorer(router, embedder);
            var result = await new Routing.Simulation.RouteSimulation(router, targets, scorer).RunAsync(store.ReadAsync(from, to, ct), replayed, to, ct);
            Console.WriteLine(result.Report(name));
            return 0;
        });
        return simulate;
    }

    /// <summary>
    /// The router's difficulty scorer as it can run offline: its embedder when it is lexical or an in-process model (for
    /// the example centroids); with an alias of the gateway, only a trained model scoring kept vectors; else none.
    /// </summary>
    private static Routing.Difficulty.DifficultyScorer? OfflineScorer(Routing.RouterSettings router, SentenceModelEmbedder? model)
    {
        if (router.Difficulty is not { } settings)
        {
            return null;
        }

        var trained = settings.ModelPath is { } path ? Routing.Difficulty.DifficultyModel.FromJson(File.ReadAllText(path)) : null;
        ITextEmbedder? embedder = settings.Embedder == "lexical" ? new LexicalEmbedder() : model;
        return embedder is null && trained is null ? null : new Routing.Difficulty.DifficultyScorer(settings, embedder, trained);
    }

    private static Command EvalCommand()
    {
        var data = new Option<string>("--data") { Description = "A folder of RouteLLM response files (*.csv: prompt, cheap model right, strong model right).", Required = true };
        var exclude = new Option<string?>("--exclude") { Description = "Prompts to leave out (RouteLLM's mmlu_contaminated_prompts.jsonl)." };
        var seed = new Option<int>("--seed") { Description = "Shuffle seed for the training / held-out halves.", DefaultValueFactory = _ => 1 };
        var embedderName = new Option<string>("--embedder") { Description = "lexical (no model) or minilm (all-MiniLM-L6-v2, in-process).", DefaultValueFactory = _ => "lexical" };
        embedderName.AcceptOnlyFromAmong(["lexical", .. SentenceModelEmbedder.Names]);
        var save = new Option<string?>("--save-model") { Description = "Write a difficulty model trained on the training half here (for a router's difficulty: { model: FILE })." };
        var kind = new Option<string>("--model-kind") { Description = "The model --save-model writes: neighbours (mean gain of the k nearest labelled prompts) or logistic.", DefaultValueFactory = _ => "neighbours" };
        kind.AcceptOnlyFromAmong("neighbours", "logistic");
        var k = new Option<int?>("--k") { Description = "Neighbours a neighbours model averages (default: chosen on the training half's two folds)." };
        var cheapPrice = new Option<decimal?>("--cheap-price") { Description = "The cheap model's input price, USD per million tokens (for the cost column)." };
        var strongPrice = new Option<decimal?>("--strong-price") { Description = "The strong model's input price, USD per million tokens." };
        var vectorCache = new Option<string?>("--vector-cache") { Description = "A folder where the prompts' vectors are kept between runs (MiniLM takes minutes for 14,000 prompts)." };
        var eval = new Command("eval", "Train routers on one half of labelled prompts and measure them on the other: APGR, strong share for 95% of the strong model's accuracy.")
        {
            data, exclude, seed, embedderName, save, kind, k, cheapPrice, strongPrice, vectorCache,
        };
        eval.SetAction(async (parse, ct) =>
        {
            var directory = parse.GetValue(data)!;
            if (!Directory.Exists(directory))
            {
                await Console.Error.WriteLineAsync($"No folder at {Path.GetFullPath(directory)}.");
                return 1;
            }

            IReadOnlyList<LabelledPrompt> prompts;
            try
            {
                prompts = RouteLlmResponses.Read(directory, parse.GetValue(exclude));
            }
            catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                return 1;
            }

            if (prompts.Count < 10)
            {
                await Console.Error.WriteLineAsync($"{prompts.Count} labelled prompts in {directory}: at least 10 are needed to train on one half and measure on the other.");
                return 1;
            }

            var (training, heldOut) = RoutingEvaluation.Split(prompts, parse.GetValue(seed));
            using var model = SentenceModelEmbedder.Create(parse.GetValue(embedderName)!, threads: Environment.ProcessorCount);
            ITextEmbedder embedder = model is not null ? model : new LexicalEmbedder();
            Console.WriteLine($"{prompts.Count:N0} prompts from {Path.GetFileName(Path.TrimEndingDirectorySeparator(directory))}: {training.Count:N0} to train on, {heldOut.Count:N0} held out; embedder {embedder.Name}.");
            var started = System.Diagnostics.Stopwatch.StartNew();
            float[][] trainingVectors, heldOutVectors;
            try
            {
                trainingVectors = await RoutingEvaluation.EmbedAsync(training, embedder, parse.GetValue(vectorCache), ct);
                heldOutVectors = await RoutingEvaluation.EmbedAsync(heldOut, embedder, parse.GetValue(vectorCache), ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"--vector-cache: {ex.Message}");
                return 1;
            }

            var embedding = started.Elapsed;
            var (difficulty, scores) = RoutingEvaluation.TrainAndScore(embedder.Name, training, trainingVectors, heldOutVectors);
            var random = new Random(parse.GetValue(seed));
            var nearest100 = RoutingEvaluation.NearestNeighbours(training, trainingVectors, heldOutVectors, 100);
            var chosenK = RoutingEvaluation.ChooseNeighbours(training, trainingVectors, [25, 50, 100, 200, 300]);
            var tokens = heldOut.Sum(p => (long)Metering.Tokenization.BpeEncoding.Cl100kBase.Count(p.Prompt));
            Console.WriteLine();
            Console.WriteLine(RoutingEvaluation.Report(heldOut,
                [
                    ("random", [.. heldOut.Select(_ => random.NextDouble())]),
                    ("subject oracle (knows each prompt's MMLU subject)", RoutingEvaluation.GroupOracle(training, heldOut)),
                    ($"difficulty model ({embedder.Name}, trained on the other half)", scores),
                    ($"nearest 25 ({embedder.Name})", RoutingEvaluation.NearestNeighbours(training, trainingVectors, heldOutVectors, 25)),
                    ($"nearest 100 ({embedder.Name})", nearest100),
                    ($"nearest 300 ({embedder.Name})", RoutingEvaluation.NearestNeighbours(training, trainingVectors, heldOutVectors, 300)),
                    ($"nearest 100 and the difficulty model, ranks averaged", RoutingEvaluation.RankAverage(nearest100, scores)),
                    ($"nearest {chosenK} ({embedder.Name}; k chosen on the training half's two folds)", RoutingEvaluation.NearestNeighbours(training, trainingVectors, heldOutVectors, chosenK)),
                ],
                parse.GetValue(cheapPrice), parse.GetValue(strongPrice), tokens));
            Console.WriteLine($"Embedding took {embedding.TotalMilliseconds / prompts.Count:0.00} ms a prompt.");
            if (parse.GetValue(save) is { } path)
            {
                var saved = parse.GetValue(kind) == "logistic"
                    ? difficulty
                    : Routing.Difficulty.DifficultyModel.Neighbours(embedder.Name, trainingVectors, [.. training.Select(p => p.Gain)], parse.GetValue(k) ?? chosenK);
                if (!await ModelFile.TryWriteAsync(path, saved.ToJson(), "difficulty model", ct))
                {
                    return 1;
                }

                Console.WriteLine($"Difficulty model ({saved.Kind}) written to {path}.");
            }

            return 0;
        });
        return eval;
    }
}
