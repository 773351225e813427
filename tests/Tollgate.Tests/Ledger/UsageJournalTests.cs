using System.Buffers;
using Microsoft.Extensions.Logging.Abstractions;
using Tollgate.Ledger;
using Tollgate.Ledger.Journal;
using Tollgate.Ledger.Sqlite;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Ledger;

public sealed class UsageJournalTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "tollgate-journal-" + Guid.NewGuid().ToString("N"));

    private static UsageRecord Sample(int n) => Records.Ok(
        "gpt-4o-mini",
        DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000 + n),
        new Usage(1200, 1024, 10, 345, 100, Estimated: n % 2 == 0) { CacheWrite1hTokens = 4 },
        new CostBreakdown(0.00000015m * n, 0.0000000075m, 0, 0.0006m, 0.00001m, 0.00061765m + n),
        new Attribution("key_1", "user-ü", null, "cc", "chat", "proj", "prod", new Dictionary<string, string> { ["team"] = "Xin chào \"q\"\n" })) with
    {
        Id = "req_" + n,
        TimeToFirstByteMs = 12.25,
        Error = n % 3 == 0 ? "cut" : null,
        CacheSavingsUsd = -0.0000012m,
        Attempts = 2,
    };

    [Fact]
    public void A_journal_line_reads_back_as_the_same_record_with_exact_money()
    {
        var record = Sample(3);
        var line = new ArrayBufferWriter<byte>();
        JournalCodec.Write(record, line);

        Assert.Equal((byte)'\n', line.WrittenSpan[^1]);
        Assert.DoesNotContain((byte)'\n', line.WrittenSpan[..^1].ToArray());
        var back = JournalCodec.Read(line.WrittenMemory[..^1]);
        Assert.NotNull(back);
        Assert.Equal(record with { Attribution = Attribution.Empty }, back with { Attribution = Attribution.Empty });
        Assert.Equal(record.Attribution.Tags, back.Attribution.Tags);
        Assert.Equal(record.Attribution with { Tags = back.Attribution.Tags }, back.Attribution);
    }

    [Fact]
    public void A_torn_line_is_not_a_record()
    {
        var line = new ArrayBufferWriter<byte>();
        JournalCodec.Write(Sample(1), line);
        for (var cut = 0; cut < line.WrittenCount - 1; cut++)
        {
            Assert.Null(JournalCodec.Read(line.WrittenMemory[..cut]));
        }
    }

    [Fact]
    public async Task Records_left_by_a_dead_gateway_are_replayed_once_even_when_some_were_already_stored()
    {
        // A killed gateway journaled five records and had committed two of them to the store.
        var databasePath = Path.Combine(_directory, "ledger.db");
        await using (var store = new SqliteLedgerStore(databasePath))
        {
            await store.InitializeAsync(CancellationToken.None);
            var lines = new ArrayBufferWriter<byte>();
            for (var n = 0; n < 5; n++)
            {
                JournalCodec.Write(Sample(n), lines);
            }

            // The last write was torn by the kill.
            lines.Write("{\"id\":\"req_torn\",\"ts\":17"u8);
            Directory.CreateDirectory(_directory);
            File.WriteAllBytes(Path.Combine(_directory, "000000000007" + UsageJournal.Extension), lines.WrittenSpan.ToArray());
            await store.AppendAsync([Sample(0), Sample(1)], CancellationToken.None);

            var replayed = await JournalReplay.RunAsync(_directory, store, NullLogger.Instance, CancellationToken.None);

            Assert.Equal(5, replayed);
            Assert.Empty(UsageJournal.Segments(_directory));
            var ids = new List<string>();
            await foreach (var record in store.ReadAsync(DateTimeOffset.UnixEpoch, CancellationToken.None))
            {
                ids.Add(record.Id);
            }

            Assert.Equal(["req_0", "req_1", "req_2", "req_3", "req_4"], ids.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task A_live_journal_is_not_replayed_by_another_gateway()
    {
        using var live = new UsageJournal(_directory);
        live.Append(Sample(1));
        await using var store = new SqliteLedgerStore(Path.Combine(_directory, "ledger.db"));
        await store.InitializeAsync(CancellationToken.None);

        Assert.Equal(0, await JournalReplay.RunAsync(_directory, store, NullLogger.Instance, CancellationToken.None));
        Assert.Single(UsageJournal.Segments(_directory));
    }

    [Fact]
    public void A_closed_journal_whose_records_are_all_committed_leaves_no_file()
    {
        var journal = new UsageJournal(_directory);
        var segments = Enumerable.Range(0, 3).Select(n => journal.Append(Sample(n))).ToList();
        journal.Committed(segments);
        journal.Dispose();

        Assert.Empty(UsageJournal.Segments(_directory));
    }

    [Fact]
    public void A_closed_journal_with_uncommitted_records_keeps_them_for_the_next_start()
    {
        var journal = new UsageJournal(_directory);
        var segments = Enumerable.Range(0, 3).Select(n => journal.Append(Sample(n))).ToList();
        journal.Committed(segments.Take(2));
        journal.Dispose();

        var lines = File.ReadAllLines(UsageJournal.Segments(_directory).Single().Path);
        Assert.Equal(3, lines.Length);
    }

    [Fact]
    public async Task A_gap_left_by_a_write_that_never_happened_does_not_hide_the_record_after_it()
    {
        // Appends reserve their place and write outside the lock: a kill between two writes leaves zero bytes.
        var lines = new ArrayBufferWriter<byte>();
        JournalCodec.Write(Sample(0), lines);
        lines.Write(new byte[731]);
        JournalCodec.Write(Sample(1), lines);
        Directory.CreateDirectory(_directory);
        File.WriteAllBytes(Path.Combine(_directory, "000000000003" + UsageJournal.Extension), lines.WrittenSpan.ToArray());
        await using var store = new SqliteLedgerStore(Path.Combine(_directory, "ledger.db"));
        await store.InitializeAsync(CancellationToken.None);

        Assert.Equal(2, await JournalReplay.RunAsync(_directory, store, NullLogger.Instance, CancellationToken.None));
    }

    [Fact]
    public void Concurrent_appends_across_segment_rotations_each_land_whole_and_all_files_go_once_committed()
    {
        var journal = new UsageJournal(_directory);
        var segments = new System.Collections.Concurrent.ConcurrentBag<long>();
        Parallel.For(0, 24_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, n => segments.Add(journal.Append(Sample(n))));

        var files = UsageJournal.Segments(_directory);
        var ids = files.SelectMany(f => ReadShared(f.Path).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            .Select(line => JournalCodec.Read(System.Text.Encoding.UTF8.GetBytes(line))?.Id).ToList();
        Assert.True(files.Count >= 2, $"expected a rotation, found {files.Count} segment(s)");
        Assert.Equal(24_000, ids.Count);
        Assert.Equal(24_000, ids.Where(id => id is not null).Distinct().Count());

        journal.Committed(segments);
        journal.Dispose();
        Assert.Empty(UsageJournal.Segments(_directory));
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing was written.
        }
    }
}
