using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Tollgate.Bench;
using Tollgate.Configuration;
using Tollgate.FakeProviders;
using Tollgate.Gateway;

// Throughput and added latency of Tollgate against a bare forwarder and the upstream itself, all on this machine.
// Usage: dotnet run -c Release --project bench/Tollgate.Bench -- [--duration 10] [--warmup 3] [--out docs/PERFORMANCE.md]
var options = Args.Parse(args);
var culture = CultureInfo.InvariantCulture;
const string MasterKey = "sk-bench-master";
const string ChatBody = """{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Summarise the plot of Hamlet in two sentences."}],"max_tokens":200,"temperature":0.2}""";
const string StreamBody = """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Summarise the plot of Hamlet in two sentences."}],"max_tokens":200}""";

await using var upstream = await FakeOpenAiUpstream.StartAsync();
upstream.RecordRequests = false;
upstream.Usage = new FakeUsage(31, 48, CachedTokens: 0);
upstream.ReplyText = "Prince Hamlet feigns madness to avenge his father's murder by his uncle Claudius, now king. His hesitation brings ruin: nearly everyone, Hamlet included, dies by the end.";
await using var forwarder = await BareForwarder.StartAsync(upstream.BaseUrl);

var dataDirectory = Path.Combine(Path.GetTempPath(), "tollgate-bench-" + Guid.NewGuid().ToString("N"));
var config = ConfigLoader.Parse($"""
    listen: 127.0.0.1:0
    models:
      - alias: gpt-4o-mini
        provider: openai
        model: gpt-4o-mini
        base_url: {upstream.BaseUrl}
        api_key: sk-upstream
    """, "bench", _ => null) with { Storage = new StorageConfig(dataDirectory, Path.Combine(dataDirectory, "ledger.db")) };
await using var gateway = GatewayHost.Build(config, MasterKey);
await gateway.StartAsync();
var gatewayUrl = new Uri(gateway.Urls.First());

var targets = new (string Name, Uri Url, string? Key)[]
{
    ("upstream direct", new Uri(upstream.BaseUrl.AbsoluteUri.TrimEnd('/') + "/chat/completions"), null),
    ("bare forwarder", new Uri(forwarder.BaseUrl, "/v1/chat/completions"), null),
    ("tollgate", new Uri(gatewayUrl, "/v1/chat/completions"), MasterKey),
};

var results = new List<LoadResult>();
var roundRatios = new Dictionary<int, List<double>>();
if (options.Only is { } only)
{
    targets = [.. targets.Where(t => t.Name == only)];
}

// Targets take turns, round after round, and each reports its median round: on a shared machine the load from
// neighbours drifts over minutes, and interleaving spreads that drift evenly over the targets compared.
foreach (var connections in options.Connections)
{
    var rounds = targets.ToDictionary(t => t.Name, _ => new List<LoadResult>());
    for (var round = 0; round < options.Rounds; round++)
    {
        foreach (var (name, url, key) in targets)
        {
            var result = await LoadRun.RunAsync(name, url, key, ChatBody, connections, stream: false, options.Warmup, options.Duration);
            rounds[name].Add(result);
            Console.WriteLine(string.Create(culture, $"round {round + 1}  {name,-16} c={connections,-3} {result.RequestsPerSecond,9:F0} req/s  p50 {result.P50Us,8:F0} µs  p90 {result.P90Us,8:F0} µs  p99 {result.P99Us,8:F0} µs  cpu {result.CpuUsPerRequest,6:F0} µs/req  alloc {result.AllocatedBytesPerRequest / 1024,6:F1} KiB/req  gc pause {result.GcPauseUsPerRequest,5:F1} µs/req  gen0/1/2 {result.Collections}  errors {result.Errors}"));
        }
    }

    results.AddRange(targets.Select(t => LoadResult.Median(rounds[t.Name])));
    if (rounds.TryGetValue("tollgate", out var through) && rounds.TryGetValue("bare forwarder", out var bare))
    {
        // Tollgate and the forwarder run back to back within a round, under the same load from neighbours.
        roundRatios[connections] = [.. through.Zip(bare, (t, b) => t.RequestsPerSecond / b.RequestsPerSecond)];
    }
}

foreach (var (name, url, key) in targets.Where(t => t.Name != "upstream direct" && options.Only is null))
{
    var result = await LoadRun.RunAsync(name, url, key, StreamBody, options.Connections.Max(), stream: true, options.Warmup, options.Duration);
    results.Add(result);
    Console.WriteLine(string.Create(culture, $"{name,-16} stream c={result.Connections,-3} {result.RequestsPerSecond,9:F0} req/s  p50 {result.P50Us,8:F0} µs  p99 {result.P99Us,8:F0} µs  errors {result.Errors}"));
}

await gateway.StopAsync();
if (options.Only is not null)
{
    return;
}

var report = Report.Markdown(results, roundRatios, options, Environment.CommandLine);
if (options.Output is { } output)
{
    await File.WriteAllTextAsync(output, report);
    Console.WriteLine($"Wrote {output}");
}
else
{
    Console.WriteLine(report);
}

Directory.Delete(dataDirectory, recursive: true);

internal sealed record Args(TimeSpan Duration, TimeSpan Warmup, int[] Connections, string? Output, string? Only, int Rounds)
{
    public static Args Parse(string[] args)
    {
        var duration = 10.0;
        var warmup = 3.0;
        int[] connections = [1, 50];
        string? output = null;
        string? only = null;
        var rounds = 3;
        for (var i = 0; i < args.Length - 1; i += 2)
        {
            switch (args[i])
            {
                case "--duration": duration = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--connections": connections = [.. args[i + 1].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))]; break;
                case "--out": output = args[i + 1]; break;
                case "--only": only = args[i + 1]; break;
                case "--rounds": rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return new Args(TimeSpan.FromSeconds(duration), TimeSpan.FromSeconds(warmup), connections, output, only, Math.Max(1, rounds));
    }
}

internal static class Report
{
    public static string Markdown(IReadOnlyList<LoadResult> results, IReadOnlyDictionary<int, List<double>> roundRatios, Args options, string commandLine)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("# Performance");
        text.AppendLine();
        text.AppendLine("Produced by the benchmark harness in `bench/Tollgate.Bench`; rerun it to refresh this page:");
        text.AppendLine();
        text.AppendLine("```");
        text.AppendLine(string.Create(c, $"dotnet run -c Release --project bench/Tollgate.Bench -- --duration {options.Duration.TotalSeconds} --warmup {options.Warmup.TotalSeconds} --rounds {options.Rounds} --out docs/PERFORMANCE.md"));
        text.AppendLine("```");
        text.AppendLine();
        text.AppendLine(string.Create(c, $"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}. Date: {DateTime.UtcNow:yyyy-MM-dd}."));
        text.AppendLine();
        text.AppendLine("Setup: one process holds a fake OpenAI upstream (Kestrel on 127.0.0.1), a bare forwarder (Kestrel + the same tuned");
        text.AppendLine("`SocketsHttpHandler`, copying bytes, no parsing), the Tollgate gateway (authentication, JSON parse and rewrite,");
        text.AppendLine("attribution, routing, usage parsing, exact pricing, SQLite ledger write through the batched queue) and a closed-loop");
        text.AppendLine("load generator: each connection sends one request at a time. Everything shares the same cores, so absolute numbers");
        text.AppendLine("are lower than on a dedicated machine; the ratios between rows of the same run are the point. The non-streamed");
        text.AppendLine(string.Create(c, $"rows are the median of {options.Rounds} interleaved rounds of {options.Duration.TotalSeconds:0} s per target (targets take turns within each round), so that"));
        text.AppendLine("drifting load from neighbours on a shared machine falls on every target alike.");
        text.AppendLine();
        text.AppendLine("| target | connections | mode | req/s | p50 µs | p90 µs | p99 µs | CPU µs/req | KiB alloc/req | errors |");
        text.AppendLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            text.AppendLine(string.Create(c, $"| {r.Target} | {r.Connections} | {(r.Stream ? "stream" : "json")} | {r.RequestsPerSecond:F0} | {r.P50Us:F0} | {r.P90Us:F0} | {r.P99Us:F0} | {r.CpuUsPerRequest:F0} | {r.AllocatedBytesPerRequest / 1024:F1} | {r.Errors} |"));
        }

        text.AppendLine();
        text.AppendLine("CPU µs/req and KiB alloc/req are for the whole process (load generator, upstream and target together) divided by");
        text.AppendLine("the requests served; the difference between two rows is what the extra work costs, and on a machine whose");
        text.AppendLine("cores are all busy it is what decides throughput. Like req/s, they move with the machine's speed.");

        text.AppendLine();
        text.AppendLine("## Against the targets");
        text.AppendLine();
        LoadResult Find(string target, int connections) => results.First(r => r.Target == target && r.Connections == connections && !r.Stream);
        var most = options.Connections.Max();
        var least = options.Connections.Min();
        var throughputRatio = Find("tollgate", most).RequestsPerSecond / Find("bare forwarder", most).RequestsPerSecond;
        var addedOverDirect = Find("tollgate", least).P50Us - Find("upstream direct", least).P50Us;
        var addedOverForwarder = Find("tollgate", least).P50Us - Find("bare forwarder", least).P50Us;
        var perRound = roundRatios.TryGetValue(most, out var ratios) ? ratios.Order().ToList() : [];
        var roundMedian = perRound.Count > 0 ? perRound[perRound.Count / 2] : throughputRatio;
        var met = throughputRatio >= 0.60 && roundMedian >= 0.60;
        text.AppendLine(string.Create(c, $"- Throughput at {most} connections, Tollgate / bare forwarder: **{throughputRatio:P1}** from the median rows; per round, where the two ran back to back (sorted): {string.Join(", ", perRound.Select(r => r.ToString("P1", c)))}, median **{roundMedian:P1}** (target ≥ 60%, both measures): {(met ? "met" : "NOT met")}."));
        var cpuRatio = Find("bare forwarder", most).CpuUsPerRequest / Find("tollgate", most).CpuUsPerRequest;
        text.AppendLine(string.Create(c, $"  CPU per request, forwarder / Tollgate, at {most} connections: {cpuRatio:P1} — the throughput ratio a machine whose cores are all busy converges to."));
        text.AppendLine(string.Create(c, $"- p50 latency Tollgate adds at {least} connection over calling the upstream directly: **{addedOverDirect:F0} µs**; over the bare forwarder: **{addedOverForwarder:F0} µs** (target ≤ 100 µs added: {(addedOverForwarder <= 100 ? "met" : "NOT met")} against the forwarder, {(addedOverDirect <= 100 ? "met" : "NOT met")} against direct)."));
        text.AppendLine();
        text.AppendLine("On this shared 2-core VM single runs of the same build vary widely (the whole machine's speed drifts by 2× over");
        text.AppendLine("minutes), which is why the table reports medians of interleaved rounds and the ratio is also given round by round.");
        text.AppendLine();
        text.AppendLine("\"Added latency over direct\" includes a whole extra HTTP hop (client → proxy → upstream) that any proxy pays;");
        text.AppendLine("\"over the bare forwarder\" is what Tollgate's own work costs on top of that hop.");
        return text.ToString();
    }
}
