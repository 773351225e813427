namespace Tollgate.Gateway.Responses;

/// <summary>
/// Which deployment made each Responses API response and for which caller, so that a later <c>GET</c>, <c>DELETE</c>,
/// <c>cancel</c>, <c>input_items</c> or <c>previous_response_id</c> on its id reaches the provider that holds it — and
/// only for the caller that made it. Kept across restarts (providers keep responses for days): in the gateway's SQLite
/// file, or in PostgreSQL so that any replica finds a response another made.
/// </summary>
public interface IResponseOwners
{
    Task InitializeAsync(CancellationToken cancellationToken);

    Task SaveAsync(string responseId, string deployment, string caller, DateTimeOffset createdAt, CancellationToken cancellationToken);

    /// <summary>The deployment and caller of a response id, or null when no gateway on this store made it.</summary>
    Task<(string Deployment, string Caller)?> FindAsync(string responseId, CancellationToken cancellationToken);
}
