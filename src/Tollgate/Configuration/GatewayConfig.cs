namespace Tollgate.Configuration;

/// <summary>The whole validated configuration. Immutable; built only by <see cref="ConfigLoader"/>.</summary>
public sealed record GatewayConfig
{
    /// <summary>The address the gateway listens on, as clients reach it (see <see cref="ListenAddress"/> for where it comes from).</summary>
    public required Uri Listen { get; init; }

    /// <summary>
    /// The URLs Kestrel binds when they say more than <see cref="Listen"/> (from <c>ASPNETCORE_URLS</c> or
    /// <c>ASPNETCORE_HTTP_PORTS</c>: several URLs, or every interface as <c>*</c>); null to bind <see cref="Listen"/>.
    /// </summary>
    public IReadOnlyList<string>? BindUrls { get; init; }

    /// <summary>The admin/master key. When absent, a development key is generated and kept in the data folder.</summary>
    public string? MasterKey { get; init; }

    public required StorageConfig Storage { get; init; }

    /// <summary>How long raw records and hourly rollups are kept (from <c>storage:</c>).</summary>
    public Ledger.RetentionSettings Retention { get; init; } = Ledger.RetentionSettings.KeepAll;

    public required IReadOnlyList<DeploymentConfig> Deployments { get; init; }

    /// <summary>Largest request body accepted, in bytes; larger ones get 413 without an upstream call.</summary>
    public long MaxRequestBodyBytes { get; init; } = 10 * 1024 * 1024;

    /// <summary>Required tags and <c>max_tokens</c> discipline for every request.</summary>
    public Policy.RequestPolicy Policy { get; init; } = Tollgate.Policy.RequestPolicy.None;

    /// <summary>Spending limits, checked before each call.</summary>
    public IReadOnlyList<Policy.Budgets.Budget> Budgets { get; init; } = [];

    /// <summary>Where budget alerts go, and at which percentages of a budget.</summary>
    public IReadOnlyList<Policy.Alerts.AlertWebhook> AlertWebhooks { get; init; } = [];

    public IReadOnlyList<int> AlertThresholds { get; init; } = [50, 80, 100];

    public RetrySettings Retries { get; init; } = RetrySettings.Default;

    public BreakerSettings Breaker { get; init; } = BreakerSettings.Default;

    /// <summary>When spend counts as anomalous, and how often the ledger is checked.</summary>
    public AnomalySettings Anomalies { get; init; } = AnomalySettings.Default;

    /// <summary>How answers given under an <c>Idempotency-Key</c> are kept for replay.</summary>
    public IdempotencySettings Idempotency { get; init; } = IdempotencySettings.Default;

    /// <summary>How batches created through the gateway are polled, and the largest batch file it takes.</summary>
    public BatchSettings Batches { get; init; } = BatchSettings.Default;

    /// <summary><c>telemetry:</c> — OpenTelemetry spans and metrics over OTLP; off by default.</summary>
    public Analytics.Telemetry.TelemetrySettings Telemetry { get; init; } = Analytics.Telemetry.TelemetrySettings.Off;

    /// <summary><c>alerts.digest</c> and <c>alerts.forecast</c>.</summary>
    public Analytics.Digest.DigestSettings Digest { get; init; } = Analytics.Digest.DigestSettings.Default;

    /// <summary>The exact response cache (<c>cache: exact:</c>); off by default.</summary>
    public Optimization.ResponseCaching.ResponseCacheSettings ResponseCache { get; init; } = Optimization.ResponseCaching.ResponseCacheSettings.Off;

    /// <summary>The semantic cache (<c>cache: semantic:</c>); off unless aliases are named.</summary>
    public Optimization.SemanticCaching.SemanticCacheSettings SemanticCache { get; init; } = Optimization.SemanticCaching.SemanticCacheSettings.Off;

    /// <summary>Per alias, the aliases tried in order when all of its deployments fail (or are open).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Fallbacks { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>Per alias, the aliases tried when the provider says the prompt is longer than the model's context window.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ContextWindowFallbacks { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>Routers (<c>routers:</c>): model names whose requests go to one of several aliases, see <see cref="Routing.RouterSettings"/>.</summary>
    public IReadOnlyList<Routing.RouterSettings> Routers { get; init; } = [];

    /// <summary>On SIGTERM, how long requests in flight (streams included) may run on before they are cut.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The time zone calendar budget periods follow.</summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>Non-fatal findings, such as LiteLLM keys Tollgate does not use.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Where the configuration came from, for the start-up banner.</summary>
    public required string Source { get; init; }
}

/// <summary>Where the ledger and other local state live.</summary>
public sealed record StorageConfig(string DataDirectory, string SqlitePath)
{
    /// <summary>
    /// When set (<c>storage.postgres</c>, usually <c>${TOLLGATE_POSTGRES}</c>), the ledger lives in this PostgreSQL
    /// database, shared by every replica; the journal and the other stores stay local.
    /// </summary>
    public string? PostgresConnection { get; init; }

    public const int DefaultMaxUnwrittenRecords = 100_000;

    /// <summary>
    /// How many records may wait, journaled, for the ledger (<c>storage.max_unwritten_records</c>): past it — the
    /// database has been unreachable for a while — requests bound for a provider are refused (503
    /// <c>ledger_backlog</c>) until the writer catches up, so an outage cannot fill the memory or the disk.
    /// </summary>
    public int MaxUnwrittenRecords { get; init; } = DefaultMaxUnwrittenRecords;

    /// <summary>
    /// Whether records keep hashes of the request and its stable prefix (<c>storage.record_prompt_hashes</c>, on by
    /// default), which the advisor reads to find duplicates and prompt-caching candidates. Hashes only, never text.
    /// </summary>
    public bool RecordPromptHashes { get; init; } = true;

    /// <summary>
    /// Whether records keep the prompt's facts — its length in characters and whether it carries tools, images or a
    /// response format (<c>storage.record_prompt_facts</c>, off by default) — so that <c>tollgate route simulate</c> can
    /// replay the rules that read them. Never text.
    /// </summary>
    public bool RecordPromptFacts { get; init; }

    /// <summary>
    /// With <see cref="RecordPromptFacts"/>, the embedder whose vector of the last user message is kept too
    /// (<c>storage.prompt_facts_embedder</c>: lexical, minilm or alias:NAME), so that a router's difficulty
    /// strategy with the same embedder can be replayed. Null: no vector.
    /// </summary>
    public string? PromptFactsEmbedder { get; init; }

    /// <summary>Where usage records are journaled before they reach the ledger (see <c>Ledger/Journal</c>).</summary>
    public string JournalDirectory => Path.Combine(DataDirectory, "journal");
}

/// <summary>One deployment an alias can be served by.</summary>
public sealed record DeploymentConfig
{
    public required string Alias { get; init; }
    public required string Name { get; init; }
    public required string Provider { get; init; }
    public required string Model { get; init; }
    public Uri? BaseUrl { get; init; }
    public string? ApiKey { get; init; }
    public PriceConfig? Price { get; init; }

    /// <summary>Price this deployment as another catalogue model (for example a mock priced as gpt-4o-mini).</summary>
    public string? PriceAs { get; init; }

    public DeploymentTimeouts Timeouts { get; init; } = DeploymentTimeouts.Default;

    /// <summary>
    /// When a client leaves mid-stream: false (<c>on_client_disconnect: close</c>) closes the upstream stream and
    /// estimates the output from the text streamed; true (<c>read_usage</c>) reads on, within the timeouts, until the
    /// provider's usage arrives, so the record is exact (the provider may then generate, and bill, the whole answer).
    /// </summary>
    public bool ReadUsageAfterClientLeaves { get; init; }

    /// <summary>Retries of this deployment; null: the gateway's <see cref="RetrySettings.MaxRetries"/>.</summary>
    public int? MaxRetries { get; init; }

    /// <summary>
    /// The provider's project (OpenAI) or workspace (Anthropic) this deployment's API key belongs to, as the provider's
    /// cost export names it (<c>proj_…</c>, <c>wrkspc_…</c>): <c>tollgate reconcile</c> compares per project with it.
    /// </summary>
    public string? ProviderProject { get; init; }

    /// <summary>The model's context window in tokens (prompt plus output), when configured: a router's <c>cheapest</c> strategy skips a target it cannot fit.</summary>
    public int? ContextWindow { get; init; }

    /// <summary>
    /// Anthropic only: mark a system prompt of at least this many tokens for the prompt cache when the request does
    /// not (see <c>SystemPromptCacheBreakpoint</c>). Null: off.
    /// </summary>
    public int? AutoCacheSystemPromptMinTokens { get; init; }

    /// <summary>Requests and tokens per minute this deployment accepts from the gateway.</summary>
    public Policy.RateLimits.RateLimit RateLimit { get; init; } = new(null, null);

    /// <summary>Azure OpenAI's <c>api-version</c> query parameter (provider <c>azure</c> only).</summary>
    public string? ApiVersion { get; init; }
    public MockConfig? Mock { get; init; }
}

/// <summary>A per-deployment price override: per million tokens, or per hour for a rented GPU.</summary>
public sealed record PriceConfig(
    decimal? InputPerMillion,
    decimal? CachedInputPerMillion,
    decimal? CacheWritePerMillion,
    decimal? OutputPerMillion,
    decimal? ReasoningPerMillion,
    decimal? UsdPerHour)
{
    /// <summary>The Batch API's input rate; when absent, half the input rate.</summary>
    public decimal? BatchInputPerMillion { get; init; }

    /// <summary>The Batch API's output rate; when absent, half the output rate.</summary>
    public decimal? BatchOutputPerMillion { get; init; }

    /// <summary>Dearer rates in fixed UTC hours (the rates above are then the off-peak ones); see <see cref="Metering.PeakHours"/>.</summary>
    public Metering.PeakHours? Peak { get; init; }
}

/// <summary>Behaviour of the built-in mock provider.</summary>
public sealed record MockConfig(int LatencyMs = 0, int ChunkDelayMs = 0, int ReplyTokens = 40);
