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
        await using var replicas = await postgres.StartReplicasAsync();
        var clients = await ClientsWithNewKeyAsync(replicas, """{"name":"bursty","rpm":60}""");

        var statuses = await BurstAsync(150, i => clients[i % 2], """{"model":"m","messages":[{"role":"user","content":"hi"}]}""");

        var admitted = statuses.Count(s => s == HttpStatusCode.OK);
        output.WriteLine($"admitted {admitted} of 150 at 60 per minute across two replicas");
        Assert.Equal(150, admitted + statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.InRange(admitted, 60 - (2 * 2 * 6), 60);
        Array.ForEach(clients, c => c.Dispose());
    }

    [Fact]
    public async Task A_deployments_rpm_holds_across_both_replicas()
    {
        await using var replicas = await postgres.StartReplicasAsync(", rpm: 30");
        var (a, b) = (replicas.A, replicas.B);

        var statuses = await BurstAsync(80, i => (i % 2 == 0 ? a : b).Client, """{"model":"m","messages":[{"role":"user","content":"hi"}]}""");

        var admitted = statuses.Count(s => s == HttpStatusCode.OK);
        output.WriteLine($"admitted {admitted} of 80 at 30 per minute on one deployment across two replicas");
        Assert.Equal(80, admitted + statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.InRange(admitted, 30 - (2 * 2 * 3), 30);
    }

    [Fact]
    public async Task A_burst_to_both_replicas_is_admitted_within_the_keys_tpm_counted_at_each_requests_estimate()
    {
        await using var replicas = await postgres.StartReplicasAsync();
        var clients = await ClientsWithNewKeyAsync(replicas, """{"name":"wordy","tpm":2000}""");

        // Each request is admitted on its estimate: a short prompt plus max_tokens 190, about 200 tokens: ten fit in 2,000.
        var statuses = await BurstAsync(60, i => clients[i % 2], """{"model":"m","max_tokens":190,"messages":[{"role":"user","content":"hi"}]}""");

        var admitted = statuses.Count(s => s == HttpStatusCode.OK);
        output.WriteLine($"admitted {admitted} of 60 at 2,000 tokens per minute across two replicas");
        Assert.Equal(60, admitted + statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.InRange(admitted, 10 - (2 * 2), 10);
        Array.ForEach(clients, c => c.Dispose());
    }

    /// <summary>A key made on replica A with <paramref name="keyJson"/>, and a client sending it to each replica once B has it.</summary>
    private static async Task<HttpClient[]> ClientsWithNewKeyAsync(Replicas replicas, string keyJson)
    {
        using var created = await replicas.A.Client.PostAsync("/admin/keys", new StringContent(keyJson, Encoding.UTF8, "application/json"));
        var secret = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
        var clients = new[] { replicas.A, replicas.B }.Select(g =>
        {
            var client = new HttpClient { BaseAddress = g.BaseUrl };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            return client;
        }).ToArray();
        await Task.Delay(600); // the key reaches replica B (within a second)
        return clients;
    }

    /// <summary><paramref name="count"/> chat requests at once, request i through <paramref name="clientFor"/>(i); their statuses.</summary>
    private static Task<HttpStatusCode[]> BurstAsync(int count, Func<int, HttpClient> clientFor, string body) =>
        Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            using var response = await clientFor(i).PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
            return response.StatusCode;
        }));
}
