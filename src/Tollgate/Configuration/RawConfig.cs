namespace Tollgate.Configuration;

/// <summary>What a reader found in a file, before validation and defaults.</summary>
internal sealed record RawConfig(
    string? Listen,
    string? MasterKey,
    string? DataDirectory,
    string? SqlitePath,
    int? MaxRequestBodyBytes,
    IReadOnlyList<RawDeployment> Deployments,
    bool HasModelList)
{
    public Policy.RequestPolicy Policy { get; init; } = Tollgate.Policy.RequestPolicy.None;

    public IReadOnlyList<Policy.Budgets.Budget> Budgets { get; init; } = [];

    public TimeZoneInfo TimeZone { get; init; } = TimeZoneInfo.Utc;

    public IReadOnlyList<Policy.Alerts.AlertWebhook> AlertWebhooks { get; init; } = [];

    public IReadOnlyList<int> AlertThresholds { get; init; } = [50, 80, 100];

    public int? ShutdownGraceSeconds { get; init; }

    public IdempotencySettings Idempotency { get; init; } = IdempotencySettings.Default;
    public BatchSettings Batches { get; init; } = BatchSettings.Default;
    public Analytics.Telemetry.TelemetrySettings Telemetry { get; init; } = Analytics.Telemetry.TelemetrySettings.Off;
    public Analytics.Digest.DigestSettings Digest { get; init; } = Analytics.Digest.DigestSettings.Default;
    public string? PostgresConnection { get; init; }
    public Optimization.ResponseCaching.ResponseCacheSettings ResponseCache { get; init; } = Optimization.ResponseCaching.ResponseCacheSettings.Off;
    public Optimization.SemanticCaching.SemanticCacheSettings SemanticCache { get; init; } = Optimization.SemanticCaching.SemanticCacheSettings.Off;

    public AnomalySettings Anomalies { get; init; } = AnomalySettings.Default;

    public Ledger.RetentionSettings Retention { get; init; } = Ledger.RetentionSettings.KeepAll;

    public int? MaxUnwrittenRecords { get; init; }

    public bool RecordPromptHashes { get; init; } = true;
    public bool RecordPromptFacts { get; init; }
    public string? PromptFactsEmbedder { get; init; }

    public RetrySettings Retries { get; init; } = RetrySettings.Default;

    public BreakerSettings Breaker { get; init; } = BreakerSettings.Default;

    public IReadOnlyDictionary<string, IReadOnlyList<string>> Fallbacks { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    public IReadOnlyDictionary<string, IReadOnlyList<string>> ContextWindowFallbacks { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>Routers (<c>routers:</c>): model names whose requests go to one of several aliases, see <see cref="Routing.RouterSettings"/>.</summary>
    public IReadOnlyList<Routing.RouterSettings> Routers { get; init; } = [];
}

/// <summary>One deployment as written in a file; any field may be missing or wrong until validated.</summary>
internal sealed record RawDeployment(
    string Path,
    string? Alias,
    string? Name,
    string? Provider,
    string? Model,
    string? BaseUrl,
    string? ApiKey,
    PriceConfig? Price,
    string? PriceAs,
    int? TimeoutSeconds,
    MockConfig? Mock,
    string? ApiVersion = null,
    int? AutoCacheSystemPromptMinTokens = null,
    int? Rpm = null,
    int? Tpm = null)
{
    /// <summary>Per-phase timeouts; null: the defaults (with <see cref="TimeoutSeconds"/> as the total when set).</summary>
    public DeploymentTimeouts? Timeouts { get; init; }

    public int? MaxRetries { get; init; }

    public int? ContextWindow { get; init; }

    public bool ReadUsageAfterClientLeaves { get; init; }

    public string? ProviderProject { get; init; }
}
