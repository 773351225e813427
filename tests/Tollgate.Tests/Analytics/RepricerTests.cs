using Tollgate.Analytics;
using Tollgate.Ledger;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Analytics;

public sealed class RepricerTests
{
    private static readonly DateTimeOffset Day = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    private static UsageRecord Record(string model, Usage usage, string status = RecordStatus.Ok) =>
        Records.Ok(model, Day, usage, CostBreakdown.Flat(1m), status: status);

    [Fact]
    public void As_another_model_every_record_is_priced_from_its_own_usage_at_that_models_price()
    {
        var repricer = Repricer.AsModel(PriceCatalogReader.BuiltIn(), "deepseek-chat", new DateOnly(2026, 11, 24));

        var cost = repricer.Cost(Record("gpt-4o", new Usage(1_000, 400, null, 500, null)));

        // deepseek-chat: $0.28 input, $0.028 cached input, $0.42 output per million.
        Assert.Equal((600 * 0.28m + 400 * 0.028m + 500 * 0.42m) / 1_000_000m, cost);
    }

    [Fact]
    public void With_another_catalogue_a_model_it_lacks_is_not_repriced_and_an_unbilled_error_costs_nothing()
    {
        var catalog = new PriceCatalog([new TokenPrice { Model = "gpt-4o", EffectiveFrom = DateOnly.MinValue, InputPerMillion = 1m, OutputPerMillion = 2m }]);
        var repricer = Repricer.WithCatalog(catalog, "other.json");

        Assert.Equal((1_000 * 1m + 10 * 2m) / 1_000_000m, repricer.Cost(Record("gpt-4o", new Usage(1_000, null, null, 10, null))));
        Assert.Null(repricer.Cost(Record("llama-local", new Usage(1, null, null, 1, null))));
        Assert.Equal(0m, repricer.Cost(Record("gpt-4o", Usage.None, RecordStatus.UpstreamError)));
    }
}
