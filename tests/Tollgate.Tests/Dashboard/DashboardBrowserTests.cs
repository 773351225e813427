using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using Tollgate.Ledger;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Dashboard;

/// <summary>
/// The dashboard in a real headless Chromium over a seeded ledger: it signs in with the master key, every chart is
/// drawn with data, the figures equal the API's, the range filter changes them, Vietnamese names come through intact,
/// and screenshots are kept under <c>artifacts/screenshots</c>.
/// </summary>
[Collection("browser")]
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    private const string VietnameseFeature = "Tóm tắt tài liệu tiếng Việt";
    private const string FaqFeature = "hỏi-đáp";
    private static readonly DateTimeOffset Today = new(DateTime.UtcNow.Date, TimeSpan.Zero);
    private TestGateway _gateway = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        var history = new SeededLedger(Today.AddDays(-29), days: 29, requestsPerDay: 30);
        var now = DateTimeOffset.UtcNow;
        var extra = new List<UsageRecord>();
        for (var i = 0; i < 5; i++)
        {
            var at = now.AddDays(-i).AddMinutes(-30);
            extra.Add(Records.Ok("gpt-4o-mini", at, new Usage(20_000, 0, 0, 3_000, 0), CostBreakdown.Flat(0.02m * (1 + i)),
                new Attribution("key_0", "người-dùng-01", null, "growth", VietnameseFeature, "atlas", "prod", new Dictionary<string, string>())));
        }

        // The response cache in the same feature: two answers served from it, and one verification it paid for.
        var cached = new Attribution("key_0", "người-dùng-01", null, "growth", VietnameseFeature, "atlas", "prod", new Dictionary<string, string>());
        for (var i = 0; i < 2; i++)
        {
            extra.Add(Records.Ok("gpt-4o-mini", now.AddMinutes(-20 - i), new Usage(0, 0, 0, 0, 0), CostBreakdown.Flat(0m), cached)
                with { ResponseCacheHit = ResponseCacheHit.Semantic, ResponseCacheSimilarity = 0.95, ResponseCacheSavedUsd = 0.04m });
        }

        extra.Add(Records.Ok("gpt-4o-mini", now.AddMinutes(-25), new Usage(900, 0, 0, 100, 0), CostBreakdown.Flat(0.01m),
            ResponseCacheWork.Marked(cached, ResponseCacheWork.Verification)));

        // A router "bot" that sent three requests to "mini" and one to "big" (its reference: saved nothing there).
        for (var i = 0; i < 4; i++)
        {
            extra.Add(Records.Ok("gpt-4o-mini", now.AddMinutes(-40 - i), new Usage(1_000, 0, 0, 100, 0), CostBreakdown.Flat(0.001m)) with
            {
                Alias = "bot", RouteTarget = i < 3 ? "mini" : "big", RouteReason = i < 3 ? "rule:short" : "default", RouteReferenceCostUsd = i < 3 ? 0.011m : 0.001m,
            });
        }

        // A batch of three lines at half the realtime price: $0.50 each instead of $1.00.
        for (var i = 0; i < 3; i++)
        {
            extra.Add(Records.Ok("gpt-4o-mini", now.AddMinutes(-50 - i), new Usage(10_000, 0, 0, 1_000, 0), CostBreakdown.Flat(0.5m)) with
            {
                Endpoint = "batch.chat.completions", BatchId = "batch_1", RealtimeCostUsd = 1m,
            });
        }

        // A question-and-answer feature that sent the same request body twelve times: advice to cache it.
        for (var i = 0; i < 12; i++)
        {
            extra.Add(Records.Ok("gpt-4o-mini", now.AddMinutes(-60 - i), new Usage(2_000, 0, 0, 200, 0), CostBreakdown.Flat(0.01m),
                new Attribution("key_0", null, null, null, FaqFeature, null, null, new Dictionary<string, string>())) with { RequestHash = new string('a', 64) });
        }

        _gateway = await TestGateway.StartAsync("""
            budgets:
              - { name: monthly-all, scope: global, period: monthly, limit_usd: 40, hard: false }
            models:
              - { alias: m, provider: mock, model: mock-gpt }
            """, prepareDataDirectory: async dir =>
            {
                await history.WriteAsync(Path.Combine(dir, "ledger.db"));
                await using var store = new Tollgate.Ledger.Sqlite.SqliteLedgerStore(Path.Combine(dir, "ledger.db"));
                await store.AppendAsync(extra, CancellationToken.None);
            });
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _gateway.DisposeAsync();
    }

    private async Task<IPage> OpenAsync()
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = "admin", Password = TestGateway.MasterKey },
            ViewportSize = new ViewportSize { Width = 1440, Height = 1900 },
            Locale = "vi-VN",
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(_gateway.BaseUrl, "/ui").AbsoluteUri);
        await page.WaitForFunctionAsync("document.body.dataset.ready === 'true'");
        return page;
    }

    private async Task<decimal> ApiTotalAsync(string query)
    {
        var body = JsonDocument.Parse(await _gateway.Client.GetStringAsync("/admin/analytics/spend?group_by=feature&" + query)).RootElement;
        return body.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("cost_usd").GetDecimal());
    }

    [Fact]
    public async Task Every_chart_is_drawn_with_data_and_the_figures_are_the_apis()
    {
        var page = await OpenAsync();

        Assert.Equal(5, await page.EvaluateAsync<int>("Object.keys(window.tollgate.charts).length"));
        Assert.True(await page.EvaluateAsync<bool>("Object.values(window.tollgate.charts).every(c => c.data.datasets.some(d => d.data.some(v => v > 0)))"));

        // Drawn, not just configured: every canvas has painted pixels.
        Assert.True(await page.EvaluateAsync<bool>("""
            [...document.querySelectorAll('canvas')].every(canvas => {
              const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
              let painted = 0;
              for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
              return painted > 500;
            })
            """));
        Assert.Equal((double)await ApiTotalAsync("from=30d"), await page.EvaluateAsync<double>("window.tollgate.totals.range"), 9);
        Assert.Contains("monthly-all", await page.Locator("#budgets tbody tr").InnerTextAsync(), StringComparison.Ordinal);
        Assert.NotEqual("…", await page.Locator("#forecast").InnerTextAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artefact("dashboard-30-days.png"), FullPage = true });
    }

    [Fact]
    public async Task The_response_cache_panel_shows_per_feature_hits_hit_rate_savings_and_what_verification_cost()
    {
        var page = await OpenAsync();

        var rows = await page.Locator("#response-cache tbody tr").AllInnerTextsAsync();
        var row = Assert.Single(rows);
        var cells = row.Split('\t');
        Assert.Equal(VietnameseFeature, cells[0]);
        Assert.Equal(["8", "2", "25.0%"], cells[1..4]);
        Assert.Contains("0.08", cells[4], StringComparison.Ordinal);
        Assert.Contains("0.01", cells[5], StringComparison.Ordinal);
        Assert.Contains("2 of ", await page.Locator("#response-cache-note").InnerTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_advice_panel_ranks_the_advisors_findings_for_the_range_with_what_each_is_worth_a_month()
    {
        var page = await OpenAsync();

        using var api = JsonDocument.Parse(await _gateway.Client.GetStringAsync("/admin/analytics/advice?from=30d"));
        var advice = api.RootElement.GetProperty("data").EnumerateArray().ToList();
        var rows = (await page.Locator("#advice tbody tr").AllInnerTextsAsync()).Select(r => r.Split('\t')).ToList();
        Assert.Equal(advice.Select(a => (a.GetProperty("rank").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), a.GetProperty("subject").GetString())), rows.Select(c => (c[0], (string?)c[1])));
        var faq = advice.Single(a => a.GetProperty("subject").GetString() == "feature " + FaqFeature);
        var row = rows.Single(c => c[1] == "feature " + FaqFeature);
        Assert.Contains("(11 of 12)", row[2], StringComparison.Ordinal);
        Assert.StartsWith("Turn on the exact response cache", row[3], StringComparison.Ordinal);
        Assert.Equal(await page.EvaluateAsync<string>("v => window.tollgate.usd(v)", faq.GetProperty("monthly_usd").GetDecimal()), row[4]);
        Assert.Contains("tollgate advise", await page.Locator("#advice-note").InnerTextAsync(), StringComparison.Ordinal);
        await page.Locator("#advice").ScreenshotAsync(new LocatorScreenshotOptions { Path = Artefact("dashboard-advice.png") });
    }

    [Fact]
    public async Task The_routing_panel_shows_each_targets_share_spend_and_what_routing_saved()
    {
        var page = await OpenAsync();

        var rows = (await page.Locator("#routing tbody tr").AllInnerTextsAsync()).Select(r => r.Split('\t')).OrderBy(c => c[1], StringComparer.Ordinal).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(["bot", "big", "1", "25.0%"], rows[0][..4]);
        Assert.Equal(["bot", "mini", "3", "75.0%"], rows[1][..4]);
        Assert.Contains("0.03", rows[1][5], StringComparison.Ordinal);
        Assert.Contains("0.03", await page.Locator("#routing-saved").InnerTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_spend_is_shown_apart_with_what_batching_saved_against_realtime_prices()
    {
        var page = await OpenAsync();

        Assert.Contains("1.50", await page.Locator("#batch-saved").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("3 batch lines cost $1.50 instead of $3.00", await page.Locator("#batch-note").InnerTextAsync(), StringComparison.Ordinal);
        var batch = (await page.Locator("#endpoints tbody tr").AllInnerTextsAsync()).Select(r => r.Split('\t')).Single(c => c[0] == "batch.chat.completions");
        Assert.Equal("3", batch[1]);
        Assert.Contains("1.50", batch[2], StringComparison.Ordinal);
        Assert.Contains("3.00", batch[3], StringComparison.Ordinal);
        Assert.Contains("1.50", batch[4], StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artefact("dashboard-batch.png"), FullPage = true });
    }

    [Fact]
    public async Task The_range_filter_changes_the_figures_to_the_chosen_days()
    {
        var page = await OpenAsync();
        var before = await page.EvaluateAsync<double>("window.tollgate.totals.range");
        var from = Today.AddDays(-6).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var to = Today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        await page.SelectOptionAsync("#range", "custom");
        await page.FillAsync("#from", from);
        await page.FillAsync("#to", to);
        await page.ClickAsync("#apply");
        await page.WaitForFunctionAsync($"document.body.dataset.ready === 'true' && window.tollgate.totals.range !== {before.ToString(System.Globalization.CultureInfo.InvariantCulture)}");

        var after = await page.EvaluateAsync<double>("window.tollgate.totals.range");
        Assert.True(after < before);
        Assert.Equal((double)await ApiTotalAsync($"from={from}&to={to}"), after, 9);
        var days = await page.EvaluateAsync<string[]>("window.tollgate.charts['chart-daily'].data.labels");
        Assert.Equal(Enumerable.Range(0, 6).Select(i => Today.AddDays(-6 + i).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)), days);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artefact("dashboard-custom-range.png"), FullPage = true });
    }

    [Fact]
    public async Task Vietnamese_names_come_through_intact_in_charts_and_tables()
    {
        var page = await OpenAsync();

        Assert.Contains(VietnameseFeature, await page.EvaluateAsync<string[]>("window.tollgate.charts['chart-feature'].data.labels"));
        var top = await page.Locator("#top tbody").InnerTextAsync();
        Assert.Contains(VietnameseFeature, top, StringComparison.Ordinal);
        Assert.Contains("người-dùng-01", top, StringComparison.Ordinal);
        await page.Locator("#top").ScreenshotAsync(new LocatorScreenshotOptions { Path = Artefact("dashboard-vietnamese.png") });
    }

    [Fact]
    public async Task Without_the_master_key_the_dashboard_asks_for_credentials()
    {
        using var anonymous = new HttpClient { BaseAddress = _gateway.BaseUrl };

        var page = await anonymous.GetAsync("/ui");
        var api = await anonymous.GetAsync("/ui/api/spend");

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (page.StatusCode, api.StatusCode));
        Assert.Equal("Basic", page.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Opened_with_the_credentials_in_the_url_every_panel_still_loads()
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 1900 } });
        var page = await context.NewPageAsync();
        var withCredentials = new UriBuilder(new Uri(_gateway.BaseUrl, "/ui")) { UserName = "admin", Password = TestGateway.MasterKey }.Uri.AbsoluteUri;

        await page.GotoAsync(withCredentials);
        await page.WaitForFunctionAsync("document.body.dataset.ready !== 'false'");

        Assert.Equal("true", await page.EvaluateAsync<string>("document.body.dataset.ready"));
        Assert.Equal(5, await page.EvaluateAsync<int>("Object.keys(window.tollgate.charts).length"));
    }

    [Fact]
    public async Task The_key_chart_names_keys_sub_cent_costs_keep_their_digits_and_axis_ticks_never_repeat()
    {
        using var created = await _gateway.Client.PostAsync("/admin/keys", new StringContent("""{"name":"Acme Corp"}""", System.Text.Encoding.UTF8, "application/json"));
        var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        using var client = new HttpClient { BaseAddress = _gateway.BaseUrl };
        client.DefaultRequestHeaders.Authorization = new("Bearer", key.GetProperty("key").GetString());
        (await client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        await _gateway.RecordsAsync(1);

        var page = await OpenAsync();

        var labels = await page.EvaluateAsync<string[]>("window.tollgate.charts['chart-key'].data.labels");
        Assert.Contains(labels, l => l.StartsWith("Acme Corp (key_", StringComparison.Ordinal));
        Assert.Equal("$0.000123", await page.EvaluateAsync<string>("window.tollgate.usd(0.000123)"));
        Assert.Equal("$12.50", await page.EvaluateAsync<string>("window.tollgate.usd(12.5)"));
        var ticks = await page.EvaluateAsync<string[]>("[0, 0.0005, 0.001, 0.0015, 0.002].map((v, i, all) => window.tollgate.axisUsd(v, i, all.map(value => ({ value }))))");
        Assert.Equal(ticks.Length, ticks.Distinct().Count());
        foreach (var id in new[] { "chart-daily", "chart-feature", "chart-cost-center", "chart-user", "chart-key" })
        {
            var drawn = await page.EvaluateAsync<string[]>($"(() => {{ const c = window.tollgate.charts['{id}']; const axis = c.options.indexAxis === 'y' ? c.scales.x : c.scales.y; return axis.ticks.map(t => t.label); }})()");
            Assert.Equal(drawn.Length, drawn.Distinct().Count());
        }
    }

    [Fact]
    public async Task At_420_pixels_wide_the_page_reflows_without_a_horizontal_scrollbar_and_has_a_favicon()
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            HttpCredentials = new HttpCredentials { Username = "admin", Password = TestGateway.MasterKey },
            ViewportSize = new ViewportSize { Width = 420, Height = 900 },
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(_gateway.BaseUrl, "/ui").AbsoluteUri);
        await page.WaitForFunctionAsync("document.body.dataset.ready === 'true'");

        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the page is wider than 420 px");
        var icon = await page.EvaluateAsync<string>("document.querySelector('link[rel=icon]').href");
        var favicon = await page.APIRequest.GetAsync(icon);
        Assert.Equal(200, favicon.Status);
        Assert.Contains("svg", favicon.Headers["content-type"], StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artefact("dashboard-420px.png"), FullPage = true });
    }

    /// <summary>A path under the repository's <c>artifacts/screenshots</c> (kept by CI as test artefacts).</summary>
    private static string Artefact(string name)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Tollgate.slnx")))
        {
            directory = directory.Parent;
        }

        var folder = Path.Combine(directory?.FullName ?? Path.GetTempPath(), "artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }
}
