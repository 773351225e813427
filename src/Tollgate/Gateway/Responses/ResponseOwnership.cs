using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tollgate.Gateway.Pipeline;

namespace Tollgate.Gateway.Responses;

/// <summary>
/// Remembers, for each Responses API response this gateway made, the deployment that holds it and the caller that asked
/// (<see cref="IResponseOwners"/>). A failure to remember is logged, never the client's error: the answer has been
/// given; only later calls on that id will not find it.
/// </summary>
public sealed partial class ResponseOwnership(IResponseOwners owners, TimeProvider time, ILogger<ResponseOwnership> logger)
{
    public Task<(string Deployment, string Caller)?> FindAsync(string responseId, CancellationToken cancellationToken) => owners.FindAsync(responseId, cancellationToken);

    /// <summary>The response id of a whole Responses answer.</summary>
    public static string? IdOf(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async Task RememberAsync(Exchange exchange, string? responseId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        if (string.IsNullOrEmpty(responseId))
        {
            return;
        }

        try
        {
            await owners.SaveAsync(responseId, exchange.Deployment.Name, CallerOf(exchange.Attribution.KeyId), time.GetUtcNow(), cancellationToken);
        }
        catch (System.Data.Common.DbException ex)
        {
            LogNotRemembered(logger, responseId, ex);
        }
    }

    /// <summary>The owner name of a caller: its key id, or <c>master</c>.</summary>
    public static string CallerOf(string? keyId) => keyId ?? "master";

    [LoggerMessage(Level = LogLevel.Warning, Message = "The response {ResponseId} could not be remembered; later calls on its id will not find it")]
    private static partial void LogNotRemembered(ILogger logger, string responseId, Exception exception);
}
