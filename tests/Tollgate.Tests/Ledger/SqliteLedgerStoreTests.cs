using Tollgate.Ledger;
using Tollgate.Ledger.Sqlite;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Ledger;

public sealed class SqliteLedgerStoreTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tollgate-store-" + Guid.NewGuid().ToString("N"));
    private SqliteLedgerStore _store = null!;

    public async Task InitializeAsync()
    {
        _store = new SqliteLedgerStore(Path.Combine(_directory, "ledger.db"));
        await _store.InitializeAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_record_reads_back_exactly_as_written_whatever_its_text_and_money()
    {
        var longText = string.Concat(Enumerable.Repeat("Xin chào 👋 ", 60));
        var records = new[]
        {
            Records.Ok(
                "gpt-4o-mini",
                DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_123),
                new Usage(1200, 1024, 10, 345, 100, Estimated: true) { CacheWrite1hTokens = 4 },
                new CostBreakdown(0.0000000000000000000000000001m, 0.0000000075m, 0, 7922816251426433759354.3950335m, -0.00001m, 79228162514264337593543.95034m),
                new Attribution("key_1", string.Empty, "sesión-ü", longText, "chat", "proj", "prod", new Dictionary<string, string> { ["team"] = "Xin chào \"q\"\n", ["empty"] = string.Empty })) with
            {
                Id = "req_full",
                TimeToFirstByteMs = 12.25,
                Error = longText,
                CacheSavingsUsd = -0.0000012m,
                ResponseCacheHit = ResponseCacheHit.Exact,
                ResponseCacheSimilarity = 1.0,
                ResponseCacheSavedUsd = 0.000000000123m,
                Attempts = 3,
                MaxOutputTokens = 4_096,
                PromptPrefixHash = "0123456789abcdef0123456789abcdef",
                PromptPrefixTokens = 8_000,
                RequestHash = "fedcba9876543210fedcba9876543210",
                QuestionHash = "0123456789abcdef0123456789abcdef",
                PromptFacts = new PromptFacts(1_234, PromptShape.Tools | PromptShape.ResponseFormat, PromptVector.Of("lexical", [0.5f, -0.25f, 0.125f, 1e-3f])),
                UpstreamRequestId = "msg_req_011CV",
            },
            Records.Ok("mystery-model", DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_456), Usage.None, CostBreakdown.Unknown) with { Id = "req_unknown" },
        };

        // Parameters that hold the previous row's value are not bound again: rows that differ in every way, then
        // one like the first, and one whose cost equals the last one's but is written with another scale.
        records = [
            .. records,
            records[0] with { Id = "req_again", Timestamp = records[0].Timestamp.AddSeconds(1), Cost = records[0].Cost with { Input = 0.10m } },
            records[0] with { Id = "req_scale", Timestamp = records[0].Timestamp.AddSeconds(2), Cost = records[0].Cost with { Input = 0.1m } },
        ];

        await _store.AppendAsync(records, CancellationToken.None);

        var back = new List<UsageRecord>();
        await foreach (var record in _store.ReadAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, CancellationToken.None))
        {
            back.Add(record);
        }

        Assert.Equal(4, back.Count);
        for (var i = 0; i < records.Length; i++)
        {
            Assert.Equal(records[i] with { Attribution = Attribution.Empty }, back[i] with { Attribution = Attribution.Empty });
            Assert.Equal(records[i].Attribution with { Tags = back[i].Attribution.Tags }, back[i].Attribution);
            Assert.Equal(records[i].Attribution.Tags, back[i].Attribution.Tags);
        }

        Assert.Equal(string.Empty, back[0].Attribution.User);
        Assert.Null(back[1].Cost.Total);
        Assert.Equal("0.10", back[2].Cost.Input.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("0.1", back[3].Cost.Input.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
