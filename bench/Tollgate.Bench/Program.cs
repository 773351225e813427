using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Tollgate.Bench;
using Tollgate.Configuration;
using Tollgate.FakeProviders;
using Tollgate.Gateway;

// Throughput and added latency of Tollgate against a bare forwarder and the upstream itself, all on this machine.
// Usage: dotnet run -c Release --project bench/Tollgate.Bench -- [--slice 2] [--rounds 15] [--connections 1,50] [--out docs/PERFORMANCE.md]
//        dotnet run -c Release --project bench/Tollgate.Bench -- --tokenizer   (counting huge single-piece prompts; see TokenizerBench)
//        dotnet run -c Release --project bench/Tollgate.Bench -- --vector-index   (semantic cache lookups; see VectorIndexBench)
//        dotnet run -c Release --project bench/Tollgate.Bench -- --streams 1000   (peak memory of the gateway's process with that many streams open; see ConcurrentStreamsBench)
//        dotnet run -c Release --project bench/Tollgate.Bench -- --replay-prompts ../shared/eval/prompts/ShareGPT_V3_filtered_1000.json   (exact-cache duplicate rate)
//        dotnet run -c Release --project bench/Tollgate.Bench -- --ledger 10000000 [--db PATH | --postgres CONN]   (reports over a large ledger; see LedgerBench)
//        dotnet run -c Release --project bench/Tollgate.Bench -- --postgres CONN [--nginx] --only "bare forwarder,tollgate,tollgate postgres,nginx → 1 replica,nginx → 2 replicas"   (PostgreSQL ledger; with nginx, two replicas behind it)
//        dotnet run -c Release --project bench/Tollgate.Bench -- --postgres CONN --only "tollgate,tollgate cache hit,tollgate postgres,tollgate postgres cache hit"   (the exact cache in memory and in PostgreSQL)
//        dotnet run -c Release --project bench/Tollgate.Bench -- --processes --only "forwarder process,tollgate serve,tollgate serve all features"   (each server in a process of its own)
if (Array.IndexOf(args, "--serve-forwarder") is var serveForwarderAt and >= 0)
{
    await ForwarderProcess.ServeAsync(new Uri(args[serveForwarderAt + 1]));
    return;
}

if (args.Contains("--otlp-sink"))
{
    await OtlpSink.ServeAsync();
    return;
}

if (args.Contains("--tokenizer"))
{
    TokenizerBench.Run();
    return;
}

if (Array.IndexOf(args, "--replay-prompts") is var replayAt and >= 0)
{
    await PromptReplay.RunAsync(args[replayAt + 1]);
    return;
}

if (Array.IndexOf(args, "--routing") is var routingAt and >= 0)
{
    await Tollgate.Bench.RoutingBench.RunAsync(args[routingAt + 1]);
    return;
}

if (Array.IndexOf(args, "--streams") is var streamsAt and >= 0)
{
    await ConcurrentStreamsBench.RunAsync(int.Parse(args[streamsAt + 1], CultureInfo.InvariantCulture));
    return;
}

if (args.Contains("--vector-index"))
{
    VectorIndexBench.Run();
    return;
}

if (Array.IndexOf(args, "--ledger") is var ledgerAt and >= 0)
{
    var db = Array.IndexOf(args, "--db") is var dbAt and >= 0 ? args[dbAt + 1] : null;
    var postgres = Array.IndexOf(args, "--postgres") is var pgAt and >= 0 ? args[pgAt + 1] : null;
    await LedgerBench.RunAsync(long.Parse(args[ledgerAt + 1], CultureInfo.InvariantCulture), db, postgres);
    return;
}

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
GatewayConfig Config(string settings, string directory) =>
    ConfigLoader.Parse($"listen: 127.0.0.1:0\n{settings}\n{BenchModels.Yaml(upstream.BaseUrl)}", "bench", _ => null)
        with { Storage = new StorageConfig(directory, Path.Combine(directory, "ledger.db")) };
var config = Config(string.Empty, dataDirectory);
await using var gateway = GatewayHost.Build(config, MasterKey);
await gateway.StartAsync();
var gatewayUrl = new Uri(gateway.Urls.First());

// The same gateway with the exact response cache on: after the first request every one is a hit (a $0 record each).
var cachedDirectory = dataDirectory + "-cached";
var cachedConfig = Config("cache: { exact: { ttl_seconds: 86400 } }", cachedDirectory);
await using var cachedGateway = GatewayHost.Build(cachedConfig, MasterKey);
await cachedGateway.StartAsync();

// The same gateway with what a team turns on: a hard budget, required tags, and a virtual key with requests- and
// tokens-per-minute limits (too high to be reached), every request carrying attribution headers. With --features,
// also each of those alone, to see what each costs a request.
var featureGateways = new List<(string Name, FeatureGateway Gateway)>
{
    ("tollgate all features", await FeatureGateway.StartAsync(Config, FeatureGateway.HardBudget + FeatureGateway.RequiredTags, dataDirectory + "-full", MasterKey, FeatureGateway.LimitedKey, FeatureGateway.Attribution)),
};
if (args.Contains("--features"))
{
    featureGateways.Add(("+ virtual key", await FeatureGateway.StartAsync(Config, string.Empty, dataDirectory + "-key", MasterKey, FeatureGateway.PlainKey, null)));
    featureGateways.Add(("+ key limits", await FeatureGateway.StartAsync(Config, string.Empty, dataDirectory + "-limits", MasterKey, FeatureGateway.LimitedKey, null)));
    featureGateways.Add(("+ hard budget", await FeatureGateway.StartAsync(Config, FeatureGateway.HardBudget, dataDirectory + "-budget", MasterKey, null, null)));
    featureGateways.Add(("+ attribution", await FeatureGateway.StartAsync(Config, FeatureGateway.RequiredTags, dataDirectory + "-tags", MasterKey, null, FeatureGateway.Attribution)));
    featureGateways.Add(("+ exact cache (misses)", await FeatureGateway.StartAsync(Config, FeatureGateway.ExactCache, dataDirectory + "-exact", MasterKey, null, null)));
    featureGateways.Add(("+ semantic cache (misses)", await FeatureGateway.StartAsync(Config, FeatureGateway.SemanticCache, dataDirectory + "-semantic", MasterKey, null, null)));
    featureGateways.Add(("+ router", await FeatureGateway.StartAsync(Config, FeatureGateway.Router, dataDirectory + "-router", MasterKey, null, null)));
}

// With --otlp: the same gateway twice as `tollgate serve` processes of their own, one exporting every request as an
// OpenTelemetry span and metrics to an OTLP sink (a third process), the other not; the two take turns round after round,
// so the export's cost is read under the same load from neighbours. (In one process every gateway would share the
// OpenTelemetry listener: the spans' source is static.)
OtlpSink? otlpSink = args.Contains("--otlp") ? await OtlpSink.StartAsync() : null;
var otlpSample = Array.IndexOf(args, "--otlp-sample") is var sampleAt and >= 0 ? args[sampleAt + 1] : "1.0";
var processModels = BenchModels.Yaml(upstream.BaseUrl);
var processGateways = new List<(string Name, GatewayProcess Gateway)>();
var processKeys = new Dictionary<string, string>();
if (otlpSink is not null || args.Contains("--processes"))
{
    processGateways.Add(("tollgate serve", await GatewayProcess.StartAsync(MasterKey, processModels)));
}

if (args.Contains("--processes"))
{
    // "tollgate all features" as `tollgate serve`: the same budget, required tags, limited key and attribution headers.
    var allFeatures = await GatewayProcess.StartAsync(MasterKey, processModels + "\n" + FeatureGateway.HardBudget + FeatureGateway.RequiredTags);
    processGateways.Add(("tollgate serve all features", allFeatures));
    processKeys["tollgate serve all features"] = await FeatureGateway.CreateKeyAsync(allFeatures.BaseUrl, MasterKey, FeatureGateway.LimitedKey);
}

if (otlpSink is not null)
{
    processGateways.Add(("tollgate serve + otlp", await GatewayProcess.StartAsync(MasterKey,
        processModels + $"\ntelemetry:\n  otlp_endpoint: {otlpSink.BaseUrl}\n  export_interval_ms: 1000\n  sample_ratio: {otlpSample}")));
}

// With --processes: the bare forwarder and `tollgate serve` each in a process of its own, as they run in production:
// a gateway's collections then pause the gateway, not the load generator and the upstream beside it in this process.
await using var forwarderProcess = args.Contains("--processes") ? await ForwarderProcess.StartAsync(upstream.BaseUrl) : null;

// How each feature gateway's requests are shaped: distinct questions for the cache rows, the router's name for its row.
LoadTarget TargetFor((string Name, Uri Url, string? Key) e) =>
    new(e.Name, e.Url, e.Key, options.Connections.Max(),
        e.Name == "tollgate serve all features" ? FeatureGateway.Attribution : featureGateways.FirstOrDefault(f => f.Name == e.Name).Gateway?.Headers)
    {
        DistinctQuestion = e.Name.Contains("cache (misses)", StringComparison.Ordinal) ? FeatureGateway.Question : null,
        BodyOf = e.Name == "+ router" ? body => body.Replace("\"model\":\"gpt-4o-mini\"", "\"model\":\"bench-router\"", StringComparison.Ordinal) : null,
        Server = e.Name == "forwarder process" ? forwarderProcess : processGateways.FirstOrDefault(p => p.Name == e.Name).Gateway,
    };

// With --postgres CONNECTION: the same gateway with its ledger (and hard budgets' room) in that PostgreSQL database.
var postgresAt = Array.IndexOf(args, "--postgres");
Microsoft.AspNetCore.Builder.WebApplication? postgresGateway = null;
Microsoft.AspNetCore.Builder.WebApplication? sharedCacheGateway = null;
if (postgresAt >= 0)
{
    var postgresDirectory = dataDirectory + "-postgres";
    var postgresConfig = Config(string.Empty, postgresDirectory) with
    {
        Storage = new StorageConfig(postgresDirectory, Path.Combine(postgresDirectory, "ledger.db")) { PostgresConnection = args[postgresAt + 1] },
    };
    postgresGateway = GatewayHost.Build(postgresConfig, MasterKey);
    await postgresGateway.StartAsync();

    // And a gateway whose exact cache is kept in that database (store: shared), sent the same request every time.
    var sharedCacheDirectory = dataDirectory + "-postgres-cache";
    var connection = args[postgresAt + 1].Replace("\"", "\\\"", StringComparison.Ordinal);
    sharedCacheGateway = GatewayHost.Build(Config($"storage: {{ postgres: \"{connection}\" }}\ncache: {{ exact: {{ ttl_seconds: 86400, store: shared }} }}", sharedCacheDirectory) with
    {
        Storage = new StorageConfig(sharedCacheDirectory, Path.Combine(sharedCacheDirectory, "ledger.db")) { PostgresConnection = args[postgresAt + 1] },
    }, MasterKey);
    await sharedCacheGateway.StartAsync();
}

// With --postgres and --nginx: a second replica on the same database, and nginx in front of one and of both.
Microsoft.AspNetCore.Builder.WebApplication? secondReplica = null;
NginxProxy? nginxOne = null;
NginxProxy? nginxTwo = null;
if (postgresGateway is not null && args.Contains("--nginx"))
{
    var secondDirectory = dataDirectory + "-postgres-b";
    secondReplica = GatewayHost.Build(Config(string.Empty, secondDirectory) with
    {
        Storage = new StorageConfig(secondDirectory, Path.Combine(secondDirectory, "ledger.db")) { PostgresConnection = args[postgresAt + 1] },
    }, MasterKey);
    await secondReplica.StartAsync();
    nginxOne = await NginxProxy.StartAsync([new Uri(postgresGateway.Urls.First())]);
    nginxTwo = await NginxProxy.StartAsync([new Uri(postgresGateway.Urls.First()), new Uri(secondReplica.Urls.First())]);
}

// With --nginx: nginx as a plain proxy in front of the upstream — what any proxy hop costs, streams' first byte included.
var nginxUpstream = args.Contains("--nginx") ? await NginxProxy.StartAsync([upstream.BaseUrl]) : null;

var maxConnections = options.Connections.Max();
var endpoints = new (string Name, Uri Url, string? Key)[]
{
    ("upstream direct", new Uri(upstream.BaseUrl.AbsoluteUri.TrimEnd('/') + "/chat/completions"), null),
    ("bare forwarder", new Uri(forwarder.BaseUrl, "/v1/chat/completions"), null),
    ("tollgate", new Uri(gatewayUrl, "/v1/chat/completions"), MasterKey),
    ("tollgate cache hit", new Uri(new Uri(cachedGateway.Urls.First()), "/v1/chat/completions"), MasterKey),
};
endpoints = [.. endpoints, .. featureGateways.Select(f => (f.Name, f.Gateway.Url, (string?)f.Gateway.Bearer))];
endpoints = [.. endpoints, .. processGateways.Select(p => (p.Name, new Uri(p.Gateway.BaseUrl, "/v1/chat/completions"), (string?)processKeys.GetValueOrDefault(p.Name, MasterKey)))];
if (forwarderProcess is not null)
{
    endpoints = [.. endpoints, ("forwarder process", new Uri(forwarderProcess.BaseUrl, "/v1/chat/completions"), null)];
}
if (nginxUpstream is not null)
{
    endpoints = [.. endpoints, ("nginx → upstream", new Uri(nginxUpstream.BaseUrl, "/v1/chat/completions"), null)];
}

if (postgresGateway is not null)
{
    endpoints = [.. endpoints, ("tollgate postgres", new Uri(new Uri(postgresGateway.Urls.First()), "/v1/chat/completions"), MasterKey)];
    endpoints = [.. endpoints, ("tollgate postgres cache hit", new Uri(new Uri(sharedCacheGateway!.Urls.First()), "/v1/chat/completions"), MasterKey)];
}

if (nginxOne is not null && nginxTwo is not null)
{
    endpoints = [.. endpoints,
        ("nginx → 1 replica", new Uri(nginxOne.BaseUrl, "/v1/chat/completions"), MasterKey),
        ("nginx → 2 replicas", new Uri(nginxTwo.BaseUrl, "/v1/chat/completions"), MasterKey)];
}
if (options.Only is { } only)
{
    // Some of the targets (comma-separated), for profiling: no streamed rows and no report.
    var names = only.Split(',', StringSplitOptions.TrimEntries);
    endpoints = [.. endpoints.Where(t => names.Contains(t.Name))];
}

var targets = endpoints.Select(TargetFor).ToList();
var results = new List<LoadResult>();
var roundRatios = new Dictionary<int, List<double>>();
var settled = new List<(string Target, string Mode, TimeSpan Took, double RequestsPerSecond)>();

// Steady state first: each target runs alone until the JIT has finished compiling its hot code.
foreach (var target in targets)
{
    var (took, rate) = await LoadRun.SettleAsync(target, ChatBody, maxConnections, options.SettleMinimum, options.SettleMaximum);
    settled.Add((target.Name, "json", took, rate));
    Console.WriteLine(string.Create(culture, $"settled  {target.Name,-16} json   after {took.TotalSeconds,4:F0} s at {rate,7:F0} req/s"));
}

if (options.Allocations)
{
    // What each target allocates per request, by type: for finding what to cut, not for the report.
    using var sampler = new AllocationSampler();
    foreach (var target in targets)
    {
        sampler.Start();
        var slice = await LoadRun.RunAsync(target, ChatBody, maxConnections, options.Warmup, TimeSpan.FromSeconds(5));
        var types = sampler.Stop();
        Console.WriteLine(string.Create(culture, $"allocations  {target.Name}: {slice.AllocatedBytes / (double)slice.Requests:F0} bytes/request (all of the process); by type, sampled:"));
        foreach (var (type, bytes) in types.Take(40))
        {
            Console.WriteLine(string.Create(culture, $"  {bytes / (double)slice.Requests,8:F0}  {type}"));
        }
    }

    await gateway.StopAsync();
    await cachedGateway.StopAsync(); // stopped, not only disposed: a host disposed while running logs its services' cancellation as a crash
    foreach (var (_, featureGateway) in featureGateways)
    {
        await featureGateway.DisposeAsync();
    }

    targets.ForEach(t => t.Dispose());
    if (nginxUpstream is not null)
    {
        await nginxUpstream.DisposeAsync(); // a child process: it would outlive the bench
    }

    return;
}

var featureCosts = new List<(string Feature, int Connections, double Median, double Low, double High)>();
var gcBefore = StageTimes.GcSnapshot();
var measuredFrom = System.Diagnostics.Stopwatch.GetTimestamp();

// Then short slices, the targets taking turns round after round: on a shared machine the speed drifts over
// seconds to minutes, and many short turns spread that drift evenly over the targets compared.
foreach (var connections in options.Connections)
{
    var slices = targets.ToDictionary(t => t.Name, _ => new List<LoadSlice>());
    for (var round = 0; round < options.Rounds; round++)
    {
        foreach (var target in targets)
        {
            var slice = await LoadRun.RunAsync(target, ChatBody, connections, options.Warmup, options.Slice);
            slices[target.Name].Add(slice);
            Console.WriteLine(string.Create(culture, $"round {round + 1,2}  {target.Name,-16} c={connections,-3} {slice.RequestsPerSecond,9:F0} req/s  cpu {slice.CpuUsPerRequest,6:F0} µs/req  errors {slice.Errors}"));
        }
    }

    results.AddRange(targets.Select(t => LoadResult.Of(t.Name, connections, stream: false, slices[t.Name])));
    if (slices.TryGetValue("tollgate", out var plain))
    {
        // What each feature costs a request: its gateway's CPU per request over the plain gateway's in the same round.
        foreach (var (name, _) in featureGateways)
        {
            if (slices.TryGetValue(name, out var withFeature))
            {
                var deltas = withFeature.Zip(plain, (f, p) => f.CpuUsPerRequest - p.CpuUsPerRequest).Order().ToList();
                featureCosts.Add((name, connections, deltas[deltas.Count / 2], deltas[deltas.Count / 4], deltas[3 * deltas.Count / 4]));
            }
        }
    }

    if (slices.TryGetValue("tollgate serve + otlp", out var exporting) && slices.TryGetValue("tollgate serve", out var quiet))
    {
        // The same gateway with and without OTLP export, back to back within each round.
        var shares = exporting.Zip(quiet, (e, q) => e.RequestsPerSecond / q.RequestsPerSecond).Order().ToList();
        var extraCpu = exporting.Zip(quiet, (e, q) => e.CpuUsPerRequest - q.CpuUsPerRequest).Order().ToList();
        Console.WriteLine(string.Create(culture,
            $"otlp export at c={connections}: throughput {shares[shares.Count / 2]:F3}× the same gateway without it (median round; quartiles {shares[shares.Count / 4]:F3} … {shares[3 * shares.Count / 4]:F3}), CPU {extraCpu[extraCpu.Count / 2]:+0;-0;0} µs/request (median round)"));
    }

    if (slices.TryGetValue("tollgate", out var through) && slices.TryGetValue("bare forwarder", out var bare))
    {
        // Tollgate and the forwarder run back to back within a round, under the same load from neighbours.
        roundRatios[connections] = [.. through.Zip(bare, (t, b) => t.RequestsPerSecond / b.RequestsPerSecond)];
    }
}

// Streams at every connection count, the upstream called directly included: the time to a stream's first byte over
// calling the provider directly is what a streaming client feels of the gateway.
var streaming = targets;
if (options.Only is null && streaming.Count > 0)
{
    foreach (var target in streaming)
    {
        var (took, rate) = await LoadRun.SettleAsync(target, StreamBody, maxConnections, options.SettleMinimum / 2, options.SettleMaximum / 2);
        settled.Add((target.Name, "stream", took, rate));
        Console.WriteLine(string.Create(culture, $"settled  {target.Name,-16} stream after {took.TotalSeconds,4:F0} s at {rate,7:F0} req/s"));
    }

    foreach (var connections in options.Connections)
    {
        var slices = streaming.ToDictionary(t => t.Name, _ => new List<LoadSlice>());
        for (var round = 0; round < Math.Max(1, options.Rounds / 3); round++)
        {
            foreach (var target in streaming)
            {
                var slice = await LoadRun.RunAsync(target, StreamBody, connections, options.Warmup, options.Slice);
                slices[target.Name].Add(slice);
                Console.WriteLine(string.Create(culture, $"round {round + 1,2}  {target.Name,-16} stream c={connections,-3} {slice.RequestsPerSecond,9:F0} req/s  cpu {slice.CpuUsPerRequest,6:F0} µs/req  errors {slice.Errors}"));
            }
        }

        results.AddRange(streaming.Select(t => LoadResult.Of(t.Name, connections, stream: true, slices[t.Name])));
    }
}

var gcLine = StageTimes.GcLine(gcBefore, StageTimes.GcSnapshot(), System.Diagnostics.Stopwatch.GetElapsedTime(measuredFrom));
Console.WriteLine(gcLine);
var featureTable = new StringBuilder("| feature (alone, over the plain gateway) | connections | CPU µs/req over plain, median round | quartiles |\n|---|---:|---:|---|\n");
foreach (var (feature, connections, median, low, high) in featureCosts)
{
    featureTable.AppendLine(string.Create(culture, $"| {feature} | {connections} | {median:+0;-0;0} | {low:+0;-0;0} … {high:+0;-0;0} |"));
}

if (featureCosts.Count > 0)
{
    Console.WriteLine(featureTable);
}

var stageTable = StageTimes.Markdown([
    ("tollgate", gateway.Services), ("tollgate cache hit", cachedGateway.Services), .. featureGateways.Select(f => (f.Name, f.Gateway.Services))]);
Console.WriteLine(stageTable);

await gateway.StopAsync();
await cachedGateway.StopAsync();
foreach (var (_, featureGateway) in featureGateways)
{
    await featureGateway.DisposeAsync();
}
if (postgresGateway is not null)
{
    await postgresGateway.StopAsync();
    await postgresGateway.DisposeAsync();
}

if (sharedCacheGateway is not null)
{
    await sharedCacheGateway.StopAsync();
    await sharedCacheGateway.DisposeAsync();
}

if (secondReplica is not null)
{
    await nginxOne!.DisposeAsync();
    await nginxTwo!.DisposeAsync();
    await secondReplica.StopAsync();
    await secondReplica.DisposeAsync();
}
if (nginxUpstream is not null)
{
    await nginxUpstream.DisposeAsync();
}

targets.ForEach(t => t.Dispose());

foreach (var (_, processGateway) in processGateways)
{
    await processGateway.StopAsync();
    await processGateway.DisposeAsync();
}

if (otlpSink is not null)
{
    await otlpSink.DisposeAsync();
    Console.WriteLine(string.Create(culture, $"otlp: {otlpSink.Received.Exports:N0} exports, {otlpSink.Received.Bytes / 1e6:N1} MB received (by a sink in its own process)"));
}

// Rolling records up is the ledger writer's work off the request path; on a machine whose cores are all busy it is taken
// from throughput. Its share of the run's CPU is its cost.
var upkeep = gateway.Services.GetRequiredService<Tollgate.Ledger.Rollups.RollupUpkeep>();
var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
Console.WriteLine(string.Create(culture,
    $"rollup upkeep: {upkeep.Records:N0} records in {upkeep.Elapsed.TotalSeconds:F1} s ({upkeep.Elapsed.TotalMicroseconds / Math.Max(1, upkeep.Records):F1} µs a record), {upkeep.Elapsed.TotalSeconds / cpu.TotalSeconds:P1} of the process's {cpu.TotalSeconds:F0} CPU seconds"));
if (options.Only is not null)
{
    // No report for some of the targets; their rows, for reading the tail.
    Console.WriteLine("| target | connections | req/s | p50 µs | p99 µs | p99.9 µs | CPU µs/req |");
    foreach (var r in results)
    {
        Console.WriteLine(string.Create(culture, $"| {r.Target} | {r.Connections} | {r.RequestsPerSecond:F0} | {r.P50Us:F0} | {r.P99Us:F0} | {r.P999Us:F0} | {r.CpuUsPerRequest:F0} |"));
    }

    return;
}

var report = Report.Markdown(results, roundRatios, settled, options);
if (featureCosts.Count > 0)
{
    report += Environment.NewLine + "What each feature costs a request (process CPU, so the load generator's share of extra headers or distinct questions is in it):" + Environment.NewLine + Environment.NewLine + featureTable;
}

report += Environment.NewLine + "Where each gateway's own time goes, by stage (`tollgate_gateway_stage_seconds`; the provider's time apart), over all of its requests:" + Environment.NewLine + Environment.NewLine + stageTable + Environment.NewLine + gcLine + Environment.NewLine;
if (options.Output is { } output)
{
    // What was learnt from profiles is written by hand below the marker and survives a rerun.
    var kept = File.Exists(output) ? await File.ReadAllTextAsync(output) : string.Empty;
    var notes = kept.IndexOf(Report.NotesMarker, StringComparison.Ordinal);
    report += Environment.NewLine + (notes >= 0 ? kept[notes..] : Report.NotesMarker + Environment.NewLine);
    await File.WriteAllTextAsync(output, report);
    Console.WriteLine($"Wrote {output}");
}
else
{
    Console.WriteLine(report);
}

Directory.Delete(dataDirectory, recursive: true);
Directory.Delete(cachedDirectory, recursive: true);

internal sealed record Args(TimeSpan Slice, TimeSpan Warmup, int[] Connections, string? Output, string? Only, int Rounds, TimeSpan SettleMinimum, TimeSpan SettleMaximum, bool Allocations, string Targets = "")
{
    public static Args Parse(string[] args)
    {
        var slice = 1.0;
        var warmup = 0.2;
        int[] connections = [1, 50];
        string? output = null;
        string? only = null;
        var rounds = 30;
        var settleMinimum = 15.0;
        var settleMaximum = 60.0;
        var allocations = args.Contains("--allocations");
        var targets = string.Concat(args.Where(a => a is "--nginx" or "--features" or "--processes").Select(a => a + " "));
        args = [.. args.Where(a => a is not "--allocations" and not "--nginx" and not "--otlp" and not "--features" and not "--processes")];
        for (var i = 0; i < args.Length - 1; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--slice": slice = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--connections": connections = [.. value.Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))]; break;
                case "--out": output = value; break;
                case "--only": only = value; break;
                case "--rounds": rounds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--settle-min": settleMinimum = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--settle-max": settleMaximum = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--postgres": break; // read where the PostgreSQL gateway is built
                case "--otlp-sample": break; // read where the gateway is configured
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return new Args(TimeSpan.FromSeconds(slice), TimeSpan.FromSeconds(warmup), connections, output, only, Math.Max(1, rounds),
            TimeSpan.FromSeconds(settleMinimum), TimeSpan.FromSeconds(Math.Max(settleMinimum, settleMaximum)), allocations, targets);
    }

    /// <summary>The options as they would be typed, for the report's "rerun it" line.</summary>
    public string CommandLine(string output) => string.Create(CultureInfo.InvariantCulture,
        $"dotnet run -c Release --project bench/Tollgate.Bench -- {Targets}--slice {Slice.TotalSeconds} --warmup {Warmup.TotalSeconds} --rounds {Rounds} --settle-min {SettleMinimum.TotalSeconds} --settle-max {SettleMaximum.TotalSeconds} --connections {string.Join(',', Connections)} --out {output}");
}

internal static class Report
{
    public const string NotesMarker = "<!-- Notes below this line are written by hand and kept when the page is regenerated. -->";

    public static string Markdown(
        IReadOnlyList<LoadResult> results,
        IReadOnlyDictionary<int, List<double>> roundRatios,
        IReadOnlyList<(string Target, string Mode, TimeSpan Took, double RequestsPerSecond)> settled,
        Args options)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("# Performance");
        text.AppendLine();
        text.AppendLine("Produced by the benchmark harness in `bench/Tollgate.Bench`; rerun it to refresh this page:");
        text.AppendLine();
        text.AppendLine("```");
        text.AppendLine(options.CommandLine("docs/PERFORMANCE.md"));
        text.AppendLine("```");
        text.AppendLine();
        text.AppendLine(string.Create(c, $"Machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}. Date: {DateTime.UtcNow:yyyy-MM-dd}."));
        text.AppendLine();
        text.AppendLine("Setup: one process holds a fake OpenAI upstream (Kestrel on 127.0.0.1), a bare forwarder (Kestrel + the same tuned");
        text.AppendLine("`SocketsHttpHandler`, copying bytes, no parsing), the Tollgate gateway (authentication, JSON parse and rewrite,");
        text.AppendLine("attribution, routing, usage parsing, exact pricing, the crash-safe journal and the SQLite ledger write) and a");
        text.AppendLine("closed-loop load generator: each connection sends one request at a time over its own keep-alive connection.");
        text.AppendLine("\"tollgate cache hit\" is a second gateway with the exact response cache on, sent the same request every time:");
        text.AppendLine("after the first, each is answered from the cache and recorded ($0, with its saving) without an upstream call.");
        text.AppendLine("Everything shares the same cores, so absolute numbers are lower than on a dedicated machine; the ratios");
        text.AppendLine("between rows of the same run are the point.");
        text.AppendLine();
        text.AppendLine("How it is measured:");
        text.AppendLine();
        text.AppendLine("1. **Steady state first.** Each target runs alone at the highest connection count until its throughput stops rising");
        text.AppendLine("   (the JIT compiles hot code in tiers, and on two busy cores that takes many seconds):");
        foreach (var s in settled)
        {
            text.AppendLine(string.Create(c, $"   {s.Target} ({s.Mode}) settled after {s.Took.TotalSeconds:F0} s at {s.RequestsPerSecond:F0} req/s."));
        }

        text.AppendLine(string.Create(c, $"2. **Short interleaved slices.** The targets take turns, {options.Rounds} rounds of one {options.Slice.TotalSeconds:0.#} s slice each (after"));
        text.AppendLine(string.Create(c, $"   {options.Warmup.TotalSeconds:0.#} s unmeasured), so that the drifting speed of a shared machine falls on every target alike. A row adds"));
        text.AppendLine("   up all of a target's slices; streamed rows use a third as many rounds.");
        text.AppendLine();
        text.AppendLine("| target | connections | mode | req/s | p50 µs | p90 µs | p99 µs | p99.9 µs | CPU µs/req | KiB alloc/req | errors |");
        text.AppendLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            text.AppendLine(string.Create(c, $"| {r.Target} | {r.Connections} | {(r.Stream ? "stream" : "json")} | {r.RequestsPerSecond:F0} | {r.P50Us:F0} | {r.P90Us:F0} | {r.P99Us:F0} | {r.P999Us:F0} | {r.CpuUsPerRequest:F0} | {r.AllocatedBytesPerRequest / 1024:F1} | {r.Errors} |"));
        }

        var streams = results.Where(r => r.Stream).ToList();
        if (streams.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Streams: the time to the first byte of the answer (what a streaming client waits before its first token), and over calling the upstream directly at the same number of streams:");
            text.AppendLine();
            text.AppendLine("| target | streams | first byte p50 µs | p99 µs | p50 over direct µs |");
            text.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var r in streams)
            {
                var direct = streams.FirstOrDefault(d => d.Target == "upstream direct" && d.Connections == r.Connections);
                text.AppendLine(string.Create(c, $"| {r.Target} | {r.Connections} | {r.FirstByte.P50Us:F0} | {r.FirstByte.P99Us:F0} | {(direct is null ? "–" : (r.FirstByte.P50Us - direct.FirstByte.P50Us).ToString("F0", c))} |"));
            }
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
        double Quantile(double q) => perRound.Count == 0 ? throughputRatio : perRound[Math.Min(perRound.Count - 1, (int)Math.Floor(q * perRound.Count))];
        var roundMedian = Quantile(0.5);
        var above = perRound.Count(r => r >= 0.60);
        var met = throughputRatio >= 0.60 && roundMedian >= 0.60;
        text.AppendLine(string.Create(c, $"- Throughput at {most} connections, Tollgate / bare forwarder: **{throughputRatio:P1}** over all slices; per round, where the two ran back to back:"));
        text.AppendLine(string.Create(c, $"  median **{roundMedian:P1}**, quartiles {Quantile(0.25):P1} – {Quantile(0.75):P1}, lowest {Quantile(0):P1}, highest {Quantile(1):P1}; {above} of {perRound.Count} rounds at or above 60%"));
        text.AppendLine(string.Create(c, $"  (target ≥ 60%, over all slices and per-round median): {(met ? "met" : "NOT met")}."));
        var cpuRatio = Find("bare forwarder", most).CpuUsPerRequest / Find("tollgate", most).CpuUsPerRequest;
        text.AppendLine(string.Create(c, $"  CPU per request, forwarder / Tollgate, at {most} connections: {cpuRatio:P1} — the throughput ratio a machine whose cores are all busy converges to."));
        if (results.Any(r => r.Target == "tollgate cache hit"))
        {
            var hitRatio = Find("tollgate cache hit", most).RequestsPerSecond / Find("tollgate", most).RequestsPerSecond;
            text.AppendLine(string.Create(c, $"- Exact cache hits at {most} connections, against requests Tollgate forwards: **{hitRatio:F2}×** the throughput (target ≥ 2×: {(hitRatio >= 2 ? "met" : "NOT met")}); p50 at {least} connection {Find("tollgate cache hit", least).P50Us:F0} µs against {Find("tollgate", least).P50Us:F0} µs."));
        }

        if (results.Any(r => r.Target == "tollgate all features"))
        {
            // Issue 19's targets: every feature on, and the tail.
            var full = Find("tollgate all features", most);
            var fullRatio = full.RequestsPerSecond / Find("bare forwarder", most).RequestsPerSecond;
            text.AppendLine(string.Create(c, $"- All features on (virtual key with RPM/TPM limits, hard budget, required tags, attribution headers) at {most} connections: **{fullRatio:P1}** of the bare forwarder's throughput (target ≥ 85%: {(fullRatio >= 0.85 ? "met" : "NOT met")})."));
            var p99Ratio = Find("tollgate", most).P99Us / Find("bare forwarder", most).P99Us;
            text.AppendLine(string.Create(c, $"- p99 at {most} connections: Tollgate {Find("tollgate", most).P99Us:F0} µs, all features {full.P99Us:F0} µs, the bare forwarder {Find("bare forwarder", most).P99Us:F0} µs: **{p99Ratio:F1}×** (target ≤ 2×: {(p99Ratio <= 2 ? "met" : "NOT met")}); p99.9 {Find("tollgate", most).P999Us:F0} µs against {Find("bare forwarder", most).P999Us:F0} µs."));
            text.AppendLine(string.Create(c, $"- p99 at {least} connection: Tollgate **{Find("tollgate", least).P99Us:F0} µs** (target ≤ 2,000 µs: {(Find("tollgate", least).P99Us <= 2_000 ? "met" : "NOT met")}), the bare forwarder {Find("bare forwarder", least).P99Us:F0} µs."));
        }

        if (results.Any(r => r.Target == "forwarder process") && results.Any(r => r.Target == "tollgate serve all features"))
        {
            // The same comparison with each server in a process of its own (--processes).
            var forwarderAlone = Find("forwarder process", most);
            var serve = Find("tollgate serve", most);
            var serveFull = Find("tollgate serve all features", most);
            text.AppendLine(string.Create(c, $"- Each in a process of its own, at {most} connections: `tollgate serve` **{serve.RequestsPerSecond / forwarderAlone.RequestsPerSecond:P1}** of the forwarder's throughput, all features **{serveFull.RequestsPerSecond / forwarderAlone.RequestsPerSecond:P1}**; p99 {serve.P99Us:F0} µs and {serveFull.P99Us:F0} µs against {forwarderAlone.P99Us:F0} µs: **{serve.P99Us / forwarderAlone.P99Us:F1}×** and {serveFull.P99Us / forwarderAlone.P99Us:F1}×."));
        }

        LoadResult? Stream(string target, int connections) => results.FirstOrDefault(r => r.Target == target && r.Connections == connections && r.Stream);
        if (Stream("tollgate", least) is { } oneStream && Stream("upstream direct", least) is { } oneDirect
            && Stream("tollgate", most) is { } manyStreams && Stream("upstream direct", most) is { } manyDirect)
        {
            var overOne = oneStream.FirstByte.P50Us - oneDirect.FirstByte.P50Us;
            var overMany = manyStreams.FirstByte.P50Us - manyDirect.FirstByte.P50Us;
            var nginx = Stream("nginx → upstream", least) is { } viaNginx ? string.Create(c, $"; nginx as a plain proxy adds {viaNginx.FirstByte.P50Us - oneDirect.FirstByte.P50Us:F0} µs at {least}") : string.Empty;
            text.AppendLine(string.Create(c, $"- Stream first byte, p50 over calling the upstream directly: **{overOne:F0} µs** at {least} stream (target ≤ 500 µs: {(overOne <= 500 ? "met" : "NOT met")}), **{overMany:F0} µs** at {most} (target ≤ 1,000 µs: {(overMany <= 1_000 ? "met" : "NOT met")}){nginx}."));
        }

        text.AppendLine(string.Create(c, $"- p50 latency Tollgate adds at {least} connection over calling the upstream directly: **{addedOverDirect:F0} µs**; over the bare forwarder: **{addedOverForwarder:F0} µs** (target ≤ 100 µs added: {(addedOverForwarder <= 100 ? "met" : "NOT met")} against the forwarder, {(addedOverDirect <= 100 ? "met" : "NOT met")} against direct)."));
        text.AppendLine();
        text.AppendLine("\"Added latency over direct\" includes a whole extra HTTP hop (client → proxy → upstream) that any proxy pays;");
        text.AppendLine("\"over the bare forwarder\" is what Tollgate's own work costs on top of that hop.");
        return text.ToString();
    }
}
