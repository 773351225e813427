namespace Tollgate.Policy.Alerts;

/// <summary>
/// Alerts already sent for a period (a digest, a forecast crossing a budget), so that a restart or another replica does
/// not send them again: in the SQLite file, or in PostgreSQL shared by replicas.
/// </summary>
public interface IAlertLog
{
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Records that <paramref name="kind"/> about <paramref name="subject"/> for <paramref name="period"/> is being sent; false when it already was (here or by another replica).</summary>
    Task<bool> TryRecordAsync(string kind, string subject, string period, DateTimeOffset at, CancellationToken cancellationToken);
}
