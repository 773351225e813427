using System.Globalization;
using System.Text.Json;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;
using Tollgate.Providers.Anthropic;

namespace Tollgate.Batches;

/// <summary>
/// Anthropic's Message Batches API (<c>/v1/messages/batches</c>): a batch's <c>processing_status</c> is in_progress,
/// canceling or ended; once ended its results are read from <c>…/{id}/results</c>, one JSON line per request.
/// </summary>
public sealed class AnthropicBatchApi : IBatchApi
{
    public const string ApiName = "anthropic";

    public string Name => ApiName;

    public Task<Providers.ProviderResult<Providers.UpstreamReply>>? ReadAsync(Deployment deployment, string batchId, CancellationToken cancellationToken) =>
        (deployment?.Adapter as AnthropicAdapter)?.RelayBatchCallAsync(deployment!.Config, HttpMethod.Get, "/" + Uri.EscapeDataString(batchId), null, cancellationToken);

    public string? StatusOf(JsonElement batchObject) =>
        batchObject.ValueKind == JsonValueKind.Object && batchObject.TryGetProperty("processing_status", out var status) && status.ValueKind == JsonValueKind.String
            ? status.GetString()
            : null;

    public bool IsFinal(string status) => status == "ended";

    public DateTimeOffset? EndedAt(JsonElement batchObject) =>
        batchObject.TryGetProperty("ended_at", out var at) && at.ValueKind == JsonValueKind.String
        && DateTimeOffset.TryParse(at.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var ended)
            ? ended
            : null;

    public IEnumerable<string> OutputFiles(JsonElement batchObject) => [];

    public async Task<(IReadOnlyList<UsageRecord>? Records, string? Failure)> ResultsAsync(
        Deployment deployment, TrackedBatch batch, JsonElement batchObject, BatchLineRecords lines, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(lines);
        if (deployment.Adapter is not AnthropicAdapter adapter)
        {
            return (null, "the deployment no longer speaks Anthropic's Message Batches API");
        }

        var results = await adapter.RelayBatchCallAsync(deployment.Config, HttpMethod.Get, "/" + Uri.EscapeDataString(batch.Id) + "/results", null, cancellationToken);
        return results.Failure is not null || !results.Value!.IsSuccess
            ? (null, "the results could not be read: " + (results.Failure?.Message ?? $"HTTP {results.Value!.StatusCode}"))
            : ([.. lines.ReadAnthropic(results.Value.Body)], null);
    }
}
