using Tollgate.Analytics.Planning;
using Tollgate.Metering;
using Xunit;

namespace Tollgate.Tests.Analytics;

/// <summary>The GPU-vs-token planner reproduces the brief's examples, and its break-even volumes are the volumes at which both cost the same.</summary>
public sealed class GpuPlannerTests
{
    private static readonly PriceCatalog Catalog = new(PriceCatalogReader.BuiltInPrices());
    private static readonly DateOnly Today = new(2026, 12, 7);

    [Fact]
    public void An_8b_model_at_4_bit_fits_a_24_gb_l4_at_0_72_an_hour_and_not_at_fp16_on_a_smaller_card()
    {
        var l4 = GpuOffers.Find("L4")!;
        Assert.Equal((24, 0.72m), (l4.VramGb, l4.OnDemandPerHour));
        Assert.Equal(4.8m, GpuPlanner.VramNeededGb(8, WeightPrecision.Bit4));
        Assert.Equal(9.6m, GpuPlanner.VramNeededGb(8, WeightPrecision.Int8));
        Assert.Equal(19.2m, GpuPlanner.VramNeededGb(8, WeightPrecision.Fp16));
        Assert.True(GpuPlanner.VramNeededGb(70, WeightPrecision.Fp16) > 80);
    }

    [Fact]
    public void The_peak_sets_how_many_gpus_must_be_up_at_least_one()
    {
        // 10 requests a second of 300 output tokens: 3,000 tokens a second.
        var peak = PeakLoad.Of(10, 300);
        Assert.Equal(3_000m, peak.OutputTokensPerSecond);
        Assert.Equal(3, peak.GpusNeeded(1_000));
        Assert.Equal(4, peak.GpusNeeded(999));
        Assert.Equal(1, peak.GpusNeeded(5_000));
        Assert.Equal(1, PeakLoad.Of(0.01m, 1).GpusNeeded(40));
    }

    [Fact]
    public void The_busiest_minute_is_found_by_its_output_tokens_among_records_oldest_first()
    {
        var start = new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
        var busiest = new BusiestMinute();
        Assert.Null(busiest.Peak);
        void Add(int second, long output) => busiest.Add(Tollgate.Tests.Support.Records.Ok("m", start.AddSeconds(second), new Usage(10, 0, 0, output, 0), CostBreakdown.Flat(0)));

        Add(0, 600);      // 09:00 — 2 requests, 1,200 tokens
        Add(59, 600);
        Add(60, 100);     // 09:01 — 3 requests, 2,400 tokens: the busiest
        Add(61, 1_100);
        Add(119, 1_200);
        Add(3_600, 2_000); // 10:00 — 1 request, 2,000 tokens

        Assert.Equal(new PeakLoad(3 / 60m, 2_400 / 60m), busiest.Peak);
    }

    [Fact]
    public void The_table_has_the_common_offers_each_with_its_memory_a_price_and_where_the_price_was_read()
    {
        foreach (var (name, vram) in new[] { ("l4", 24), ("a10g", 24), ("a100-40gb", 40), ("a100-80gb", 80), ("h100", 80) })
        {
            var offer = GpuOffers.Find(name)!;
            Assert.Equal(vram, offer.VramGb);
            Assert.True(offer.OnDemandPerHour > 0 && (offer.SpotPerHour is null || offer.SpotPerHour < offer.OnDemandPerHour), name);
            Assert.False(string.IsNullOrWhiteSpace(offer.Source), name);
        }
    }

    [Fact]
    public void The_hobbyists_day_is_about_0_8_per_token_against_about_4_for_a_gpu_session_and_a_2_52_gpu_costs_3_5_times_a_0_72_one()
    {
        // A day of coding experiments on Claude Sonnet: 150k tokens in, 23k out.
        var day = new TokenWorkload(150_000, 23_000);
        var sonnet = Catalog.Find("claude-sonnet-4-5", Today)!;
        Assert.Equal(0.795m, GpuPlanner.ApiCost(day, sonnet));

        // Or an L4 for the session: 5 hours serving, 10 minutes to boot and load, 20 minutes idle before it is stopped.
        var l4 = new GpuSession("l4", 0.72m, 24, 5, 10, 20, 40);
        Assert.Equal(3.96m, l4.Cost);
        Assert.Equal(720_000m, l4.OutputCapacity);
        Assert.Equal(5m, l4.PerMillionOutputAtFullUse);

        var bigger = l4 with { PricePerHour = 2.52m };
        Assert.Equal(13.86m, bigger.Cost);
        Assert.Equal(3.5m, bigger.Cost / l4.Cost);
    }

    [Theory]
    [InlineData("gpt-4o-mini")]
    [InlineData("claude-sonnet-4-5")]
    [InlineData("deepseek-chat")]
    public void At_the_break_even_volume_the_api_costs_what_the_session_does(string model)
    {
        var workload = new TokenWorkload(800_000, 200_000);
        var session = new GpuSession("l4", 0.72m, 24, 8, 5, 0, 40);
        var price = Catalog.Find(model, Today)!;

        var breakEven = GpuPlanner.BreakEvenTokensPerDay(workload, price, session);
        var atBreakEven = new TokenWorkload((long)(breakEven * (1 - workload.OutputShare)), (long)(breakEven * workload.OutputShare));

        Assert.InRange(GpuPlanner.ApiCost(atBreakEven, price), session.Cost * 0.9999m, session.Cost * 1.0001m);

        // gpt-4o-mini at a fifth output: $0.24 a million blended, so $5.82 of L4 (8 h + 5 min) buys 24.25M tokens a day.
        if (model == "gpt-4o-mini")
        {
            Assert.Equal(24_250_000m, breakEven);
        }
    }

    [Fact]
    public void Api_models_are_compared_cheapest_first_with_their_latest_price()
    {
        var comparison = GpuPlanner.Compare(new TokenWorkload(1_000_000, 100_000), new GpuSession("l4", 0.72m, 24, 1, 0, 0, 40), Catalog.All, Today);

        Assert.Equal(comparison.OrderBy(c => c.WorkloadCost).Select(c => c.Model), comparison.Select(c => c.Model));
        Assert.Equal(comparison.Count, comparison.Select(c => c.Model).Distinct().Count());
        var mini = comparison.Single(c => c.Model == "gpt-4o-mini");
        Assert.Equal((0.15m * 1_000_000 + 0.6m * 100_000) / 1_000_000m, mini.WorkloadCost);
    }
}
