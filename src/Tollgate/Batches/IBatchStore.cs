namespace Tollgate.Batches;

/// <summary>
/// The files and batches made through the gateway: in its SQLite file alone, in PostgreSQL with several replicas (so
/// a batch created through one can be read, listed, cancelled and settled through any). A batch runs for up to a day,
/// so the list of batches still to follow — and who holds each one's budget — must outlive a restart.
/// </summary>
public interface IBatchStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    Task SaveFileAsync(BatchFile file, CancellationToken cancellationToken);

    Task<BatchFile?> FindFileAsync(string id, CancellationToken cancellationToken);

    Task DeleteFileAsync(string id, CancellationToken cancellationToken);

    Task SaveBatchAsync(TrackedBatch batch, CancellationToken cancellationToken);

    Task<TrackedBatch?> FindBatchAsync(string id, CancellationToken cancellationToken);

    /// <summary>The batches not yet settled, whatever their status (a final one may have ended while no gateway ran), soonest poll first.</summary>
    Task<IReadOnlyList<TrackedBatch>> OpenBatchesAsync(CancellationToken cancellationToken);

    /// <summary>A caller's batches of one API (every caller's for null), newest first, after the batch <paramref name="after"/> when given.</summary>
    Task<IReadOnlyList<TrackedBatch>> ListAsync(string api, string? caller, string? after, int limit, CancellationToken cancellationToken);
}
