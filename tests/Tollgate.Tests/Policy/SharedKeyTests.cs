using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Tollgate.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Tollgate.Tests.Policy;

/// <summary>
/// Keys and admin-set budgets shared by two replicas on one PostgreSQL: a key made on one works on the other, a
/// revocation on one applies on the other within a second, and so does a budget set through one's admin API.
/// </summary>
[Collection("postgres")]
public sealed class SharedKeyTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task A_key_created_and_revoked_on_one_replica_is_accepted_then_refused_on_the_other_within_a_second()
    {
        await using var replicas = await postgres.StartReplicasAsync();
        var (a, b) = (replicas.A, replicas.B);
        var secret = await a.CreateKeyAsync("shared");
        var id = (await a.Client.GetStringAsync("/admin/keys")).Split("\"id\":\"")[1].Split('"')[0];
        using var onB = new HttpClient { BaseAddress = b.BaseUrl };
        onB.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);

        var accepted = await UntilAsync(onB, HttpStatusCode.OK);
        using (var revoke = await a.Client.PostAsync($"/admin/keys/{id}/revoke", null))
        {
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        }

        var refused = await UntilAsync(onB, HttpStatusCode.Unauthorized);
        output.WriteLine($"accepted on B after {accepted.TotalMilliseconds:F0} ms; refused on B {refused.TotalMilliseconds:F0} ms after the revocation on A");
        Assert.True(accepted < TimeSpan.FromSeconds(1), $"accepted after {accepted}");
        Assert.True(refused < TimeSpan.FromSeconds(1), $"refused after {refused}");
    }

    [Fact]
    public async Task A_hard_budget_set_through_one_replicas_admin_api_is_enforced_by_the_other_within_a_second()
    {
        await using var replicas = await postgres.StartReplicasAsync(", price_as: gpt-4o-mini");
        var (a, b) = (replicas.A, replicas.B);
        using var onB = new HttpClient { BaseAddress = b.BaseUrl };
        onB.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestGateway.MasterKey);
        onB.DefaultRequestHeaders.Add("X-Feature", "frozen");
        Assert.True(await UntilAsync(onB, HttpStatusCode.OK) < TimeSpan.FromSeconds(1), "answered before the budget");

        using (var set = await a.Client.PutAsync("/admin/budgets/frozen", new StringContent(
            """{"scope":"feature","value":"frozen","period":"daily","limit_usd":0,"hard":true}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        var refused = await UntilAsync(onB, HttpStatusCode.TooManyRequests);
        output.WriteLine($"the budget set on A refused on B {refused.TotalMilliseconds:F0} ms later");
        Assert.True(refused < TimeSpan.FromSeconds(1), $"refused after {refused}");
    }

    [Fact]
    public async Task A_retry_with_the_same_idempotency_key_on_the_other_replica_gets_the_kept_answer_and_no_second_record()
    {
        await using var replicas = await postgres.StartReplicasAsync(", price_as: gpt-4o-mini");
        var (a, b) = (replicas.A, replicas.B);
        async Task<(string RequestId, string Body)> SendAsync(TestGateway gateway)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent("""{"model":"m","messages":[{"role":"user","content":"Xin chào"}]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", "order-42");
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var replayOf = response.Headers.TryGetValues(Tollgate.Gateway.Idempotency.IdempotentReplay.ReplayOfHeader, out var of) ? of.Single() : null;
            return (replayOf ?? response.Headers.GetValues("X-Request-ID").Single(), await response.Content.ReadAsStringAsync());
        }

        var first = await SendAsync(a);
        var retried = await SendAsync(b);

        // The same answer, named as a replay of the first request.
        Assert.Equal(first, retried);
        Assert.Single(await a.RecordsAsync(1));
    }

    [Fact]
    public async Task A_retry_on_the_other_replica_while_the_first_still_runs_is_told_so_and_later_gets_the_answer()
    {
        await using var replicas = await postgres.StartReplicasAsync(", price_as: gpt-4o-mini, mock: { latency_ms: 1500 }");
        var (a, b) = (replicas.A, replicas.B);
        HttpRequestMessage Request()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent("""{"model":"m","messages":[{"role":"user","content":"Xin chào"}]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", "order-43");
            return request;
        }

        var first = a.Client.SendAsync(Request());
        await Task.Delay(400);
        using (var meanwhile = await b.Client.SendAsync(Request()))
        {
            Assert.Equal(HttpStatusCode.Conflict, meanwhile.StatusCode);
            Assert.Contains("idempotency_key_in_use", await meanwhile.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal("1", meanwhile.Headers.RetryAfter?.ToString());
        }

        using var answered = await first;
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        using var later = await b.Client.SendAsync(Request());
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        Assert.True(later.Headers.Contains(Tollgate.Gateway.Idempotency.IdempotentReplay.ReplayOfHeader));
        Assert.Single(await a.RecordsAsync(1));
    }

    private static async Task<TimeSpan> UntilAsync(HttpClient client, HttpStatusCode wanted)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            using var response = await client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
            if (response.StatusCode == wanted)
            {
                return clock.Elapsed;
            }

            await Task.Delay(20);
        }

        return clock.Elapsed;
    }
}
