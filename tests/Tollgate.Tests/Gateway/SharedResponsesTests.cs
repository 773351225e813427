using System.Net;
using System.Text;
using Tollgate.FakeProviders;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>A Responses API response kept through one replica is read, continued and deleted through the other.</summary>
[Collection("postgres")]
public sealed class SharedResponsesTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_response_made_through_one_replica_is_found_through_the_other_by_its_caller_only()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        var config = $"storage:\n  postgres: \"{database}\"\nmodels:\n" + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream.BaseUrl);
        await using var a = await TestGateway.StartAsync(config);
        await using var b = await TestGateway.StartAsync(config);

        using (var created = await a.Client.PostAsync("/v1/responses", new StringContent("""{"model":"gpt-4o-mini","input":"Hi"}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        using var read = await b.Client.GetAsync("/v1/responses/resp_fake1");
        using var next = await b.Client.PostAsync("/v1/responses", new StringContent("""{"model":"gpt-4o-mini","input":"And then?","previous_response_id":"resp_fake1"}""", Encoding.UTF8, "application/json"));
        var otherKey = await b.CreateKeyAsync("other");
        using var otherClient = new HttpClient { BaseAddress = b.BaseUrl };
        otherClient.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", otherKey);
        using var foreign = await otherClient.GetAsync("/v1/responses/resp_fake1");
        using var deleted = await b.Client.DeleteAsync("/v1/responses/resp_fake1");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.OK), (read.StatusCode, next.StatusCode, foreign.StatusCode, deleted.StatusCode));
        Assert.Contains("\"status\":\"completed\"", await read.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
