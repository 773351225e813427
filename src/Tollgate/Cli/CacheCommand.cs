using System.CommandLine;
using Tollgate.Configuration;

namespace Tollgate.Cli;

/// <summary><c>tollgate cache show|purge</c>: a client of the running gateway's <c>/admin/cache</c>.</summary>
public static class CacheCommand
{
    public static Command Build(Func<string?, GatewayConfig?> loadConfig)
    {
        var admin = new AdminApiClient(loadConfig);
        var scope = new Option<string?>("--scope") { Description = "Only this scope's answers: key:ID, tag:NAME=VALUE or global." };
        var alias = new Option<string?>("--alias") { Description = "Only answers asked of this alias." };
        var olderThan = new Option<string?>("--older-than") { Description = "Only answers kept longer ago than this: 90m, 24h, 7d, or a date (UTC)." };

        var show = new Command("show", "The response cache's settings, entries and bytes.");
        show.SetAction((parse, ct) => admin.PrintAsync(parse, "/admin/cache", ct));
        var purge = new Command("purge", "Remove kept answers (all of them when no condition is given).") { scope, alias, olderThan };
        purge.SetAction((parse, ct) =>
        {
            var query = new List<string>();
            foreach (var (name, value) in new[] { ("scope", parse.GetValue(scope)), ("alias", parse.GetValue(alias)), ("older_than", parse.GetValue(olderThan)) })
            {
                if (!string.IsNullOrEmpty(value))
                {
                    query.Add($"{name}={Uri.EscapeDataString(value)}");
                }
            }

            var path = "/admin/cache" + (query.Count > 0 ? "?" + string.Join('&', query) : string.Empty);
            return admin.RunAsync(parse, client => client.DeleteAsync(path, ct), AdminApiClient.PrintJson, ct);
        });

        return admin.Attach(new Command("cache", "The response cache, through the running gateway's admin API; and an offline evaluation of semantic lookups.") { show, purge, EvalCommand() });
    }

    /// <summary><c>tollgate cache eval --pairs FILE</c>: precision, recall and hit rate of semantic lookups on labelled pairs.</summary>
    private static Command EvalCommand()
    {
        var pairs = new Option<string>("--pairs") { Description = "JSON array of {text_a, text_b, label} (label 1: the same question).", Required = true };
        var limit = new Option<int>("--limit") { Description = "Pairs used (shuffled, then halved into tuning and held-out; see --split).", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<int>("--seed") { Description = "Shuffle seed.", DefaultValueFactory = _ => 1 };
        var precision = new Option<double>("--precision") { Description = "Precision the threshold is chosen for on the tuning half.", DefaultValueFactory = _ => 0.90 };
        var split = new Option<string>("--split")
        {
            Description = "questions: halves that share no question (default; what a model or threshold does on questions it has not seen). pairs: the pairs alone halved, so a question may be in both (questions that recur).",
            DefaultValueFactory = _ => "questions",
        };
        split.AcceptOnlyFromAmong("questions", "pairs");
        var raw = new Option<bool>("--no-normalise") { Description = "Embed the questions as written, not normalised." };
        var embedderName = new Option<string>("--embedder")
        {
            Description = "lexical (no model), minilm (all-MiniLM-L6-v2 on ONNX Runtime, in-process) or alias:NAME (the embeddings alias NAME of a running gateway, with --embeddings-url).",
            DefaultValueFactory = _ => "lexical",
        };
        var embeddingsUrl = new Option<string?>("--embeddings-url")
        {
            Description = "For --embedder alias:NAME: an OpenAI-compatible base URL whose /embeddings serves NAME, e.g. the gateway's http://127.0.0.1:4000/v1 (key from TOLLGATE_API_KEY).",
        };
        var vectorCache = new Option<string?>("--vector-cache") { Description = "A folder where the questions' vectors are kept between runs (MiniLM takes about 10 ms a question)." };
        var train = new Option<bool>("--train-pair-model") { Description = "Train a pair model on 80% of the tuning half (thresholds are then chosen on the other 20%) and judge lookups with it." };
        var save = new Option<string?>("--save-pair-model") { Description = "Train as --train-pair-model does and write the model to FILE, for the semantic cache's pair_model." };
        var load = new Option<string?>("--pair-model") { Description = "Judge lookups with a pair model trained earlier (its thresholds are chosen on the whole tuning half)." };
        var epochs = new Option<int>("--epochs") { Description = "Training passes over the pairs (4, with 128 hidden units: chosen on QQP's tuning side, see docs/CACHING.md).", DefaultValueFactory = _ => 4 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden units of the pair model.", DefaultValueFactory = _ => 128 };
        var eval = new Command("eval", "Evaluate semantic cache lookups on labelled question pairs (offline; no gateway needed).")
        {
            pairs, limit, seed, split, precision, raw, embedderName, embeddingsUrl, vectorCache, train, save, load, epochs, hidden,
        };
        eval.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(pairs)!;
            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"No file at {Path.GetFullPath(path)}.");
                return 1;
            }

            if (parse.GetValue(epochs) is < 1 or > 1_000 || parse.GetValue(hidden) is < 1 or > 4_096)
            {
                await Console.Error.WriteLineAsync("--epochs must be between 1 and 1000, --hidden between 1 and 4096.");
                return 1;
            }

            IReadOnlyList<Optimization.SemanticCaching.QuestionPair> all;
            try
            {
                all = Optimization.SemanticCaching.CacheEvaluation.Read(path);
            }
            catch (FormatException ex)
            {
                await Console.Error.WriteLineAsync($"{path}: {ex.Message}");
                return 1;
            }

            var (tuning, heldOut) = Optimization.SemanticCaching.CacheEvaluation.Split(all, parse.GetValue(limit), parse.GetValue(seed), parse.GetValue(split) != "pairs");
            if (tuning.Count < 10 || heldOut.Count < 10)
            {
                await Console.Error.WriteLineAsync($"{Math.Min(all.Count, parse.GetValue(limit)):N0} pairs are too few: each half needs at least 10.");
                return 1;
            }

            var embedderChoice = parse.GetValue(embedderName)!;
            var alias = Optimization.SemanticCaching.SemanticCacheSettings.EmbedderAlias(embedderChoice);
            if ((alias is null) != (parse.GetValue(embeddingsUrl) is null) || !Optimization.SemanticCaching.SemanticCacheSettings.IsEmbedder(embedderChoice))
            {
                await Console.Error.WriteLineAsync($"--embedder: {Optimization.SemanticCaching.SemanticCacheSettings.NotAnEmbedder(embedderChoice)}; alias:NAME needs --embeddings-url, and only it.");
                return 1;
            }

            Uri? endpoint = null;
            if (parse.GetValue(embeddingsUrl) is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out endpoint) || endpoint.Scheme is not ("http" or "https")))
            {
                await Console.Error.WriteLineAsync($"--embeddings-url: '{url}' is not an http(s) URL.");
                return 1;
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
            using var model = Optimization.SemanticCaching.SentenceModelEmbedder.Create(embedderChoice, threads: Environment.ProcessorCount);
            Optimization.SemanticCaching.ITextEmbedder embedder = model is not null ? model
                : alias is not null ? new Optimization.SemanticCaching.RemoteEmbedder(http, endpoint!, alias, Environment.GetEnvironmentVariable("TOLLGATE_API_KEY"))
                : new Optimization.SemanticCaching.LexicalEmbedder();
            var normalise = !parse.GetValue(raw);
            var saveTo = parse.GetValue(save);
            var training = parse.GetValue(train) || saveTo is not null;
            Optimization.SemanticCaching.PairScorer? judge = null;
            if (parse.GetValue(load) is { } modelFile)
            {
                if (training)
                {
                    await Console.Error.WriteLineAsync("Give --pair-model (a model trained earlier) or --train-pair-model / --save-pair-model, not both.");
                    return 1;
                }

                try
                {
                    judge = Optimization.SemanticCaching.PairScorer.FromJson(await File.ReadAllTextAsync(modelFile, ct));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
                {
                    await Console.Error.WriteLineAsync($"{modelFile} cannot be read as a pair model: {ex.Message}");
                    return 1;
                }

                if (judge.Embedder != embedder.Name || (embedder.Dimensions != 0 && judge.Dimensions != embedder.Dimensions))
                {
                    await Console.Error.WriteLineAsync($"{modelFile} was trained on vectors of '{judge.Embedder}' ({judge.Dimensions} dimensions), not '{embedder.Name}': give --embedder {judge.Embedder}.");
                    return 1;
                }
            }

            if ((training || judge is not null) && embedder is not Optimization.SemanticCaching.LexicalEmbedder && normalise)
            {
                await Console.Error.WriteLineAsync("The gateway gives a model embedder the question as written: a pair model for it is trained and judged on such vectors. Add --no-normalise.");
                return 1;
            }

            var (identical, different) = Optimization.SemanticCaching.CacheEvaluation.LabelNoise(all);
            Console.WriteLine($"Label noise floor: of the {all.Count:N0} pairs, {identical:N0} are written identically (case, spaces, punctuation aside) and {different:N0} of those ({different / (double)Math.Max(1, identical):P1}) are labelled different.");
            Console.WriteLine();
            Optimization.SemanticCaching.CacheEvaluation.PairVectors vectors;
            try
            {
                vectors = await Optimization.SemanticCaching.CacheEvaluation.EmbedAsync([.. tuning, .. heldOut], embedder, normalise, parse.GetValue(vectorCache), ct);
            }
            catch (Exception ex) when (ex is HttpRequestException or FormatException or TaskCanceledException or IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"The questions could not be embedded: {ex.Message}");
                return 1;
            }

            if (judge is not null && vectors.Of.Values.First().Length != judge.Dimensions)
            {
                await Console.Error.WriteLineAsync($"The pair model was trained on vectors of {judge.Dimensions} dimensions; {embedder.Name} gives {vectors.Of.Values.First().Length}.");
                return 1;
            }
            var thresholdPairs = tuning;
            if (training)
            {
                var cut = tuning.Count * 4 / 5;
                judge = Optimization.SemanticCaching.CacheEvaluation.TrainJudge(embedder.Name, tuning.Take(cut).ToList(), vectors, parse.GetValue(hidden), parse.GetValue(epochs), parse.GetValue(seed));
                thresholdPairs = tuning.Skip(cut).ToList();
                Console.WriteLine($"Pair model ({judge.Hidden} hidden units, {parse.GetValue(epochs)} passes) trained on {cut:N0} tuning pairs; thresholds chosen on the other {thresholdPairs.Count:N0}. Similarities below are the model's scores.");
                Console.WriteLine();
                if (saveTo is not null)
                {
                    if (!await ModelFile.TryWriteAsync(saveTo, judge.ToJson(), "pair model", ct))
                    {
                        return 1;
                    }

                    Console.WriteLine($"Wrote {saveTo}: name it as the semantic cache's pair_model (with embedder: {embedder.Name}).");
                    Console.WriteLine();
                }
            }
            else if (judge is not null)
            {
                Console.WriteLine($"Pair model {parse.GetValue(load)} ({judge.Hidden} hidden units): similarities below are its scores.");
                Console.WriteLine();
            }

            var name = Path.GetFileName(path);
            Console.WriteLine("## Lookups: each half loaded into one index, every text_b looking up its nearest entry");
            Console.WriteLine();
            var a = Optimization.SemanticCaching.CacheEvaluation.Run(thresholdPairs, vectors, judge, [.. tuning, .. heldOut]);
            var b = Optimization.SemanticCaching.CacheEvaluation.Run(heldOut, vectors, judge, [.. tuning, .. heldOut]);
            Console.WriteLine(Optimization.SemanticCaching.CacheEvaluation.Report(name, embedder.Name, normalise, a, b, parse.GetValue(precision)));
            Console.WriteLine("Bounded mode (lookups, guards on): learnt online over the tuning half, then run on over the held-out half:");
            Console.WriteLine();
            Console.WriteLine(Optimization.SemanticCaching.CacheEvaluation.BoundedReport(a, b));
            Console.WriteLine("## Pairs: each pair alone, its two questions' similarity");
            Console.WriteLine();
            var pa = Optimization.SemanticCaching.CacheEvaluation.RunPairwise(thresholdPairs, vectors, judge);
            var pb = Optimization.SemanticCaching.CacheEvaluation.RunPairwise(heldOut, vectors, judge);
            Console.WriteLine(Optimization.SemanticCaching.CacheEvaluation.Report(name, embedder.Name, normalise, pa, pb, parse.GetValue(precision)));
            Console.WriteLine("Bounded mode (pairs, guards on): learnt online over the tuning half, then run on over the held-out half:");
            Console.WriteLine();
            Console.WriteLine(Optimization.SemanticCaching.CacheEvaluation.BoundedReport(pa, pb));
            return 0;
        });
        return eval;
    }
}
