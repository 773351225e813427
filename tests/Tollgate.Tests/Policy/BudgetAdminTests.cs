using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.Cli;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Policy;

public sealed class BudgetAdminTests : GatewayWithFakeUpstream
{
    protected override string Models(Uri upstream) =>
        TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream, "    price: { input_per_million: 10, output_per_million: 10 }");

    private Task<HttpResponseMessage> Chat(string feature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","max_tokens":1000,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Feature", feature);
        return Gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task A_budget_set_through_the_api_starts_from_the_spend_so_far_and_holds_at_once()
    {
        Upstream.Usage = new Tollgate.FakeProviders.FakeUsage(500, 500); // $0.01 a request
        await Chat("search");
        await Chat("search");
        await Gateway.RecordsAsync(2);

        var set = await Gateway.Client.PutAsync("/admin/budgets/search", new StringContent("""{"scope":"feature","value":"search","period":"daily","limit_usd":0.025}""", Encoding.UTF8, "application/json"));
        var view = JsonDocument.Parse(await set.Content.ReadAsStringAsync()).RootElement;
        var refused = await Chat("search");
        var other = await Chat("chat");

        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(0.02m, view.GetProperty("spent_usd").GetDecimal());
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        var list = JsonDocument.Parse(await Gateway.Client.GetStringAsync("/admin/budgets")).RootElement;
        Assert.Equal("search", Assert.Single(list.GetProperty("data").EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Raising_a_limit_keeps_the_spend_and_lets_requests_through_again()
    {
        Upstream.Usage = new Tollgate.FakeProviders.FakeUsage(500, 500);
        await Gateway.Client.PutAsync("/admin/budgets/all", new StringContent("""{"period":"monthly","limit_usd":0.015}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, (await Chat("x")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Chat("x")).StatusCode);

        await Gateway.Client.PutAsync("/admin/budgets/all", new StringContent("""{"period":"monthly","limit_usd":1}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, (await Chat("x")).StatusCode);
        var view = JsonDocument.Parse(await Gateway.Client.GetStringAsync("/admin/budgets/all")).RootElement;
        Assert.Equal(0.02m, view.GetProperty("spent_usd").GetDecimal());
    }

    [Fact]
    public async Task Bad_budgets_are_refused_and_the_cli_sets_and_lists()
    {
        var bad = await Gateway.Client.PutAsync("/admin/budgets/x", new StringContent("""{"scope":"feature","limit_usd":1}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        string[] connection = ["--url", Gateway.BaseUrl.AbsoluteUri, "--master-key", TestGateway.MasterKey];
        Assert.Equal(0, await TollgateCli.Build().Parse(["budgets", "set", "cli-made", "--scope", "tag:team", "--value", "growth", "--period", "weekly", "--limit-usd", "12.5", "--soft", .. connection]).InvokeAsync());

        var view = JsonDocument.Parse(await Gateway.Client.GetStringAsync("/admin/budgets/cli-made")).RootElement;
        Assert.Equal(("tag:team", "growth", "weekly", 12.5m, false), (view.GetProperty("scope").GetString(), view.GetProperty("value").GetString(), view.GetProperty("period").GetString(), view.GetProperty("limit_usd").GetDecimal(), view.GetProperty("hard").GetBoolean()));
    }

    [Theory]
    [InlineData("cost_center")]
    [InlineData("cost-center")]
    [InlineData("cost_centre")]
    public async Task A_cost_centre_budget_is_set_with_any_spelling_reports_accept_and_it_holds(string scope)
    {
        Upstream.Usage = new Tollgate.FakeProviders.FakeUsage(500, 500);
        using var set = await Gateway.Client.PutAsync("/admin/budgets/cc", new StringContent(
            $$"""{"scope":"{{scope}}","value":"cc-7","period":"daily","limit_usd":0.015}""", Encoding.UTF8, "application/json"));
        var view = JsonDocument.Parse(await set.Content.ReadAsStringAsync()).RootElement;
        using var first = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("""{"model":"gpt-4o-mini","max_tokens":1000,"messages":[]}""", Encoding.UTF8, "application/json") };
        first.Headers.Add("X-Cost-Center", "cc-7");
        using var second = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("""{"model":"gpt-4o-mini","max_tokens":1000,"messages":[]}""", Encoding.UTF8, "application/json") };
        second.Headers.Add("X-Cost-Center", "cc-7");

        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal("cost_center", view.GetProperty("scope").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Gateway.Client.SendAsync(first)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Gateway.Client.SendAsync(second)).StatusCode);
        await Gateway.RecordsAsync(1);
        var report = JsonDocument.Parse(await Gateway.Client.GetStringAsync($"/admin/analytics/spend?group_by={scope}&from=1d")).RootElement;
        Assert.Equal("cc-7", Assert.Single(report.GetProperty("rows").EnumerateArray()).GetProperty("group").GetString());
    }
}
