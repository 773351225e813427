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
        var limit = new Option<int>("--limit") { Description = "Pairs used (shuffled, then halved into tuning and held-out).", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<int>("--seed") { Description = "Shuffle seed.", DefaultValueFactory = _ => 1 };
        var precision = new Option<double>("--precision") { Description = "Precision the threshold is chosen for on the tuning half.", DefaultValueFactory = _ => 0.90 };
        var raw = new Option<bool>("--no-normalise") { Description = "Embed the questions as written, not normalised." };
        var embedderName = new Option<string>("--embedder") { Description = "lexical (no model) or minilm (all-MiniLM-L6-v2 on ONNX Runtime, in-process).", DefaultValueFactory = _ => "lexical" };
        embedderName.AcceptOnlyFromAmong(["lexical", .. Optimization.SemanticCaching.SentenceModelEmbedder.Names]);
        var eval = new Command("eval", "Evaluate semantic cache lookups on labelled question pairs (offline; no gateway needed).") { pairs, limit, seed, precision, raw, embedderName };
        eval.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(pairs)!;
            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"No file at {Path.GetFullPath(path)}.");
                return 1;
            }

            var all = Optimization.SemanticCaching.CacheEvaluation.Read(path);
            var (identical, different) = Optimization.SemanticCaching.CacheEvaluation.LabelNoise(all);
            Console.WriteLine($"Label noise floor: of the {all.Count:N0} pairs, {identical:N0} are written identically (case, spaces, punctuation aside) and {different:N0} of those ({different / (double)Math.Max(1, identical):P1}) are labelled different.");
            Console.WriteLine();
            var (tuning, heldOut) = Optimization.SemanticCaching.CacheEvaluation.Split(all, parse.GetValue(limit), parse.GetValue(seed));
            using var model = Optimization.SemanticCaching.SentenceModelEmbedder.Create(parse.GetValue(embedderName)!);
            Optimization.SemanticCaching.ITextEmbedder embedder = model is not null ? model : new Optimization.SemanticCaching.LexicalEmbedder();
            var normalise = !parse.GetValue(raw);
            var name = Path.GetFileName(path);
            Console.WriteLine("## Lookups: each half loaded into one index, every text_b looking up its nearest entry");
            Console.WriteLine();
            var a = await Optimization.SemanticCaching.CacheEvaluation.RunAsync(tuning, embedder, normalise, ct);
            var b = await Optimization.SemanticCaching.CacheEvaluation.RunAsync(heldOut, embedder, normalise, ct);
            Console.WriteLine(Optimization.SemanticCaching.CacheEvaluation.Report(name, embedder.Name, normalise, a, b, parse.GetValue(precision)));
            Console.WriteLine("Bounded mode (lookups, guards on): learnt online over the tuning half, then run on over the held-out half:");
            Console.WriteLine();
            Console.WriteLine(Optimization.SemanticCaching.CacheEvaluation.BoundedReport(a, b));
            Console.WriteLine("## Pairs: each pair alone, its two questions' similarity");
            Console.WriteLine();
            var pa = await Optimization.SemanticCaching.CacheEvaluation.RunPairwiseAsync(tuning, embedder, normalise, ct);
            var pb = await Optimization.SemanticCaching.CacheEvaluation.RunPairwiseAsync(heldOut, embedder, normalise, ct);
            Console.WriteLine(Optimization.SemanticCaching.CacheEvaluation.Report(name, embedder.Name, normalise, pa, pb, parse.GetValue(precision)));
            return 0;
        });
        return eval;
    }
}
