using System.CommandLine;
using Tollgate.Optimization.SemanticCaching;
using Tollgate.Routing.Evaluation;

namespace Tollgate.Cli;

/// <summary><c>tollgate route eval</c>: how routers trade accuracy for strong-model calls on labelled prompts (offline).</summary>
public static class RouteCommand
{
    public static Command Build()
    {
        var data = new Option<string>("--data") { Description = "A folder of RouteLLM response files (*.csv: prompt, cheap model right, strong model right).", Required = true };
        var exclude = new Option<string?>("--exclude") { Description = "Prompts to leave out (RouteLLM's mmlu_contaminated_prompts.jsonl)." };
        var seed = new Option<int>("--seed") { Description = "Shuffle seed for the training / held-out halves.", DefaultValueFactory = _ => 1 };
        var embedderName = new Option<string>("--embedder") { Description = "lexical (no model) or minilm (all-MiniLM-L6-v2, in-process).", DefaultValueFactory = _ => "lexical" };
        embedderName.AcceptOnlyFromAmong("lexical", "minilm");
        var save = new Option<string?>("--save-model") { Description = "Write the difficulty model trained on the training half here (for a router's difficulty: { model: FILE })." };
        var cheapPrice = new Option<decimal?>("--cheap-price") { Description = "The cheap model's input price, USD per million tokens (for the cost column)." };
        var strongPrice = new Option<decimal?>("--strong-price") { Description = "The strong model's input price, USD per million tokens." };
        var vectorCache = new Option<string?>("--vector-cache") { Description = "A folder where the prompts' vectors are kept between runs (MiniLM takes minutes for 14,000 prompts)." };
        var eval = new Command("eval", "Train routers on one half of labelled prompts and measure them on the other: APGR, strong share for 95% of the strong model's accuracy.")
        {
            data, exclude, seed, embedderName, save, cheapPrice, strongPrice, vectorCache,
        };
        eval.SetAction(async (parse, ct) =>
        {
            var directory = parse.GetValue(data)!;
            if (!Directory.Exists(directory))
            {
                await Console.Error.WriteLineAsync($"No folder at {Path.GetFullPath(directory)}.");
                return 1;
            }

            var prompts = RouteLlmResponses.Read(directory, parse.GetValue(exclude));
            var (training, heldOut) = RoutingEvaluation.Split(prompts, parse.GetValue(seed));
            using var model = parse.GetValue(embedderName) == "minilm" ? new MiniLmEmbedder() : null;
            ITextEmbedder embedder = model is not null ? model : new LexicalEmbedder();
            Console.WriteLine($"{prompts.Count:N0} prompts from {Path.GetFileName(Path.TrimEndingDirectorySeparator(directory))}: {training.Count:N0} to train on, {heldOut.Count:N0} held out; embedder {embedder.Name}.");
            var started = System.Diagnostics.Stopwatch.StartNew();
            var trainingVectors = await RoutingEvaluation.EmbedAsync(training, embedder, parse.GetValue(vectorCache), ct);
            var heldOutVectors = await RoutingEvaluation.EmbedAsync(heldOut, embedder, parse.GetValue(vectorCache), ct);
            var embedding = started.Elapsed;
            var (difficulty, scores) = RoutingEvaluation.TrainAndScore(embedder.Name, training, trainingVectors, heldOutVectors);
            var random = new Random(parse.GetValue(seed));
            var tokens = heldOut.Sum(p => (long)Metering.Tokenization.BpeEncoding.Cl100kBase.Count(p.Prompt));
            Console.WriteLine();
            Console.WriteLine(RoutingEvaluation.Report(heldOut,
                [
                    ("random", [.. heldOut.Select(_ => random.NextDouble())]),
                    ("subject oracle (knows each prompt's MMLU subject)", RoutingEvaluation.GroupOracle(training, heldOut)),
                    ($"difficulty model ({embedder.Name}, trained on the other half)", scores),
                    ($"nearest 25 ({embedder.Name})", RoutingEvaluation.NearestNeighbours(training, trainingVectors, heldOutVectors, 25)),
                    ($"nearest 100 ({embedder.Name})", RoutingEvaluation.NearestNeighbours(training, trainingVectors, heldOutVectors, 100)),
                ],
                parse.GetValue(cheapPrice), parse.GetValue(strongPrice), tokens));
            Console.WriteLine($"Embedding took {embedding.TotalMilliseconds / prompts.Count:0.00} ms a prompt.");
            if (parse.GetValue(save) is { } path)
            {
                await File.WriteAllTextAsync(path, difficulty.ToJson(), ct);
                Console.WriteLine($"Difficulty model written to {path}.");
            }

            return 0;
        });
        return new Command("route", "Routers: offline evaluation on labelled prompts.") { eval };
    }
}
