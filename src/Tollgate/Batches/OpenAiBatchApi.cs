using System.Text.Json;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;
using Tollgate.Providers.OpenAiCompatible;

namespace Tollgate.Batches;

/// <summary>
/// OpenAI's Batch API (<c>/v1/batches</c>, results in output and error files), also served by Azure OpenAI and
/// OpenAI-compatible hosts. A batch ends completed, failed, expired or cancelled; its <c>*_at</c> times are Unix seconds.
/// </summary>
public sealed class OpenAiBatchApi : IBatchApi
{
    public const string ApiName = "openai";

    private static readonly string[] FileFields = ["output_file_id", "error_file_id"];

    public string Name => ApiName;

    public Task<Providers.ProviderResult<Providers.UpstreamReply>>? ReadAsync(Deployment deployment, string batchId, CancellationToken cancellationToken) =>
        (deployment?.Adapter as OpenAiCompatibleAdapter)?.RelayAccountCallAsync(deployment!.Config, HttpMethod.Get, "batches/" + Uri.EscapeDataString(batchId), string.Empty, null, cancellationToken);

    public string? StatusOf(JsonElement batchObject) =>
        batchObject.ValueKind == JsonValueKind.Object && batchObject.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.String ? status.GetString() : null;

    public bool IsFinal(string status) => status is "completed" or "failed" or "expired" or "cancelled";

    public DateTimeOffset? EndedAt(JsonElement batchObject)
    {
        foreach (var field in new[] { "completed_at", "expired_at", "cancelled_at", "failed_at" })
        {
            if (batchObject.TryGetProperty(field, out var at) && at.ValueKind == JsonValueKind.Number && at.TryGetInt64(out var seconds) && seconds is > 0 and < 253_402_300_799)
            {
                return DateTimeOffset.FromUnixTimeSeconds(seconds);
            }
        }

        return null;
    }

    public IEnumerable<string> OutputFiles(JsonElement batchObject)
    {
        foreach (var field in FileFields)
        {
            if (batchObject.TryGetProperty(field, out var id) && id.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(id.GetString()))
            {
                yield return id.GetString()!;
            }
        }
    }

    public async Task<(IReadOnlyList<UsageRecord>? Records, string? Failure)> ResultsAsync(
        Deployment deployment, TrackedBatch batch, JsonElement batchObject, BatchLineRecords lines, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(lines);
        if (deployment.Adapter is not OpenAiCompatibleAdapter adapter)
        {
            return (null, "the deployment no longer speaks OpenAI's Batch API");
        }

        var records = new List<UsageRecord>();
        foreach (var fileId in OutputFiles(batchObject))
        {
            var file = await adapter.RelayAccountCallAsync(deployment.Config, HttpMethod.Get, "files/" + Uri.EscapeDataString(fileId) + "/content", string.Empty, null, cancellationToken);
            if (file.Failure is not null || !file.Value!.IsSuccess)
            {
                return (null, $"the file {fileId} could not be read: " + (file.Failure?.Message ?? $"HTTP {file.Value!.StatusCode}"));
            }

            records.AddRange(lines.ReadOpenAi(file.Value.Body));
        }

        return (records, null);
    }
}
