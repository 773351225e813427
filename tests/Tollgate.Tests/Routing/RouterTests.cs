using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.FakeProviders;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Routing;

/// <summary>
/// A router alias through the gateway: weighted shares over many users and sticky per user, a weight change by reload
/// applied to the next request, every rule kind, fall-through when the chosen target is down or at its limit, and the
/// counterfactual cost on the reference target recorded and summed exactly.
/// </summary>
public sealed class RouterTests : IAsyncLifetime
{
    private const string Weighted = """
        routers:
          bot:
            targets: [mini, big]
            weights: { mini: 80, big: 20 }
        """;

    private FakeOpenAiUpstream _cheap = null!;
    private FakeOpenAiUpstream _strong = null!;
    private TestGateway? _gateway;

    private TestGateway Gateway => _gateway ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        _cheap = await FakeOpenAiUpstream.StartAsync();
        _strong = await FakeOpenAiUpstream.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        await _cheap.DisposeAsync();
        await _strong.DisposeAsync();
    }

    private async Task StartAsync(string routers, string miniExtra = "")
    {
        _gateway = await TestGateway.StartAsync(routers + "\nmodels:\n"
            + TestGateway.Model("mini", "gpt-4o-mini", _cheap.BaseUrl, miniExtra)
            + TestGateway.Model("big", "gpt-4o", _strong.BaseUrl));
    }

    private static HttpRequestMessage Ask(string text = "Hello", string? user = null, string? feature = null, string? tags = null, string extra = "", string? bearer = null)
    {
        var body = "{\"model\":\"bot\",\"messages\":[{\"role\":\"user\",\"content\":" + JsonSerializer.Serialize(text) + "}]" + extra + "}";
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (user is not null)
        {
            request.Headers.Add("X-User-ID", user);
        }

        if (feature is not null)
        {
            request.Headers.Add("X-Feature", feature);
        }

        if (tags is not null)
        {
            request.Headers.Add("X-Tags", tags);
        }

        if (bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        }

        return request;
    }

    private async Task<string> RouteOfAsync(HttpRequestMessage request, HttpClient? client = null)
    {
        using (request)
        {
            using var response = await (client ?? Gateway.Client).SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return response.Headers.GetValues(ProxyRequestHandler.RouteHeader).Single();
        }
    }

    [Fact]
    public async Task Weighted_shares_hold_within_two_points_over_10000_users_and_each_user_stays_on_one_target()
    {
        await StartAsync(Weighted);
        _cheap.RecordRequests = false;
        _strong.RecordRequests = false;

        var routes = new string[10_000];
        await Parallel.ForAsync(0, routes.Length, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
            routes[i] = await RouteOfAsync(Ask(user: "user-" + i)));

        var bigShare = routes.Count(r => r.StartsWith("big;", StringComparison.Ordinal)) / (double)routes.Length;
        Assert.InRange(bigShare, 0.18, 0.22);
        Assert.All(routes, r => Assert.Matches("^(mini|big); reason=weight:(mini|big)$", r));
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(routes[i], await RouteOfAsync(Ask("Another question entirely", user: "user-" + i)));
        }
    }

    [Fact]
    public async Task A_weight_changed_in_the_file_and_reloaded_applies_to_the_next_request()
    {
        await StartAsync("routers:\n  bot:\n    targets: [mini, big]\n    weights: { mini: 100, big: 0 }\n");
        Assert.StartsWith("mini;", await RouteOfAsync(Ask(user: "ana")), StringComparison.Ordinal);

        var yaml = await File.ReadAllTextAsync(Gateway.ConfigPath);
        await File.WriteAllTextAsync(Gateway.ConfigPath, yaml.Replace("{ mini: 100, big: 0 }", "{ mini: 0, big: 100 }", StringComparison.Ordinal));
        using var reload = await Gateway.Client.PostAsync("/admin/routers/reload", null);

        Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
        Assert.StartsWith("big;", await RouteOfAsync(Ask(user: "ana")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reload_of_a_file_with_an_error_changes_nothing_and_says_why()
    {
        await StartAsync(Weighted);
        var yaml = await File.ReadAllTextAsync(Gateway.ConfigPath);
        await File.WriteAllTextAsync(Gateway.ConfigPath, yaml.Replace("{ mini: 80, big: 20 }", "{ mini: 80, huge: 20 }", StringComparison.Ordinal));

        using var reload = await Gateway.Client.PostAsync("/admin/routers/reload", null);

        Assert.Equal(HttpStatusCode.BadRequest, reload.StatusCode);
        Assert.Contains("'huge' is not one of the router's targets", await reload.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var routers = JsonDocument.Parse(await Gateway.Client.GetStringAsync("/admin/routers"));
        Assert.Equal(20m, routers.RootElement.GetProperty("data")[0].GetProperty("weights").GetProperty("big").GetDecimal());
    }

    [Fact]
    public async Task Each_rule_kind_routes_as_written_and_the_first_match_wins()
    {
        await StartAsync("""
            routers:
              bot:
                targets: [mini, big]
                rules:
                  - { name: vip, tag: "tier=vip", target: big }
                  - { name: analysis, feature: analysis, target: big }
                  - { name: partner, key: KEY, target: big }
                  - { name: tools, tools: true, target: big }
                  - { name: images, images: true, target: big }
                  - { name: json, response_format: true, target: big }
                  - { name: refund, regex: "(?i)refund|hoàn tiền", target: mini }
                  - { name: short, max_chars: 200, target: mini }
                  - { name: long, min_tokens: 300, target: big }
                weights: { mini: 1 }
            """.Replace("KEY", "key_partner", StringComparison.Ordinal));
        var partner = await Gateway.CreateKeyAsync("partner");
        using var keys = JsonDocument.Parse(await Gateway.Client.GetStringAsync("/admin/keys"));
        var id = keys.RootElement.GetProperty("data").EnumerateArray().Single(k => k.GetProperty("name").GetString() == "partner").GetProperty("id").GetString()!;
        var yaml = await File.ReadAllTextAsync(Gateway.ConfigPath);
        await File.WriteAllTextAsync(Gateway.ConfigPath, yaml.Replace("key_partner", id, StringComparison.Ordinal));
        (await Gateway.Client.PostAsync("/admin/routers/reload", null)).EnsureSuccessStatusCode();
        var longText = string.Join(' ', Enumerable.Repeat("Compare the quarterly figures and explain each variance.", 40));

        Assert.Equal("big; reason=rule:vip", await RouteOfAsync(Ask("Refund?", tags: "tier=vip")));
        Assert.Equal("big; reason=rule:analysis", await RouteOfAsync(Ask("Hi", feature: "analysis")));
        Assert.Equal("big; reason=rule:partner", await RouteOfAsync(Ask("Hi", bearer: partner)));
        Assert.Equal("big; reason=rule:tools", await RouteOfAsync(Ask("Hi", extra: ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{}}}]")));
        Assert.Equal("big; reason=rule:images", await RouteOfAsync(Ask("Hi", extra: "").WithImage()));
        Assert.Equal("big; reason=rule:json", await RouteOfAsync(Ask("Hi", extra: ",\"response_format\":{\"type\":\"json_object\"}")));
        Assert.Equal("mini; reason=rule:refund", await RouteOfAsync(Ask("Làm sao để được hoàn tiền? " + longText)));
        Assert.Equal("mini; reason=rule:short", await RouteOfAsync(Ask("What are your opening hours?")));
        Assert.Equal("big; reason=rule:long", await RouteOfAsync(Ask(longText)));
        Assert.Equal("mini; reason=weight:mini", await RouteOfAsync(Ask(string.Join(' ', Enumerable.Repeat("word", 60)))));
    }

    [Fact]
    public async Task Rules_read_a_responses_input_and_a_legacy_prompt_as_the_users_text()
    {
        await StartAsync("""
            routers:
              bot:
                targets: [mini, big]
                rules:
                  - { name: refunds, regex: "(?i)refund", target: big }
                  - { name: short, max_chars: 200, target: mini }
                weights: { big: 1 }
            """);

        async Task<string> RouteAsync(string path, string body)
        {
            using var response = await Gateway.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return response.Headers.GetValues(ProxyRequestHandler.RouteHeader).Single();
        }

        Assert.Equal("big; reason=rule:refunds", await RouteAsync("/v1/responses", """{"model":"bot","input":"Can I get a refund?"}"""));
        Assert.Equal("mini; reason=rule:short", await RouteAsync("/v1/responses", """{"model":"bot","input":[{"role":"user","content":[{"type":"input_text","text":"Hello"}]}]}"""));
        Assert.Equal("big; reason=rule:refunds", await RouteAsync("/v1/completions", """{"model":"bot","prompt":"Refund please"}"""));
        Assert.Equal("big; reason=weight:big", await RouteAsync("/v1/responses", "{\"model\":\"bot\",\"input\":\"" + new string('x', 300) + "\"}"));
    }

    [Fact]
    public async Task A_chosen_target_that_is_down_or_at_its_limit_falls_through_to_the_next()
    {
        await StartAsync("routers:\n  bot:\n    targets: [mini, big]\n", miniExtra: "    rpm: 1\n");
        using (var first = await Gateway.Client.SendAsync(Ask(user: "a")))
        {
            Assert.Equal("openai/gpt-4o-mini", first.Headers.GetValues(ProxyRequestHandler.DeploymentHeader).Single());
        }

        // mini has used its one request this minute: the next goes to big.
        using (var limited = await Gateway.Client.SendAsync(Ask(user: "a")))
        {
            Assert.Equal(HttpStatusCode.OK, limited.StatusCode);
            Assert.Equal("mini; reason=default", limited.Headers.GetValues(ProxyRequestHandler.RouteHeader).Single());
            Assert.Equal("openai/gpt-4o", limited.Headers.GetValues(ProxyRequestHandler.DeploymentHeader).Single());
        }

        var records = await Gateway.RecordsAsync(2);
        Assert.Equal(["gpt-4o-mini", "gpt-4o"], records.OrderBy(r => r.Timestamp).Select(r => r.UpstreamModel));
        Assert.All(records, r => Assert.Equal("mini", r.RouteTarget));
    }

    [Fact]
    public async Task The_cost_aware_strategy_takes_the_cheapest_healthy_target_whose_context_window_fits()
    {
        // Listed dearest first: the strategy orders by list price, not by the list.
        _gateway = await TestGateway.StartAsync("""
            retries:
              max_retries: 0
            circuit_breaker:
              failures: 2
              open_seconds: 600
            routers:
              bot:
                targets: [big, mini]
                cheapest: true
            models:

            """ + TestGateway.Model("big", "gpt-4o", _strong.BaseUrl) + TestGateway.Model("mini", "gpt-4o-mini", _cheap.BaseUrl, "    context_window: 300\n"));
        var longText = string.Join(' ', Enumerable.Repeat("Compare the quarterly figures and explain each variance.", 40));

        Assert.Equal("mini; reason=cheapest", await RouteOfAsync(Ask("What are your opening hours?")));
        Assert.Equal("big; reason=cheapest", await RouteOfAsync(Ask(longText)));
        Assert.Equal("big; reason=cheapest", await RouteOfAsync(Ask("Hello", extra: ",\"max_tokens\":400")));

        // Two failures open mini's circuit: the cheapest healthy target is then big.
        _cheap.Fault = FakeFault.ConnectionReset;
        for (var i = 0; i < 2; i++)
        {
            using var failed = await Gateway.Client.SendAsync(Ask("What are your opening hours?"));
        }

        Assert.Equal("big; reason=cheapest", await RouteOfAsync(Ask("What are your opening hours?")));
    }

    [Fact]
    public async Task A_down_target_falls_through()
    {
        await StartAsync("routers:\n  bot:\n    targets: [mini, big]\n");
        _cheap.Fault = FakeFault.ConnectionReset;

        using var response = await Gateway.Client.SendAsync(Ask());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("openai/gpt-4o", response.Headers.GetValues(ProxyRequestHandler.DeploymentHeader).Single());
    }

    [Fact]
    public async Task The_cost_on_the_reference_target_is_recorded_and_saved_by_routing_adds_up_exactly_in_reports()
    {
        await StartAsync(Weighted);
        for (var i = 0; i < 40; i++)
        {
            await RouteOfAsync(Ask(user: "u" + i));
        }

        var records = await Gateway.RecordsAsync(40);
        Assert.Equal(40, records.Count);
        var onMini = records.First(r => r.RouteTarget == "mini");

        // 42 input and 17 output tokens: gpt-4o at $2.50 / $10 per million, the default reference (the dearer target).
        Assert.Equal((42 * 2.50m / 1_000_000) + (17 * 10m / 1_000_000), onMini.RouteReferenceCostUsd);
        Assert.True(onMini.RoutingSavedUsd > 0);
        Assert.All(records.Where(r => r.RouteTarget == "big"), r => Assert.Equal(0m, r.RoutingSavedUsd));

        using var report = JsonDocument.Parse(await Gateway.Client.GetStringAsync("/admin/analytics/spend?group_by=alias&from=1h"));
        var row = Assert.Single(report.RootElement.GetProperty("rows").EnumerateArray());
        Assert.Equal("bot", row.GetProperty("group").GetString());
        Assert.Equal(records.Sum(r => r.RoutingSavedUsd!.Value), row.GetProperty("routing_saved_usd").GetDecimal());
        var metrics = await Gateway.Client.GetStringAsync("/metrics");
        Assert.Contains("tollgate_routed_requests_total{router=\"bot\",target=\"mini\"}", metrics, StringComparison.Ordinal);
    }
}

internal static class RouteRequestExtensions
{
    /// <summary>The same request with an image part added to its user message.</summary>
    public static HttpRequestMessage WithImage(this HttpRequestMessage request)
    {
        request.Content = new StringContent(
            """{"model":"bot","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}]}""",
            Encoding.UTF8, "application/json");
        return request;
    }
}
