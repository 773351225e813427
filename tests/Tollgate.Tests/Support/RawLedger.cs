using Tollgate.Ledger;

namespace Tollgate.Tests.Support;

/// <summary>A ledger seen without its rollups: every report over it reads every raw record — the reference answer.</summary>
internal sealed class RawLedger(ILedgerStore inner) : ILedgerStore
{
    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken) => throw new NotSupportedException();

    public IAsyncEnumerable<UsageRecord> ReadAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) => inner.ReadAsync(from, to, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
