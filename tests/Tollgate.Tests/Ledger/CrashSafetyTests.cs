using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Data.Sqlite;
using Tollgate.FakeProviders;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Ledger;

/// <summary>
/// The gateway as a real process, killed with SIGKILL and stopped with SIGTERM while it serves: no response a client
/// received complete may be missing from the ledger, and none may be there twice.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class CrashSafetyTests
{
    private static string Models(Uri upstream) => $"""
        shutdown_grace_seconds: 15
        models:
          - alias: gpt-4o-mini
            provider: openai
            model: gpt-4o-mini
            base_url: {upstream}
            api_key: sk-upstream-secret
        """;

    [Fact]
    public async Task Three_kill_9s_during_5000_requests_from_50_clients_lose_no_completed_response_and_count_none_twice()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        upstream.RecordRequests = false;
        await using var gateway = await GatewayProcess.StartAsync(Models(upstream.BaseUrl));
        var completed = new ConcurrentBag<string>();
        var started = 0;
        const int Total = 5000;
        using var http = Client(gateway);

        var clients = Enumerable.Range(0, 50).Select(async client =>
        {
            while (Interlocked.Increment(ref started) <= Total)
            {
                var stream = (started & 1) == 0;
                while (true)
                {
                    var id = await TrySendAsync(http, stream);
                    if (id is not null)
                    {
                        completed.Add(id);
                        break;
                    }

                    // The gateway is down or restarting: the request never completed; send it again.
                    await Task.Delay(20);
                }
            }
        }).ToList();

        foreach (var killAt in new[] { 1200, 2500, 3800 })
        {
            while (completed.Count < killAt)
            {
                await Task.Delay(5);
            }

            await gateway.KillAsync();
            await gateway.RestartAsync();
        }

        await Task.WhenAll(clients);
        gateway.Terminate();
        await gateway.WaitForExitAsync(CancellationToken.None);

        var ids = await LedgerIdsAsync(gateway.LedgerPath);
        Assert.Equal(Total, completed.Count);
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        var recorded = ids.ToHashSet(StringComparer.Ordinal);
        var missing = completed.Where(id => !recorded.Contains(id)).ToList();
        Assert.Empty(missing);
        Assert.Empty(Directory.GetFiles(Path.Combine(gateway.Directory, "journal")));

        // The rollups the killed processes kept, caught up and replayed, add up to the raw records exactly.
        await using var store = new Tollgate.Ledger.Sqlite.SqliteLedgerStore(gateway.LedgerPath);
        foreach (var by in new[] { "model", "key", "status", "day" })
        {
            var query = new Tollgate.Analytics.SpendQuery(Tollgate.Analytics.SpendGrouping.Parse(by)!, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, Tollgate.Analytics.TimeBucket.Hour, TimeZoneInfo.Utc);
            var fromRollups = await Tollgate.Analytics.SpendReport.BuildAsync(store, query, CancellationToken.None);
            var fromRaw = await Tollgate.Analytics.SpendReport.BuildAsync(new RawLedger(store), query, CancellationToken.None);
            Assert.Equal(
                fromRaw.Select(r => (r.Period, r.Group, r.Requests, r.CostUsd, r.InputTokens, r.OutputTokens)),
                fromRollups.Select(r => (r.Period, r.Group, r.Requests, r.CostUsd, r.InputTokens, r.OutputTokens)));
            Assert.Equal(ids.Count, fromRollups.Sum(r => r.Requests));
        }
    }

    [Fact]
    public async Task Sigterm_with_100_streams_in_flight_lets_them_finish_within_the_grace_period_and_records_every_one()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        upstream.ChunkDelay = TimeSpan.FromMilliseconds(200);
        await using var gateway = await GatewayProcess.StartAsync(Models(upstream.BaseUrl));
        using var http = Client(gateway);
        var firstChunks = new CountdownEvent(100);
        var streams = Enumerable.Range(0, 100).Select(_ => Task.Run(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Body(stream: true) };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            using var reader = new StreamReader(body, Encoding.UTF8);
            var signalled = false;
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!signalled && line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    firstChunks.Signal();
                    signalled = true;
                }

                if (line == "data: [DONE]")
                {
                    return response.Headers.GetValues("X-Request-ID").Single();
                }
            }

            return null;
        })).ToList();

        Assert.True(firstChunks.Wait(TimeSpan.FromSeconds(30)), "100 streams did not all start");
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        gateway.Terminate();
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15 + 5));
        await gateway.WaitForExitAsync(grace.Token);
        var exitedAfter = stopwatch.Elapsed;
        var ids = await Task.WhenAll(streams);

        Assert.All(ids, Assert.NotNull);
        Assert.True(exitedAfter < TimeSpan.FromSeconds(15), $"shutdown took {exitedAfter}");
        var recorded = await LedgerIdsAsync(gateway.LedgerPath);
        Assert.Equal(ids.Order(StringComparer.Ordinal), recorded.Order(StringComparer.Ordinal));
    }

    internal static HttpClient Client(GatewayProcess gateway)
    {
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 200 }) { BaseAddress = gateway.BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestGateway.MasterKey);
        return http;
    }

    private static StringContent Body(bool stream) => new(
        "{\"model\":\"gpt-4o-mini\",\"stream\":" + (stream ? "true" : "false") + ",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello\"}]}",
        Encoding.UTF8,
        "application/json");

    /// <summary>The request id of a response received complete, or null when it failed on the way.</summary>
    internal static async Task<string?> TrySendAsync(HttpClient http, bool stream)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Body(stream) };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            var text = await response.Content.ReadAsStringAsync();
            var complete = stream ? text.Contains("data: [DONE]", StringComparison.Ordinal) : text.EndsWith('}');
            return complete ? response.Headers.GetValues("X-Request-ID").Single() : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
        {
            return null;
        }
    }

    private static async Task<List<string>> LedgerIdsAsync(string path)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM usage_records";
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}

/// <summary>Tests that run the gateway as a process: one at a time, as they measure wall-clock shutdown.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessTests
{
    public const string Name = "gateway processes";
}
