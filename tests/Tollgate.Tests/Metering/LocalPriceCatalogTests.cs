using Tollgate.Metering;
using Xunit;

namespace Tollgate.Tests.Metering;

public sealed class LocalPriceCatalogTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"tollgate-prices-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private static TokenPrice Price(string model, DateOnly from, decimal input) =>
        new() { Model = model, EffectiveFrom = from, InputPerMillion = input, OutputPerMillion = input * 2 };

    [Fact]
    public void Imported_prices_overlay_the_built_in_catalogue_from_their_date_on()
    {
        var today = new DateOnly(2026, 11, 24);
        LocalPriceCatalog.Save(_directory, [Price("gpt-4o-mini", today, 0.12m), Price("my-vendor/model-x", today, 1m)]);

        var catalog = LocalPriceCatalog.Load(_directory);

        Assert.Equal(0.15m, catalog.Find("gpt-4o-mini", today.AddDays(-1))!.InputPerMillion);
        Assert.Equal(0.12m, catalog.Find("gpt-4o-mini", today)!.InputPerMillion);
        Assert.Equal(1m, catalog.Find("my-vendor/model-x", today)!.InputPerMillion);
        Assert.Equal(3m, catalog.Find("claude-sonnet-4-5", today)!.InputPerMillion);
    }

    [Fact]
    public void Importing_again_replaces_the_same_model_and_date_and_keeps_the_rest()
    {
        var day = new DateOnly(2026, 1, 1);
        LocalPriceCatalog.Save(_directory, [Price("a", day, 1m), Price("b", day, 2m)]);

        var count = LocalPriceCatalog.Save(_directory, [Price("A", day, 5m), Price("a", day.AddDays(30), 6m)]);

        Assert.Equal(3, count);
        var imported = LocalPriceCatalog.ReadImported(_directory);
        Assert.Equal(5m, imported.Single(p => p.EffectiveFrom == day && p.Model.Equals("a", StringComparison.OrdinalIgnoreCase)).InputPerMillion);
        Assert.Contains(imported, p => p.Model == "b");
    }

    [Fact]
    public void Without_an_imported_file_the_catalogue_is_the_built_in_one()
    {
        Assert.Equal(PriceCatalogReader.BuiltIn().All.Count(), LocalPriceCatalog.Load(_directory).All.Count());
    }
}
