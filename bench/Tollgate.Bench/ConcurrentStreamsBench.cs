using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Data.Sqlite;
using Tollgate.FakeProviders;

namespace Tollgate.Bench;

/// <summary>
/// <c>--streams N</c>: N streamed chat requests open at once through a gateway running as its own process (the built
/// <c>tollgate serve</c>, SQLite ledger, defaults otherwise), each stream paced by a fake upstream so that all are in
/// flight together. Reports the gateway process's peak resident memory (the kernel's VmHWM) and the RSS sampled during
/// the run, whether every stream ended with <c>[DONE]</c>, and — after a graceful stop — the ledger's record count,
/// which must equal N (one record per request).
/// </summary>
internal static class ConcurrentStreamsBench
{
    public static async Task RunAsync(int streams)
    {
        var c = CultureInfo.InvariantCulture;
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        upstream.RecordRequests = false;
        upstream.ReplyText = string.Join(' ', Enumerable.Repeat("Streams stay open while the provider writes slowly.", 4));
        upstream.EventPace = TimeSpan.FromMilliseconds(150); // ~40 events: every stream open for ~6 s

        const string Master = "sk-bench-streams";
        await using var gateway = await GatewayProcess.StartAsync(Master, BenchModels.Yaml(upstream.BaseUrl));
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = streams + 10, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = gateway.BaseUrl,
            Timeout = TimeSpan.FromMinutes(5),
        };
        client.DefaultRequestHeaders.Authorization = new("Bearer", Master);
        var idleRss = gateway.Status("VmRSS");

        var sampledPeak = 0L;
        using var sampling = new CancellationTokenSource();
        var sampler = SampleAsync(gateway, peak => sampledPeak = Math.Max(sampledPeak, peak), sampling.Token);
        var started = Stopwatch.StartNew();
        const string Body = """{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Tell me about streams."}],"max_tokens":300}""";
        var results = await Task.WhenAll(Enumerable.Range(0, streams).Select(_ => StreamAsync(client, Body)));
        var took = started.Elapsed;
        await sampling.CancelAsync();
        await sampler;
        var peak = gateway.Status("VmHWM");
        var threads = gateway.Status("Threads");

        // A graceful stop writes what is journaled into the ledger; then count what it holds.
        await gateway.StopAsync();
        var records = await CountRecordsAsync(Path.Combine(gateway.Directory, "tollgate.db"));

        Console.WriteLine(string.Create(c, $"{streams:N0} concurrent streams through tollgate serve (its own process): {results.Count(r => r):N0} ended with [DONE], {results.Count(r => !r):N0} did not, in {took.TotalSeconds:F1} s."));
        Console.WriteLine(string.Create(c, $"gateway RSS: {idleRss / 1024.0:F0} MB idle after start, {sampledPeak / 1024.0:F0} MB highest sampled (every 50 ms), peak (VmHWM) {peak / 1024.0:F0} MB; {threads} threads after the run."));
        Console.WriteLine(string.Create(c, $"ledger: {records:N0} records for {streams:N0} requests."));
    }

    /// <summary>Reads a stream to its end; true when it ended with <c>data: [DONE]</c>.</summary>
    private static async Task<bool> StreamAsync(HttpClient client, string body)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return false;
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var last = string.Empty;
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.Length > 0)
                {
                    last = line;
                }
            }

            return last == "data: [DONE]";
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async Task SampleAsync(GatewayProcess gateway, Action<long> observe, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                observe(gateway.Status("VmRSS"));
                await Task.Delay(50, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task<long> CountRecordsAsync(string path)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM usage_records";
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
