using System.Text;
using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.Ledger;
using Tollgate.Ledger.Sqlite;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Ledger;

/// <summary>Raw records past <c>raw_retention_days</c> go once rolled up; reports over whole hours keep their figures.</summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task Raw_records_past_their_retention_go_and_reports_of_their_hours_still_add_up()
    {
        var old = new SeededLedger(new DateTimeOffset(DateTime.UtcNow.Date.AddDays(-10), TimeSpan.Zero), days: 5, requestsPerDay: 40);
        await using var gateway = await TestGateway.StartAsync(
            "storage:\n  raw_retention_days: 3\nmodels:\n  - { alias: m, provider: mock, model: mock-gpt }\n",
            prepareDataDirectory: dir => old.WriteAsync(Path.Combine(dir, "ledger.db")));

        // A request wakes the ledger writer: it rolls the old records up, then deletes them.
        (await gateway.Client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        IReadOnlyList<UsageRecord> left;
        do
        {
            await Task.Delay(100);
            left = await gateway.RecordsAsync(1);
        }
        while (left.Count > 1 && DateTime.UtcNow < deadline);

        Assert.Single(left);
        var report = JsonDocument.Parse(await gateway.Client.GetStringAsync("/admin/analytics/spend?group_by=feature&from=30d")).RootElement;
        var total = report.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("cost_usd").GetDecimal());
        Assert.Equal(old.Records.Sum(r => r.Cost.Total ?? 0) + (left[0].Cost.Total ?? 0), total);
    }

    [Fact]
    public async Task Only_rolled_up_records_are_deleted_and_never_the_newest()
    {
        var directory = Directory.CreateTempSubdirectory("tollgate-retention-").FullName;
        await using var store = new SqliteLedgerStore(Path.Combine(directory, "ledger.db"));
        await store.InitializeAsync(CancellationToken.None);
        var ledger = new SeededLedger(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), days: 2, requestsPerDay: 50);
        await store.AppendAsync([.. ledger.Records.Take(60)], CancellationToken.None);
        await store.RollUpAsync(1_000, CancellationToken.None);
        await store.AppendAsync([.. ledger.Records.Skip(60)], CancellationToken.None);

        var deleted = await store.DeleteRawBeforeAsync(DateTimeOffset.MaxValue, 10_000, CancellationToken.None);

        Assert.Equal(60, deleted);
        await store.RollUpAsync(1_000, CancellationToken.None);
        Assert.Equal(39, await store.DeleteRawBeforeAsync(DateTimeOffset.MaxValue, 10_000, CancellationToken.None));
        Assert.Single(await store.ReadAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, CancellationToken.None).ToListAsync());
    }

    [Fact]
    public void Rollups_must_be_kept_at_least_as_long_as_raw_records()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(
            "storage:\n  raw_retention_days: 30\n  rollup_retention_days: 7\nmodels:\n  - { alias: m, provider: mock, model: m }\n", "t", _ => null));

        Assert.Contains(error.Errors, e => e.Contains("rollup_retention_days", StringComparison.Ordinal));
    }
}
