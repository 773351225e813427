using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Tollgate.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Tollgate.Tests.Policy;

/// <summary>Requests and tokens per minute held across two replicas on one PostgreSQL, for a key and for a deployment: a burst to both is never admitted past the limit.</summary>
[Collection("postgres")]
public sealed class SharedRateLimitTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task A_burst_to_both_replicas_is_admitted_within_the_keys_rpm()
    {
        var database = await postgres.CreateDatabaseAsync();
        var yaml = $"""
            storage:
              postgres: "{database}"
            models:
              - {"{"} alias: m, provider: mock, model: mock-gpt {"}"}
            """;
        await using var a = await TestGateway.StartAsync(yaml);
        await using var b = await TestGateway.StartAsync(yaml);
        using var created = await a.Client.PostAsync("/admin/keys", new StringContent("""{"name":"bursty","rpm":60}""", Encoding.UTF8, "application/json"));
        var secret = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
        var clients = new[] { a, b }.Select(g =>
        {
            var client = new HttpClient { BaseAddress = g.BaseUrl };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            return client;
        }).ToArray();
        await Task.Delay(600); // the key reaches replica B (within a second)

        var statuses = await Task.WhenAll(Enumerable.Range(0, 150).Select(async i =>
        {
            using var response = await clients[i % 2].PostAsync("/v1/chat/completions", new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
            return response.StatusCode;
        }));

        var admitted = statuses.Count(s => s == HttpStatusCode.OK);
        output.WriteLine($"admitted {admitted} of 150 at 60 per minute across two replicas");
        Assert.Equal(150, admitted + statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.InRange(admitted, 60 - (2 * 2 * 6), 60);
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task A_deployments_rpm_holds_across_both_replicas()
    {
        var database = await postgres.CreateDatabaseAsync();
        var yaml = $"""
            storage:
              postgres: "{database}"
            models:
              - {"{"} alias: m, provider: mock, model: mock-gpt, rpm: 30 {"}"}
            """;
        await using var a = await TestGateway.StartAsync(yaml);
        await using var b = await TestGateway.StartAsync(yaml);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 80).Select(async i =>
        {
            using var response = await (i % 2 == 0 ? a : b).Client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
            return response.StatusCode;
        }));

        var admitted = statuses.Count(s => s == HttpStatusCode.OK);
        output.WriteLine($"admitted {admitted} of 80 at 30 per minute on one deployment across two replicas");
        Assert.Equal(80, admitted + statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.InRange(admitted, 30 - (2 * 2 * 3), 30);
    }

    [Fact]
    public async Task A_burst_to_both_replicas_is_admitted_within_the_keys_tpm_counted_at_each_requests_estimate()
    {
        var database = await postgres.CreateDatabaseAsync();
        var yaml = $"""
            storage:
              postgres: "{database}"
            models:
              - {"{"} alias: m, provider: mock, model: mock-gpt {"}"}
            """;
        await using var a = await TestGateway.StartAsync(yaml);
        await using var b = await TestGateway.StartAsync(yaml);
        using var created = await a.Client.PostAsync("/admin/keys", new StringContent("""{"name":"wordy","tpm":2000}""", Encoding.UTF8, "application/json"));
        var secret = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
        var clients = new[] { a, b }.Select(g =>
        {
            var client = new HttpClient { BaseAddress = g.BaseUrl };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            return client;
        }).ToArray();
        await Task.Delay(600);

        // Each request is admitted on its estimate: a short prompt plus max_tokens 190, about 200 tokens: ten fit in 2,000.
        var statuses = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            using var response = await clients[i % 2].PostAsync("/v1/chat/completions", new StringContent("""{"model":"m","max_tokens":190,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
            return response.StatusCode;
        }));

        var admitted = statuses.Count(s => s == HttpStatusCode.OK);
        output.WriteLine($"admitted {admitted} of 60 at 2,000 tokens per minute across two replicas");
        Assert.Equal(60, admitted + statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.InRange(admitted, 10 - (2 * 2), 10);
        foreach (var client in clients)
        {
            client.Dispose();
        }
    }
}
