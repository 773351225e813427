using Microsoft.Extensions.Logging.Abstractions;
using Tollgate.Configuration;
using Tollgate.Gateway.Idempotency;
using Tollgate.Providers;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>The gate's rules on a real SQLite file: per-caller keys, the retention window, and replay after a restart.</summary>
public sealed class IdempotencyGateTests : IAsyncLifetime
{
    private readonly string _database = Path.Combine(Path.GetTempPath(), "tollgate-idem-" + Guid.NewGuid().ToString("N") + ".db");
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero));
    private readonly byte[] _fingerprint = IdempotencyKeyHeader.Fingerprint(GatewayEndpoint.ChatCompletions, "{\"model\":\"m\"}"u8);

    public async Task InitializeAsync() => await new Tollgate.Ledger.Sqlite.SqliteIdempotencyStore(_database).InitializeAsync(CancellationToken.None);

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(_database);
        return Task.CompletedTask;
    }

    private IdempotencyGate NewGate(IdempotencySettings? settings = null) =>
        new(new Tollgate.Ledger.Sqlite.SqliteIdempotencyStore(_database), settings ?? IdempotencySettings.Default, new Tollgate.Gateway.ReplicaIdentity("test"), _clock, NullLogger<IdempotencyGate>.Instance);

    private async Task KeepAsync(IdempotencyGate gate, string caller, string key, string body = "{\"answer\":1}")
    {
        var decision = await gate.BeginAsync(caller, key, _fingerprint, CancellationToken.None);
        await using var claim = decision.Claim ?? throw new InvalidOperationException("expected a claim");
        await claim.KeepAsync("req_1", 200, "application/json", [new("X-Tollgate-Model", "openai/m")], System.Text.Encoding.UTF8.GetBytes(body));
    }

    [Fact]
    public async Task A_kept_answer_is_replayed_by_a_new_gate_on_the_same_database_as_after_a_restart()
    {
        await KeepAsync(NewGate(), "key_a", "k");

        var replay = (await NewGate().BeginAsync("key_a", "k", _fingerprint, CancellationToken.None)).Replay;

        Assert.NotNull(replay);
        Assert.Equal("{\"answer\":1}", System.Text.Encoding.UTF8.GetString(replay.Body));
        Assert.Equal(("req_1", 200, "application/json"), (replay.RequestId, replay.StatusCode, replay.ContentType));
        Assert.Equal("openai/m", Assert.Single(replay.Headers).Value);
    }

    [Fact]
    public async Task A_retry_after_the_answer_was_kept_but_before_the_claim_is_let_go_gets_the_answer_here_and_on_another_replica()
    {
        var gate = NewGate();
        var otherReplica = new IdempotencyGate(
            new Tollgate.Ledger.Sqlite.SqliteIdempotencyStore(_database), IdempotencySettings.Default, new Tollgate.Gateway.ReplicaIdentity("other"), _clock, NullLogger<IdempotencyGate>.Instance);
        var first = await gate.BeginAsync("key_a", "k", _fingerprint, CancellationToken.None);
        await using var claim = first.Claim ?? throw new InvalidOperationException("expected a claim");
        var whileRunning = await gate.BeginAsync("key_a", "k", _fingerprint, CancellationToken.None);

        // The answer is kept and sent; the claim is let go only when the request's handler returns.
        await claim.KeepAsync("req_1", 200, "application/json", [], "{\"answer\":1}"u8.ToArray());
        var sameReplica = await gate.BeginAsync("key_a", "k", _fingerprint, CancellationToken.None);
        var elsewhere = await otherReplica.BeginAsync("key_a", "k", _fingerprint, CancellationToken.None);
        var otherBody = await gate.BeginAsync("key_a", "k", IdempotencyKeyHeader.Fingerprint(GatewayEndpoint.ChatCompletions, "{\"model\":\"n\"}"u8), CancellationToken.None);

        Assert.True(whileRunning is { Claim: null, Replay: null, StillRunning: true });
        Assert.Equal("req_1", sameReplica.Replay?.RequestId);
        Assert.Equal("req_1", elsewhere.Replay?.RequestId);
        Assert.True(otherBody is { Claim: null, Replay: null, StillRunning: false, Conflict: not null });
    }

    [Fact]
    public async Task Another_caller_with_the_same_key_gets_its_own_claim()
    {
        var gate = NewGate();
        await KeepAsync(gate, "key_a", "shared");

        var other = await gate.BeginAsync("key_b", "shared", _fingerprint, CancellationToken.None);

        Assert.NotNull(other.Claim);
        await other.Claim.DisposeAsync();
    }

    [Fact]
    public async Task After_the_retention_the_key_is_free_again()
    {
        var gate = NewGate(IdempotencySettings.Default with { Retention = TimeSpan.FromHours(24) });
        await KeepAsync(gate, "key_a", "k");

        _clock.Advance(TimeSpan.FromHours(23.9));
        Assert.NotNull((await gate.BeginAsync("key_a", "k", _fingerprint, CancellationToken.None)).Replay);
        _clock.Advance(TimeSpan.FromHours(0.2));
        var later = await gate.BeginAsync("key_a", "k", _fingerprint, CancellationToken.None);

        Assert.NotNull(later.Claim);
        await later.Claim.DisposeAsync();
    }

    [Fact]
    public async Task A_claim_that_ends_without_an_answer_frees_the_key()
    {
        var gate = NewGate();
        var first = await gate.BeginAsync("key_a", "k", _fingerprint, CancellationToken.None);
        var during = await gate.BeginAsync("key_a", "k", _fingerprint, CancellationToken.None);
        await first.Claim!.DisposeAsync();
        var after = await gate.BeginAsync("key_a", "k", _fingerprint, CancellationToken.None);

        Assert.True(during.StillRunning);
        Assert.NotNull(after.Claim);
        await after.Claim.DisposeAsync();
    }

    [Fact]
    public async Task An_answer_over_the_size_limit_is_not_kept()
    {
        var gate = NewGate(IdempotencySettings.Default with { MaxResponseBytes = 1024 });
        await KeepAsync(gate, "key_a", "big", new string('x', 2000));

        var again = await gate.BeginAsync("key_a", "big", _fingerprint, CancellationToken.None);

        Assert.NotNull(again.Claim);
        await again.Claim.DisposeAsync();
    }

    [Fact]
    public async Task A_stream_over_the_size_limit_is_not_kept_even_though_its_start_fit()
    {
        var gate = NewGate(IdempotencySettings.Default with { MaxResponseBytes = 1024 });
        await using (var claim = (await gate.BeginAsync("key_a", "s", _fingerprint, CancellationToken.None)).Claim!)
        {
            claim.Capture(new byte[600]);
            claim.Capture(new byte[600]);
            await claim.KeepStreamAsync("req_2", []);
        }

        Assert.NotNull((await gate.BeginAsync("key_a", "s", _fingerprint, CancellationToken.None)).Claim);
    }
}
