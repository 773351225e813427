using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Configuration;
using Tollgate.FakeProviders;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Metering;

/// <summary>
/// Prices with peak hours (DeepSeek's V4 models from 2026-08-16: twice the off-peak rate 01:00–04:00 and 06:00–10:00 UTC
/// on weekdays): each request priced at the rate of the moment it started, windows start-inclusive and end-exclusive,
/// weekends off-peak, the schedule kept through the catalogue's files, and applied end to end by the gateway.
/// </summary>
public sealed class PeakHoursTests
{
    private static readonly PriceCatalog Catalog = new(PriceCatalogReader.BuiltInPrices());

    [Theory]
    [InlineData("2026-12-08T02:30:00Z", true)]  // Tuesday, in 01:00–04:00
    [InlineData("2026-12-08T01:00:00Z", true)]  // a window's start is in it
    [InlineData("2026-12-08T04:00:00Z", false)] // its end is not
    [InlineData("2026-12-08T05:59:59Z", false)]
    [InlineData("2026-12-08T06:00:00Z", true)]
    [InlineData("2026-12-08T09:59:59Z", true)]
    [InlineData("2026-12-08T10:00:00Z", false)]
    [InlineData("2026-12-08T00:59:59Z", false)]
    [InlineData("2026-12-12T02:30:00Z", false)] // Saturday
    [InlineData("2026-12-13T07:00:00Z", false)] // Sunday
    [InlineData("2026-12-08T09:30:00+07:00", true)] // 02:30 UTC, written in Hanoi time
    public void DeepSeek_v4_is_priced_at_peak_rates_only_in_its_peak_hours(string at, bool peak)
    {
        var time = DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture);
        var price = Catalog.Find("deepseek-v4-flash", DateOnly.FromDateTime(time.UtcDateTime))!.At(time);
        var cost = CostCalculator.Price(new Usage(1_000_000, 200_000, 0, 1_000_000, 0), price);

        // 800k uncached + 200k cached input, 1M output: peak $0.352 + $0.0028 + $1.32; off-peak half of each.
        Assert.Equal(peak ? 1.6748m : 0.8374m, cost.Total);
        Assert.Null(price.Peak);
    }

    [Fact]
    public void Before_the_schedule_began_the_flat_price_of_the_day_applies()
    {
        var price = Catalog.Find("deepseek-v4-flash", new DateOnly(2026, 8, 15))!;
        Assert.Null(price.Peak);
        Assert.Equal((0.14m, 0.28m), (price.At(new DateTimeOffset(2026, 8, 14, 2, 30, 0, TimeSpan.Zero)).InputPerMillion, price.OutputPerMillion));
        Assert.NotNull(Catalog.Find("deepseek-v4-pro", new DateOnly(2026, 8, 16))!.Peak);
    }

    [Fact]
    public void A_window_may_wrap_past_midnight_and_the_schedule_survives_the_catalogue_files()
    {
        var peak = new PeakHours([PeakHours.ParseWindow("22:00-02:00")!.Value], WeekdaysOnly: false, 2m, null, null, 4m);
        Assert.True(peak.Covers(new DateTimeOffset(2026, 12, 12, 23, 0, 0, TimeSpan.Zero)));
        Assert.True(peak.Covers(new DateTimeOffset(2026, 12, 13, 1, 59, 0, TimeSpan.Zero)));
        Assert.False(peak.Covers(new DateTimeOffset(2026, 12, 13, 2, 0, 0, TimeSpan.Zero)));
        Assert.Null(PeakHours.ParseWindow("25:00-02:00"));
        Assert.Null(PeakHours.ParseWindow("nonsense"));

        var price = new TokenPrice { Model = "m", EffectiveFrom = new DateOnly(2026, 1, 1), InputPerMillion = 1m, OutputPerMillion = 2m, Peak = peak };
        using var file = new MemoryStream();
        PriceCatalogWriter.Write(file, [price]);
        file.Position = 0;
        var back = PriceCatalogReader.Read(file).Single();
        Assert.Equal(["22:00-02:00"], back.Peak!.WindowTexts);
        Assert.Equal((false, 2m, (decimal?)null, 4m), (back.Peak.WeekdaysOnly, back.Peak.InputPerMillion!.Value, back.Peak.CachedInputPerMillion, back.Peak.OutputPerMillion!.Value));
    }

    [Theory]
    [InlineData("2026-12-08T02:30:00Z", true)]
    [InlineData("2026-12-08T12:00:00Z", false)]
    public async Task The_gateway_records_a_request_at_the_rate_of_the_moment_it_started(string at, bool peak)
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        var clock = new MovedClock(DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture));
        await using var gateway = await TestGateway.StartAsync(
            $"""
            models:
              - {"{"} alias: ds, provider: deepseek, model: deepseek-v4-flash, api_key: sk-test, base_url: "{upstream.BaseUrl}" {"}"}
            """,
            configure: builder => builder.Services.AddSingleton<TimeProvider>(clock));
        using var response = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"ds","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var record = Assert.Single(await gateway.RecordsAsync(1));
        // The fake upstream bills 42 prompt and 17 completion tokens.
        var expected = peak ? ((42 * 0.44m) + (17 * 1.32m)) / 1_000_000m : ((42 * 0.22m) + (17 * 0.66m)) / 1_000_000m;
        Assert.Equal(expected, record.Cost.Total);
        Assert.EndsWith(peak ? ", peak hours" : ", off-peak", record.PriceSource, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_price_set_in_the_config_can_have_peak_hours_too_and_mistakes_in_them_are_named()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        var clock = new MovedClock(new DateTimeOffset(2026, 12, 8, 22, 30, 0, TimeSpan.Zero)); // a Tuesday, in 22:00–02:00
        await using var gateway = await TestGateway.StartAsync(
            $"""
            models:
              - alias: gpu
                provider: openai
                model: llama-3.1-8b
                api_key: sk-test
                base_url: "{upstream.BaseUrl}"
                price:
                  input_per_million: 1
                  output_per_million: 2
                  peak: {"{"} hours_utc: ["22:00-02:00"], input_per_million: 3, output_per_million: 5 {"}"}
            """,
            configure: builder => builder.Services.AddSingleton<TimeProvider>(clock));
        using var response = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"gpu","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = Assert.Single(await gateway.RecordsAsync(1));
        Assert.Equal(((42 * 3m) + (17 * 5m)) / 1_000_000m, record.Cost.Total);
        Assert.Equal("config override, peak hours", record.PriceSource);

        var wrong = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("""
            models:
              - alias: a
                provider: openai
                model: m
                api_key: k
                price: { input_per_million: 1, output_per_million: 2, peak: { hours_utc: ["25:00-02:00"], weekdays: true } }
            """, "test", _ => null));
        Assert.Contains(wrong.Errors, e => e.EndsWith("price.peak.hours_utc: '25:00-02:00' is not a window HH:mm-HH:mm (UTC)", StringComparison.Ordinal));
        Assert.Contains(wrong.Errors, e => e.Contains("price.peak: give the peak rates", StringComparison.Ordinal));
        Assert.Contains(wrong.Errors, e => e.Contains("weekdays", StringComparison.Ordinal));
    }

    [Fact]
    public void A_LiteLLM_configs_off_peak_pricing_becomes_a_price_with_peak_hours_outside_its_windows()
    {
        var config = ConfigLoader.Parse("""
            model_list:
              - model_name: deepseek-chat
                litellm_params:
                  model: deepseek/deepseek-chat
                  api_key: sk-x
                  input_cost_per_token: 2.7e-7
                  output_cost_per_token: 1.1e-6
                model_info:
                  off_peak_pricing:
                    hours_utc: "16:30-00:30"
                    input_cost_per_token: 1.35e-7
                    output_cost_per_token: 5.5e-7
              - model_name: no-standard-rates
                litellm_params: { model: deepseek/deepseek-chat, api_key: sk-x }
                model_info:
                  off_peak_pricing: { hours_utc: ["16:30-00:30"], input_cost_per_token: 1.35e-7 }
            """, "litellm.yaml", _ => null);
        var pricing = new DeploymentPricing(config.Deployments[0], Catalog, TimeProvider.System);
        DeploymentPrice.PerToken At(int hour, int minute) =>
            (DeploymentPrice.PerToken)pricing.At(new DateTimeOffset(2026, 12, 12, hour, minute, 0, TimeSpan.Zero)); // a Saturday: every day counts

        Assert.Equal((0.135m, 0.55m), (At(20, 0).Price.InputPerMillion, At(20, 0).Price.OutputPerMillion)); // off-peak
        Assert.Equal((0.135m, 0.55m), (At(0, 29).Price.InputPerMillion, At(0, 29).Price.OutputPerMillion));
        Assert.Equal((0.27m, 1.1m), (At(0, 30).Price.InputPerMillion, At(0, 30).Price.OutputPerMillion)); // standard from 00:30
        Assert.Equal((0.27m, 1.1m), (At(16, 29).Price.InputPerMillion, At(16, 29).Price.OutputPerMillion));
        Assert.Equal(0.135m, At(16, 30).Price.InputPerMillion);
        Assert.Null(config.Deployments[1].Price); // no standard rates to keep as the peak ones: left out, with a warning
        Assert.Contains(config.Warnings, w => w.Contains("off_peak_pricing: needs input_cost_per_token", StringComparison.Ordinal));
    }

    [Fact]
    public void The_hours_outside_some_windows_are_the_rest_of_the_day_to_the_minute()
    {
        static string[] Rest(params string[] windows) => [.. new PeakHours(PeakHours.Complement(windows.Select(w => PeakHours.ParseWindow(w)!.Value)), false, null, null, null, null).WindowTexts];

        Assert.Equal(["00:30-16:30"], Rest("16:30-00:30"));
        Assert.Equal(["00:00-01:00", "04:00-06:00", "10:00-00:00"], Rest("01:00-04:00", "06:00-10:00"));
        Assert.Empty(Rest("08:00-08:00")); // a window whose start equals its end is the whole day
        Assert.Equal(["00:00-00:00"], Rest()); // none: the whole day is left
        Assert.True(new PeakHours([PeakHours.ParseWindow("00:00-00:00")!.Value], false, null, null, null, null).Covers(DateTimeOffset.UnixEpoch.AddHours(13)));
    }

    /// <summary>The system clock moved to another moment: time runs on from there.</summary>
    private sealed class MovedClock(DateTimeOffset start) : TimeProvider
    {
        private readonly DateTimeOffset _startedAt = System.GetUtcNow();

        public override DateTimeOffset GetUtcNow() => start + (System.GetUtcNow() - _startedAt);
    }
}
