using Tollgate.Ledger;

namespace Tollgate.Batches;

/// <summary>
/// A file this gateway uploaded to a provider, or learnt of as a batch's output: where it lives and whose it is. An
/// input file also carries what its batch will be bounded by (<see cref="Bound"/>), read from its lines at upload.
/// </summary>
public sealed record BatchFile(string Id, string Deployment, string Caller, DateTimeOffset CreatedAt)
{
    /// <summary>For an input file: the alias its lines name.</summary>
    public string? Alias { get; init; }

    /// <summary>For an input file: the endpoint its lines call.</summary>
    public string? Url { get; init; }

    /// <summary>For an input file: its requests and their worst case at batch prices.</summary>
    public BatchBound? Bound { get; init; }
}

/// <summary>
/// A batch created through this gateway, followed until it ends: who created it (its records are charged to that
/// attribution), the worst case held on their budgets meanwhile, the provider's last word on it, and when to ask again.
/// </summary>
public sealed record TrackedBatch
{
    public required string Id { get; init; }

    /// <summary>Whose batch API it runs on: <see cref="OpenAiBatchApi.ApiName"/> or <see cref="AnthropicBatchApi.ApiName"/>.</summary>
    public required string Api { get; init; }
    public required string Deployment { get; init; }
    public required string Alias { get; init; }
    public required string Provider { get; init; }
    public required string Model { get; init; }
    public required string Caller { get; init; }
    public required Attribution Attribution { get; init; }

    /// <summary>The endpoint its lines call (<c>/v1/chat/completions</c>…).</summary>
    public required string Url { get; init; }

    /// <summary>The worst case held on the creator's budgets until the batch ends.</summary>
    public required decimal ReservedUsd { get; init; }

    /// <summary>The provider's status as last seen (OpenAI's <c>status</c>, Anthropic's <c>processing_status</c>).</summary>
    public required string Status { get; init; }

    /// <summary>The provider's batch object as last seen (what <c>GET /v1/batches</c> lists).</summary>
    public required string Object { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset NextPollAt { get; init; }
    public required TimeSpan PollDelay { get; init; }

    /// <summary>True once its lines are in the ledger and its reservation released.</summary>
    public bool Settled { get; init; }

    /// <summary>Once settled: what its lines cost (the replica holding its budget settles the hold to this).</summary>
    public decimal SpentUsd { get; init; }

    /// <summary>The replica (<see cref="Gateway.ReplicaIdentity"/>) that holds its budget reservation; null from before replicas.</summary>
    public string? Holder { get; init; }
}
