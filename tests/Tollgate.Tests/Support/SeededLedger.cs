using Tollgate.Ledger;
using Tollgate.Metering;

namespace Tollgate.Tests.Support;

/// <summary>
/// A deterministic ledger of many days: features, models and users drawn from fixed lists with a seeded random
/// source, costs with eight decimals. Tests compare reports against sums over <see cref="Records"/>.
/// </summary>
internal sealed class SeededLedger
{
    public static readonly string[] Features = ["chat", "search", "summarise", "embed-docs", "translate"];
    public static readonly string[] Models = ["gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-flash"];
    public static readonly string[] CostCenters = ["growth", "support", "platform"];

    public SeededLedger(DateTimeOffset firstDay, int days, int requestsPerDay, int users = 20, int seed = 7, Func<DateTimeOffset, decimal>? dayFactor = null)
    {
        var random = new Random(seed);
        var records = new List<UsageRecord>();
        for (var day = 0; day < days; day++)
        {
            var date = firstDay.AddDays(day);
            var factor = dayFactor?.Invoke(date) ?? 1m;
            for (var i = 0; i < requestsPerDay; i++)
            {
                var at = date.AddSeconds(random.Next(0, 86_400));
                var model = Models[random.Next(Models.Length)];
                var input = random.Next(50, 4_000);
                var output = random.Next(10, 800);
                var inputCost = decimal.Round(input * 0.15m / 1_000_000 * factor * (1 + random.Next(0, 100) / 100m), 10);
                var outputCost = decimal.Round(output * 0.6m / 1_000_000 * factor, 10);
                var attribution = new Attribution(
                    "key_" + random.Next(3), "user-" + random.Next(users).ToString("D2", System.Globalization.CultureInfo.InvariantCulture), "s" + i,
                    CostCenters[random.Next(CostCenters.Length)], Features[random.Next(Features.Length)], "atlas", "prod",
                    new Dictionary<string, string> { ["team"] = random.Next(2) == 0 ? "blue" : "red" });
                records.Add(Support.Records.Ok(model, at, new Usage(input, 0, 0, output, 0), new CostBreakdown(inputCost, 0, 0, outputCost, 0, inputCost + outputCost), attribution));
            }
        }

        Records = [.. records.OrderBy(r => r.Timestamp)];
    }

    public IReadOnlyList<UsageRecord> Records { get; }

    /// <summary>Writes the records into a ledger file (for a gateway started on that data folder).</summary>
    public async Task WriteAsync(string sqlitePath)
    {
        await using var store = new Tollgate.Ledger.Sqlite.SqliteLedgerStore(sqlitePath);
        await store.InitializeAsync(CancellationToken.None);
        foreach (var chunk in Records.Chunk(500))
        {
            await store.AppendAsync(chunk, CancellationToken.None);
        }
    }
}
