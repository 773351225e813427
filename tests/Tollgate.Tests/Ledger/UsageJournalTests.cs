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
        ResponseCacheHit = ResponseCacheHit.Semantic,
        ResponseCacheSimilarity = 0.9375,
        ResponseCacheSavedUsd = 0.000123456789m,
        Attempts = 2,
        MaxOutputTokens = 512,
        PromptPrefixHash = "0123456789abcdef0123456789abcdef",
        PromptPrefixTokens = 1_500,
        RequestHash = "fedcba9876543210fedcba9876543210",
        QuestionHash = "0123456789abcdef0123456789abcdef",
        PromptFacts = new PromptFacts(1_234, PromptShape.Tools | PromptShape.ResponseFormat, PromptVector.Of("lexical", [0.5f, -0.25f, 0.125f, 1e-3f])),
        UpstreamRequestId = "req_upstream_" + n,
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
    public void A_batch_line_with_built_in_tool_calls_reads_back_with_them()
    {
        var record = Sample(4) with { BatchId = "batch_1", RealtimeCostUsd = 1.25m };
        record = record with { Usage = record.Usage with { ToolCalls = new Dictionary<string, int> { ["web_search"] = 2, ["code_interpreter"] = 1 } } };
        var line = new ArrayBufferWriter<byte>();
        JournalCodec.Write(record, line);

        var back = JournalCodec.Read(line.WrittenMemory[..^1])!;

        Assert.Equal("code_interpreter=1;web_search=2", BuiltInToolCalls.Format(back.Usage.ToolCalls));
        Assert.Equal(("batch_1", 1.25m), (back.BatchId, back.RealtimeCostUsd!.Value));
        Assert.Equal(record.Usage with { ToolCalls = null }, back.Usage with { ToolCalls = null });
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
            await foreach (var record in store.ReadAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, CancellationToken.None))
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
    public async Task A_copy_cut_short_by_a_kill_loses_only_its_own_record_and_the_unused_end_of_a_segment_is_skipped()
    {
        // Each append stores its closing newline first, then the rest: a kill during the copy leaves the start of the
        // line, zero bytes, and the newline, so the next record is still a line of its own.
        var whole = new ArrayBufferWriter<byte>();
        JournalCodec.Write(Sample(1), whole);
        var lines = new ArrayBufferWriter<byte>();
        JournalCodec.Write(Sample(0), lines);
        var torn = new byte[whole.WrittenCount];
        whole.WrittenSpan[..40].CopyTo(torn);
        torn[^1] = (byte)'\n';
        lines.Write(torn);
        JournalCodec.Write(Sample(2), lines);
        lines.Write(new byte[64 * 1024]);
        Directory.CreateDirectory(_directory);
        File.WriteAllBytes(Path.Combine(_directory, "000000000004" + UsageJournal.Extension), lines.WrittenSpan.ToArray());
        await using var store = new SqliteLedgerStore(Path.Combine(_directory, "ledger.db"));
        await store.InitializeAsync(CancellationToken.None);

        Assert.Equal(2, await JournalReplay.RunAsync(_directory, store, NullLogger.Instance, CancellationToken.None));
        var ids = new List<string>();
        await foreach (var record in store.ReadAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, CancellationToken.None))
        {
            ids.Add(record.Id);
        }

        Assert.Equal(["req_0", "req_2"], ids.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_live_segment_left_as_it_is_by_a_dead_gateway_replays_every_record()
    {
        // What a kill -9 leaves: the mapped segment at its full size, records at its start, zero bytes after them.
        var journal = new UsageJournal(_directory);
        for (var n = 0; n < 50; n++)
        {
            journal.Append(Sample(n));
        }

        var dead = Path.Combine(_directory, "dead");
        Directory.CreateDirectory(dead);
        var live = UsageJournal.Segments(_directory).Single().Path;
        File.WriteAllBytes(Path.Combine(dead, Path.GetFileName(live)), File.ReadAllBytes(live));
        journal.Dispose();
        await using var store = new SqliteLedgerStore(Path.Combine(dead, "ledger.db"));
        await store.InitializeAsync(CancellationToken.None);

        Assert.Equal(50, await JournalReplay.RunAsync(dead, store, NullLogger.Instance, CancellationToken.None));
    }

    [Fact]
    public void Concurrent_appends_across_segment_rotations_each_land_whole_and_all_files_go_once_committed()
    {
        var journal = new UsageJournal(_directory);
        var segments = new System.Collections.Concurrent.ConcurrentBag<long>();
        Parallel.For(0, 24_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, n => segments.Add(journal.Append(Sample(n))));

        var files = UsageJournal.Segments(_directory);
        // The live segment is mapped at its full size: its unused end is zero bytes.
        var ids = files.SelectMany(f => ReadShared(f.Path).Split('\n').Select(line => line.Trim('\0')).Where(line => line.Length > 0))
            .Select(line => JournalCodec.Read(System.Text.Encoding.UTF8.GetBytes(line))?.Id).ToList();
        Assert.True(files.Count >= 2, $"expected a rotation, found {files.Count} segment(s)");
        Assert.Equal(24_000, ids.Count);
        Assert.Equal(24_000, ids.Where(id => id is not null).Distinct().Count());

        journal.Committed(segments);
        journal.Dispose();
        Assert.Empty(UsageJournal.Segments(_directory));
    }

    [Fact]
    public async Task Spares_made_while_appends_roll_over_segments_lose_no_record_and_leave_no_file_once_committed()
    {
        var journal = new UsageJournal(_directory);
        var segments = new System.Collections.Concurrent.ConcurrentBag<long>();
        using var done = new CancellationTokenSource();
        var preparer = Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                journal.PrepareSpare();
            }
        });
        Parallel.For(0, 30_000, new ParallelOptions { MaxDegreeOfParallelism = 6 }, n => segments.Add(journal.Append(Sample(n))));
        await done.CancelAsync();
        await preparer;

        var ids = UsageJournal.Segments(_directory)
            .SelectMany(f => ReadShared(f.Path).Split('\n').Select(line => line.Trim('\0')).Where(line => line.Length > 0))
            .Select(line => JournalCodec.Read(System.Text.Encoding.UTF8.GetBytes(line))?.Id).ToList();
        Assert.Equal(30_000, ids.Where(id => id is not null).Distinct().Count());
        Assert.True(segments.Distinct().Count() >= 2, "expected the appends to move to another segment");

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
