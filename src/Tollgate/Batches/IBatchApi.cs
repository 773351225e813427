using System.Text.Json;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;

namespace Tollgate.Batches;

/// <summary>
/// One provider's batch API as the tracker follows it: reading a batch, its status, whether it has ended, and its
/// results as ledger records. OpenAI's (<see cref="OpenAiBatchApi"/>, also Azure and OpenAI-compatible hosts) and
/// Anthropic's message batches (<see cref="AnthropicBatchApi"/>).
/// </summary>
public interface IBatchApi
{
    /// <summary>The name kept with each batch: <c>openai</c> or <c>anthropic</c>.</summary>
    string Name { get; }

    /// <summary>Asks the provider for the batch (null when the deployment's adapter does not speak this API).</summary>
    Task<Providers.ProviderResult<Providers.UpstreamReply>>? ReadAsync(Deployment deployment, string batchId, CancellationToken cancellationToken);

    /// <summary>The batch's status in the provider's words, or null when the body is not one of its batch objects.</summary>
    string? StatusOf(JsonElement batchObject);

    /// <summary>Whether a batch in this status changes no more.</summary>
    bool IsFinal(string status);

    /// <summary>When the batch ended, by the provider's clock, when it says.</summary>
    DateTimeOffset? EndedAt(JsonElement batchObject);

    /// <summary>Files the batch's creator may download through the gateway (OpenAI's output and error files).</summary>
    IEnumerable<string> OutputFiles(JsonElement batchObject);

    /// <summary>One record per result line of an ended batch, or why they could not be read (tried again later).</summary>
    Task<(IReadOnlyList<UsageRecord>? Records, string? Failure)> ResultsAsync(Deployment deployment, TrackedBatch batch, JsonElement batchObject, BatchLineRecords lines, CancellationToken cancellationToken);
}
