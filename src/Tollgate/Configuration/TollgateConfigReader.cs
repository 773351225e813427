namespace Tollgate.Configuration;

/// <summary>Reads Tollgate's own <c>tollgate.yaml</c> format. Unknown keys are errors.</summary>
internal static class TollgateConfigReader
{
    private static readonly string[] RootKeys = ["listen", "master_key", "storage", "max_request_body_bytes", "models", "policies", "budgets", "time_zone", "alerts", "shutdown_grace_seconds", "retries", "circuit_breaker", "fallbacks", "context_window_fallbacks", "idempotency", "anomalies", "cache", "routers", "batches", "telemetry"];
    private static readonly string[] TelemetryKeys = ["otlp_endpoint", "protocol", "headers", "sample_ratio", "service_name", "export_interval_ms"];
    private static readonly string[] BudgetKeys = ["name", "scope", "value", "period", "limit_usd", "hard", "unpriced"];
    private static readonly string[] PolicyKeys = ["required_tags", "require_max_tokens", "max_tokens", "features"];
    private static readonly string[] MaxTokensKeys = ["default", "cap"];
    private static readonly string[] StorageKeys = ["data_dir", "sqlite_path", "postgres", "raw_retention_days", "rollup_retention_days", "max_unwritten_records", "record_prompt_hashes", "record_prompt_facts", "prompt_facts_embedder"];
    private static readonly string[] ModelKeys = ["alias", "name", "provider", "model", "base_url", "api_key", "api_version", "auto_cache_system_prompt", "rpm", "tpm", "price", "price_as", "timeout_seconds", "timeouts", "max_retries", "on_client_disconnect", "mock", "context_window", "provider_project"];
    private static readonly string[] PriceKeys = ["input_per_million", "cached_input_per_million", "cache_write_per_million", "output_per_million", "reasoning_per_million", "batch_input_per_million", "batch_output_per_million", "per_hour", "peak"];
    private static readonly string[] PeakKeys = ["hours_utc", "weekdays_only", "input_per_million", "cached_input_per_million", "cache_write_per_million", "output_per_million"];
    private static readonly string[] MockKeys = ["latency_ms", "chunk_delay_ms", "reply_tokens"];
    private static readonly string[] TimeoutKeys = ["connect_seconds", "first_byte_seconds", "idle_seconds", "total_seconds"];
    private static readonly string[] RetryKeys = ["max_retries", "base_delay_ms", "max_delay_seconds", "max_retry_after_seconds", "budget_percent"];
    private static readonly string[] BreakerKeys = ["failures", "open_seconds"];
    private static readonly string[] IdempotencyKeys = ["retention_hours", "max_response_bytes"];
    private static readonly string[] BatchKeys = ["poll_interval_seconds", "max_poll_interval_seconds", "max_file_bytes"];
    private static readonly string[] CacheKeys = ["exact", "semantic"];
    private static readonly string[] SemanticCacheKeys = ["aliases", "features", "keys", "embedder", "threshold", "max_error_rate", "verify_percent", "min_similarity", "answer_match", "max_entries", "pair_model", "guards"];
    private static readonly string[] ExactCacheKeys = ["enabled", "ttl_seconds", "max_mb", "scope", "aliases", "store"];
    private static readonly string[] AnomalyKeys = ["enabled", "daily_factor", "hourly_factor", "min_daily_usd", "min_hourly_usd", "dimensions", "check_minutes"];

    public static RawConfig Read(YamlSection root, SecretResolver secrets)
    {
        root.RejectUnknown(RootKeys);
        var storage = root.Section("storage");
        storage?.RejectUnknown(StorageKeys);

        var models = new List<RawDeployment>();
        foreach (var model in root.List("models"))
        {
            model.RejectUnknown(ModelKeys);
            var price = model.Section("price");
            price?.RejectUnknown(PriceKeys);
            var mock = model.Section("mock");
            mock?.RejectUnknown(MockKeys);
            models.Add(new RawDeployment(
                model.Path,
                model.String("alias", required: true),
                model.String("name"),
                model.String("provider", required: true),
                model.String("model", required: true),
                model.String("base_url"),
                secrets.Resolve(model.String("api_key"), model.Child("api_key"), model.Diagnostics),
                price is null ? null : new PriceConfig(
                    price.Decimal("input_per_million"),
                    price.Decimal("cached_input_per_million"),
                    price.Decimal("cache_write_per_million"),
                    price.Decimal("output_per_million"),
                    price.Decimal("reasoning_per_million"),
                    price.Decimal("per_hour"))
                {
                    BatchInputPerMillion = price.Decimal("batch_input_per_million"),
                    BatchOutputPerMillion = price.Decimal("batch_output_per_million"),
                    Peak = ReadPeak(price.Section("peak")),
                },
                model.String("price_as"),
                null,
                mock is null ? null : new MockConfig(
                    mock.Int("latency_ms") ?? 0,
                    mock.Int("chunk_delay_ms") ?? 0,
                    mock.Int("reply_tokens", min: 1) ?? 40),
                model.String("api_version"),
                model.Int("auto_cache_system_prompt", min: 1024),
                model.Int("rpm", min: 1),
                model.Int("tpm", min: 1))
            {
                Timeouts = ReadTimeouts(model),
                MaxRetries = model.Int("max_retries"),
                ContextWindow = model.Int("context_window", min: 1),
                ReadUsageAfterClientLeaves = ReadOnClientDisconnect(model),
                ProviderProject = model.String("provider_project"),
            });
        }

        return new RawConfig(
            root.String("listen"),
            secrets.Resolve(root.String("master_key"), root.Child("master_key"), root.Diagnostics),
            storage?.String("data_dir"),
            storage?.String("sqlite_path"),
            root.Int("max_request_body_bytes", min: 1024),
            models,
            root.Has("models"))
        {
            Policy = ReadPolicy(root.Section("policies")),
            Budgets = ReadBudgets(root),
            TimeZone = ReadTimeZone(root),
            AlertWebhooks = ReadWebhooks(root.Section("alerts")),
            AlertThresholds = ReadThresholds(root.Section("alerts")),
            Digest = ReadDigest(root.Section("alerts")),
            ShutdownGraceSeconds = root.Int("shutdown_grace_seconds", min: 0),
            Retries = ReadRetries(root.Section("retries")),
            Breaker = ReadBreaker(root.Section("circuit_breaker")),
            Idempotency = ReadIdempotency(root.Section("idempotency")),
            Batches = ReadBatches(root.Section("batches")),
            Telemetry = ReadTelemetry(root.Section("telemetry"), secrets),
            PostgresConnection = storage is null ? null : secrets.Resolve(storage.String("postgres"), storage.Child("postgres"), storage.Diagnostics),
            ResponseCache = ReadResponseCache(root.Section("cache"), storage?.String("postgres") is not null),
            SemanticCache = ReadSemanticCache(root.Section("cache")),
            Anomalies = ReadAnomalies(root.Section("anomalies")),
            Retention = ReadRetention(storage),
            MaxUnwrittenRecords = storage?.Int("max_unwritten_records", min: 100),
            RecordPromptHashes = ReadSwitch(storage, "record_prompt_hashes") ?? true,
            RecordPromptFacts = ReadSwitch(storage, "record_prompt_facts") ?? false,
            PromptFactsEmbedder = ReadPromptFactsEmbedder(storage),
            Fallbacks = ReadAliasLists(root.Section("fallbacks")),
            ContextWindowFallbacks = ReadAliasLists(root.Section("context_window_fallbacks")),
            Routers = RouterConfigReader.Read(root.Section("routers")),
        };
    }

    /// <summary>How long raw records and rollups are kept; rollups at least as long as the raw records they summarise.</summary>
    private static Ledger.RetentionSettings ReadRetention(YamlSection? storage)
    {
        var raw = storage?.Int("raw_retention_days", min: 1);
        var rollups = storage?.Int("rollup_retention_days", min: 1);
        if (raw is { } r && rollups is { } u && u < r)
        {
            storage!.Diagnostics.Error(storage.Child("rollup_retention_days"), $"{u} is shorter than raw_retention_days ({r}): rollups must outlive the records they summarise");
        }

        return new Ledger.RetentionSettings(raw, rollups);
    }

    /// <summary>The embedder whose vectors <c>record_prompt_facts</c> keeps; only with the facts on.</summary>
    private static string? ReadPromptFactsEmbedder(YamlSection? storage)
    {
        if (storage?.String("prompt_facts_embedder") is not { } embedder)
        {
            return null;
        }

        if (!Optimization.SemanticCaching.SemanticCacheSettings.IsEmbedder(embedder))
        {
            storage.Diagnostics.Error(storage.Child("prompt_facts_embedder"), Optimization.SemanticCaching.SemanticCacheSettings.NotAnEmbedder(embedder));
        }
        else if (ReadSwitch(storage, "record_prompt_facts") != true)
        {
            storage.Diagnostics.Error(storage.Child("prompt_facts_embedder"), "needs record_prompt_facts: true (the vector is one of the prompt facts)");
        }

        return embedder;
    }

    /// <summary>
    /// <c>price: { …, peak: { hours_utc: ["01:00-04:00"], weekdays_only: true, input_per_million, output_per_million, … } }</c>:
    /// dearer rates in fixed UTC hours; the price's own rates are then the off-peak ones.
    /// </summary>
    private static Metering.PeakHours? ReadPeak(YamlSection? peak)
    {
        if (peak is null)
        {
            return null;
        }

        peak.RejectUnknown(PeakKeys);
        var windows = Metering.PeakHours.ParseWindows(
            peak.StringList("hours_utc"), text => peak.Diagnostics.Error(peak.Child("hours_utc"), $"'{text}' is not a window HH:mm-HH:mm (UTC)"));
        if (windows.Count == 0)
        {
            peak.Diagnostics.Error(peak.Child("hours_utc"), "name the peak windows, e.g. [\"01:00-04:00\", \"06:00-10:00\"]");
        }

        var rates = (Input: peak.Decimal("input_per_million"), Cached: peak.Decimal("cached_input_per_million"), Write: peak.Decimal("cache_write_per_million"), Output: peak.Decimal("output_per_million"));
        if (rates.Input is null && rates.Output is null && rates.Cached is null && rates.Write is null)
        {
            peak.Diagnostics.Error(peak.Path, "give the peak rates (input_per_million, output_per_million, …)");
        }

        return new Metering.PeakHours(windows, ReadSwitch(peak, "weekdays_only") ?? false, rates.Input, rates.Cached, rates.Write, rates.Output);
    }

    /// <summary>A true/false setting; null when absent.</summary>
    private static bool? ReadSwitch(YamlSection? section, string key)
    {
        var value = section?.String(key);
        if (value is null)
        {
            return null;
        }

        if (!bool.TryParse(value, out var on))
        {
            section!.Diagnostics.Error(section.Child(key), $"'{value}' is not true or false");
        }

        return on;
    }

    /// <summary><c>on_client_disconnect</c>: <c>close</c> (the default) or <c>read_usage</c>.</summary>
    private static bool ReadOnClientDisconnect(YamlSection model)
    {
        var value = model.String("on_client_disconnect");
        if (value is not null and not "close" and not "read_usage")
        {
            model.Diagnostics.Error(model.Child("on_client_disconnect"), $"'{value}' is not one of: close, read_usage");
        }

        return value == "read_usage";
    }

    /// <summary>Per-phase timeouts; <c>timeout_seconds</c> is the total.</summary>
    private static DeploymentTimeouts? ReadTimeouts(YamlSection model)
    {
        var section = model.Section("timeouts");
        section?.RejectUnknown(TimeoutKeys);
        var total = Seconds(section, "total_seconds") ?? Seconds(model, "timeout_seconds");
        if (section is null && total is null)
        {
            return null;
        }

        var defaults = DeploymentTimeouts.Default;
        var whole = total ?? defaults.Total;
        return new DeploymentTimeouts(
            Seconds(section, "connect_seconds") ?? defaults.Connect,
            Seconds(section, "first_byte_seconds") ?? whole,
            Seconds(section, "idle_seconds") ?? defaults.Idle,
            whole);
    }

    private static RetrySettings ReadRetries(YamlSection? section)
    {
        section?.RejectUnknown(RetryKeys);
        var defaults = RetrySettings.Default;
        var percent = section?.Decimal("budget_percent");
        if (percent > 100)
        {
            section!.Diagnostics.Error(section.Child("budget_percent"), "must be between 0 and 100");
        }

        return new RetrySettings(
            section?.Int("max_retries") ?? defaults.MaxRetries,
            section?.Decimal("base_delay_ms") is { } baseMs ? TimeSpan.FromMilliseconds((double)baseMs) : defaults.BaseDelay,
            Seconds(section, "max_delay_seconds") ?? defaults.MaxDelay,
            Seconds(section, "max_retry_after_seconds") ?? defaults.MaxRetryAfter,
            percent is { } p && p <= 100 ? p / 100 : defaults.BudgetRatio);
    }

    private static BreakerSettings ReadBreaker(YamlSection? section)
    {
        section?.RejectUnknown(BreakerKeys);
        var defaults = BreakerSettings.Default;
        return new BreakerSettings(section?.Int("failures", min: 1) ?? defaults.Failures, Seconds(section, "open_seconds") ?? defaults.OpenFor);
    }

    private static AnomalySettings ReadAnomalies(YamlSection? section)
    {
        section?.RejectUnknown(AnomalyKeys);
        var defaults = AnomalySettings.Default;
        if (section is null)
        {
            return defaults;
        }

        var dimensions = section.Has("dimensions") ? section.StringList("dimensions") : defaults.Dimensions;
        foreach (var dimension in dimensions.Where(d => d != "global" && Analytics.SpendGrouping.Parse(d) is null))
        {
            section.Diagnostics.Error(section.Child("dimensions"), $"'{dimension}' is not one of: global, {string.Join(", ", Analytics.SpendGrouping.Names)}");
        }

        foreach (var factor in new[] { "daily_factor", "hourly_factor" })
        {
            if (section.Decimal(factor) is <= 1)
            {
                section.Diagnostics.Error(section.Child(factor), "must be more than 1");
            }
        }

        return new AnomalySettings(
            section.String("enabled") is not ("false" or "no" or "off"),
            section.Decimal("daily_factor") ?? defaults.DailyFactor,
            section.Decimal("hourly_factor") ?? defaults.HourlyFactor,
            section.Decimal("min_daily_usd") ?? defaults.MinDailyUsd,
            section.Decimal("min_hourly_usd") ?? defaults.MinHourlyUsd,
            dimensions,
            section.Int("check_minutes", min: 1) is { } minutes ? TimeSpan.FromMinutes(minutes) : defaults.CheckEvery);
    }

    /// <summary>
    /// <c>cache: exact: { enabled, ttl_seconds, max_mb, scope: key | global | tag:NAME, aliases, store: memory | shared }</c>;
    /// <c>shared</c> keeps answers in the PostgreSQL database, which must be configured.
    /// </summary>
    private static Optimization.ResponseCaching.ResponseCacheSettings ReadResponseCache(YamlSection? section, bool postgres)
    {
        var defaults = Optimization.ResponseCaching.ResponseCacheSettings.Off;
        section?.RejectUnknown(CacheKeys);
        var exact = section?.Section("exact");
        if (exact is null)
        {
            return defaults;
        }

        exact.RejectUnknown(ExactCacheKeys);
        var enabled = exact.String("enabled");
        if (enabled is not null and not ("true" or "false"))
        {
            exact.Diagnostics.Error(exact.Child("enabled"), $"'{enabled}' is not true or false");
        }

        var scopeText = exact.String("scope") ?? "key";
        var scope = Optimization.ResponseCaching.CacheScope.Parse(scopeText);
        if (scope is null)
        {
            exact.Diagnostics.Error(exact.Child("scope"), $"'{scopeText}' is not one of: key, global, tag:NAME");
        }

        var store = exact.String("store") ?? "memory";
        if (store is not ("memory" or "shared"))
        {
            exact.Diagnostics.Error(exact.Child("store"), $"'{store}' is not memory or shared");
        }
        else if (store == "shared" && !postgres)
        {
            exact.Diagnostics.Error(exact.Child("store"), "'shared' keeps answers in the PostgreSQL database: set storage.postgres, or use store: memory");
        }

        return new Optimization.ResponseCaching.ResponseCacheSettings(
            enabled != "false",
            exact.Int("ttl_seconds", min: 1) is { } ttl ? TimeSpan.FromSeconds(ttl) : defaults.Ttl,
            exact.Int("max_mb", min: 1) is { } mb ? mb * 1024L * 1024 : defaults.MaxBytes,
            scope ?? defaults.Scope,
            exact.StringList("aliases")) { Shared = store == "shared" };
    }

    /// <summary>
    /// <c>cache: semantic: { aliases, features, keys, embedder: lexical | minilm | alias:NAME, threshold | max_error_rate, verify_percent, min_similarity,
    /// answer_match, max_entries, pair_model, guards }</c>; it keeps its answers in the exact cache, so that must be on.
    /// </summary>
    private static Optimization.SemanticCaching.SemanticCacheSettings ReadSemanticCache(YamlSection? cache)
    {
        var defaults = Optimization.SemanticCaching.SemanticCacheSettings.Off;
        var section = cache?.Section("semantic");
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(SemanticCacheKeys);
        var aliases = section.StringList("aliases");
        var features = section.StringList("features");
        var keys = section.StringList("keys");
        if (aliases.Count + features.Count + keys.Count == 0)
        {
            section.Diagnostics.Error(section.Path, "name the aliases, features or keys the semantic cache may answer for (it is opt-in)");
        }

        var embedder = section.String("embedder") ?? "lexical";
        if (!Optimization.SemanticCaching.SemanticCacheSettings.IsEmbedder(embedder))
        {
            section.Diagnostics.Error(section.Child("embedder"), Optimization.SemanticCaching.SemanticCacheSettings.NotAnEmbedder(embedder));
        }

        double? Fraction(string key)
        {
            var value = section.Decimal(key);
            if (value is { } v && (v <= 0 || v > 1))
            {
                section.Diagnostics.Error(section.Child(key), $"{v} is not between 0 and 1");
            }

            return value is null ? null : (double)value.Value;
        }

        var threshold = Fraction("threshold");
        var maxErrorRate = Fraction("max_error_rate");
        if ((threshold is null) == (maxErrorRate is null))
        {
            section.Diagnostics.Error(section.Path, "give either threshold (a fixed similarity) or max_error_rate (the bounded mode), not both or neither");
        }

        var exact = cache!.Section("exact");
        if (exact is null || exact.String("enabled") == "false")
        {
            section.Diagnostics.Error(section.Path, "the semantic cache keeps its answers in the exact cache: turn on cache.exact too");
        }

        var guards = section.String("guards");
        if (guards is not (null or "true" or "false"))
        {
            section.Diagnostics.Error(section.Child("guards"), $"'{guards}' is not true or false");
        }

        var pairModel = section.ModelFile("pair_model", embedder, json => Optimization.SemanticCaching.PairScorer.FromJson(json).Embedder, "a pair model");

        return new Optimization.SemanticCaching.SemanticCacheSettings(
            aliases,
            features,
            keys,
            embedder,
            threshold,
            maxErrorRate,
            section.Decimal("verify_percent") is { } verify ? (double)verify : defaults.VerifySharePercent,
            Fraction("min_similarity") ?? defaults.MinimumSimilarity,
            Fraction("answer_match") ?? defaults.AnswerMatch,
            section.Int("max_entries", min: 1) ?? defaults.MaxEntries,
            pairModel,
            guards != "false");
    }

    /// <summary><c>telemetry:</c> — OTLP export; the headers may hold a secret (<c>${LANGFUSE_AUTH}</c>).</summary>
    private static Analytics.Telemetry.TelemetrySettings ReadTelemetry(YamlSection? section, SecretResolver secrets)
    {
        var defaults = Analytics.Telemetry.TelemetrySettings.Off;
        if (section is null)
        {
            return defaults;
        }

        section.RejectUnknown(TelemetryKeys);
        Uri? endpoint = null;
        if (section.String("otlp_endpoint") is { } text && !(Uri.TryCreate(text, UriKind.Absolute, out endpoint) && endpoint.Scheme is "http" or "https"))
        {
            section.Diagnostics.Error(section.Child("otlp_endpoint"), $"'{text}' is not an http(s) address");
            endpoint = null;
        }

        var protocol = section.String("protocol") ?? defaults.Protocol;
        if (protocol is not ("http/protobuf" or "grpc"))
        {
            section.Diagnostics.Error(section.Child("protocol"), $"'{protocol}' is not one of: http/protobuf, grpc");
        }

        var ratio = section.Decimal("sample_ratio") ?? 1m;
        if (ratio is < 0 or > 1)
        {
            section.Diagnostics.Error(section.Child("sample_ratio"), $"{ratio} is not between 0 and 1");
        }

        return new Analytics.Telemetry.TelemetrySettings(
            endpoint,
            protocol,
            secrets.Resolve(section.String("headers"), section.Child("headers"), section.Diagnostics),
            (double)Math.Clamp(ratio, 0m, 1m),
            section.String("service_name") ?? defaults.ServiceName,
            section.Int("export_interval_ms", min: 100) is { } ms ? TimeSpan.FromMilliseconds(ms) : defaults.ExportInterval);
    }

    private static BatchSettings ReadBatches(YamlSection? section)
    {
        section?.RejectUnknown(BatchKeys);
        var defaults = BatchSettings.Default;
        var first = section?.Decimal("poll_interval_seconds") is { } seconds && seconds > 0 ? TimeSpan.FromSeconds((double)seconds) : defaults.PollInterval;
        var most = section?.Decimal("max_poll_interval_seconds") is { } maxSeconds && maxSeconds > 0 ? TimeSpan.FromSeconds((double)maxSeconds) : defaults.MaxPollInterval;
        return new BatchSettings(first, most < first ? first : most, section?.Int("max_file_bytes", min: 1024) ?? defaults.MaxFileBytes);
    }

    private static IdempotencySettings ReadIdempotency(YamlSection? section)
    {
        section?.RejectUnknown(IdempotencyKeys);
        var defaults = IdempotencySettings.Default;
        return new IdempotencySettings(
            section?.Int("retention_hours", min: 1) is { } hours ? TimeSpan.FromHours(hours) : defaults.Retention,
            section?.Int("max_response_bytes", min: 1024) ?? defaults.MaxResponseBytes);
    }

    /// <summary>A map of alias → list of aliases (<c>gpt-4o: [claude-sonnet, gpt-4o-mini]</c>).</summary>
    private static Dictionary<string, IReadOnlyList<string>> ReadAliasLists(YamlSection? section)
    {
        var lists = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var alias in section?.Keys ?? [])
        {
            lists[alias] = section!.StringList(alias);
        }

        return lists;
    }

    private static TimeSpan? Seconds(YamlSection? section, string key) =>
        section?.Decimal(key) is { } seconds ? TimeSpan.FromSeconds((double)seconds) : null;

    private static List<Policy.Alerts.AlertWebhook> ReadWebhooks(YamlSection? alerts)
    {
        alerts?.RejectUnknown(["webhooks", "thresholds", "digest", "forecast"]);
        var webhooks = new List<Policy.Alerts.AlertWebhook>();
        foreach (var hook in alerts?.List("webhooks") ?? [])
        {
            hook.RejectUnknown(["url", "format"]);
            var url = hook.String("url", required: true);
            var format = hook.String("format") ?? "json";
            if (format is not ("json" or "slack"))
            {
                hook.Diagnostics.Error(hook.Child("format"), "must be json or slack");
            }

            if (url is not null && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
            {
                webhooks.Add(new Policy.Alerts.AlertWebhook(uri, format == "slack"));
            }
            else if (url is not null)
            {
                hook.Diagnostics.Error(hook.Child("url"), $"'{url}' is not an http(s) URL");
            }
        }

        return webhooks;
    }

    /// <summary><c>alerts.digest</c> (<c>every</c>, <c>weekday</c>, <c>hour</c>, <c>group_by</c>, <c>top</c>) and <c>alerts.forecast</c>.</summary>
    private static Analytics.Digest.DigestSettings ReadDigest(YamlSection? alerts)
    {
        var defaults = Analytics.Digest.DigestSettings.Default;
        var forecast = ReadSwitch(alerts, "forecast") ?? defaults.Forecast;
        if (alerts?.Section("digest") is not { } digest)
        {
            return defaults with { Forecast = forecast };
        }

        digest.RejectUnknown(["every", "weekday", "hour", "group_by", "top"]);
        var every = digest.String("every") ?? "weekly";
        if (every is not ("daily" or "weekly"))
        {
            digest.Diagnostics.Error(digest.Child("every"), $"'{every}' is not daily or weekly");
        }

        var weekday = defaults.Weekday;
        if (digest.String("weekday") is { } day
            && !(Enum.GetNames<DayOfWeek>().Contains(day, StringComparer.OrdinalIgnoreCase) && Enum.TryParse(day, ignoreCase: true, out weekday)))
        {
            digest.Diagnostics.Error(digest.Child("weekday"), $"'{day}' is not a day of the week");
        }

        var hour = digest.Int("hour", min: 0) ?? defaults.Hour;
        if (hour > 23)
        {
            digest.Diagnostics.Error(digest.Child("hour"), $"{hour} is not an hour (0–23)");
        }

        var groupBy = digest.String("group_by") ?? defaults.GroupBy;
        if (Analytics.SpendGrouping.Parse(groupBy) is null)
        {
            digest.Diagnostics.Error(digest.Child("group_by"), $"'{groupBy}' is not one of: {string.Join(", ", Analytics.SpendGrouping.Names)}");
        }

        return new Analytics.Digest.DigestSettings(every, weekday, hour, groupBy, digest.Int("top", min: 1) ?? defaults.Top, forecast);
    }

    private static List<int> ReadThresholds(YamlSection? alerts)
    {
        var texts = alerts?.StringList("thresholds") ?? [];
        if (texts.Count == 0)
        {
            return [50, 80, 100];
        }

        var thresholds = new List<int>();
        foreach (var text in texts)
        {
            if (int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var percent) && percent is > 0 and <= 1000)
            {
                thresholds.Add(percent);
            }
            else
            {
                alerts!.Diagnostics.Error(alerts.Child("thresholds"), $"'{text}' is not a percentage");
            }
        }

        return thresholds;
    }

    private static TimeZoneInfo ReadTimeZone(YamlSection root)
    {
        var name = root.String("time_zone");
        if (name is null)
        {
            return TimeZoneInfo.Utc;
        }

        if (TimeZoneInfo.TryFindSystemTimeZoneById(name, out var zone))
        {
            return zone;
        }

        root.Diagnostics.Error(root.Child("time_zone"), $"unknown time zone '{name}' (use an IANA name such as Asia/Ho_Chi_Minh)");
        return TimeZoneInfo.Utc;
    }

    private static List<Policy.Budgets.Budget> ReadBudgets(YamlSection root)
    {
        var budgets = new List<Policy.Budgets.Budget>();
        foreach (var entry in root.List("budgets"))
        {
            entry.RejectUnknown(BudgetKeys);
            var name = entry.String("name", required: true);
            var written = entry.String("scope", required: true);
            var scope = Policy.Budgets.Budget.CanonicalScope(written);
            var value = entry.String("value");
            var limit = entry.Decimal("limit_usd");
            var periodText = entry.String("period") ?? "monthly";
            if (limit is null)
            {
                entry.Diagnostics.Error(entry.Child("limit_usd"), "is required");
            }

            if (written is not null && scope is null)
            {
                entry.Diagnostics.Error(entry.Child("scope"), $"'{written}' is not one of {string.Join(", ", Policy.Budgets.Budget.Scopes)}");
            }
            else if (scope is not null && scope != "global" && value is null)
            {
                entry.Diagnostics.Error(entry.Child("value"), $"is required for scope '{scope}'");
            }

            if (!Enum.TryParse<Policy.Budgets.BudgetPeriod>(periodText, ignoreCase: true, out var period))
            {
                entry.Diagnostics.Error(entry.Child("period"), $"'{periodText}' is not daily, weekly, monthly or total");
            }

            var hard = entry.String("hard") is not { } h || !string.Equals(h, "false", StringComparison.OrdinalIgnoreCase);
            var unpriced = entry.String("unpriced") ?? "refuse";
            if (unpriced is not "refuse" and not "allow")
            {
                entry.Diagnostics.Error(entry.Child("unpriced"), $"'{unpriced}' is not one of: refuse, allow");
            }

            if (name is not null && scope is not null && limit is not null)
            {
                budgets.Add(new Policy.Budgets.Budget(name, scope, value, period, limit.Value, hard) { AllowUnpriced = unpriced == "allow" });
            }
        }

        return budgets;
    }

    private static Policy.RequestPolicy ReadPolicy(YamlSection? section)
    {
        if (section is null)
        {
            return Tollgate.Policy.RequestPolicy.None;
        }

        section.RejectUnknown(PolicyKeys);
        var features = new Dictionary<string, Policy.MaxTokensRule>(StringComparer.Ordinal);
        if (section.Section("features") is { } featureSection)
        {
            foreach (var feature in featureSection.Keys)
            {
                if (featureSection.Section(feature) is { } entry)
                {
                    entry.RejectUnknown(["max_tokens"]);
                    features[feature] = ReadRule(entry.Section("max_tokens"));
                }
            }
        }

        return new Policy.RequestPolicy(section.StringList("required_tags"), ReadRule(section.Section("max_tokens")), features)
        {
            RequireMaxTokens = string.Equals(section.String("require_max_tokens"), "true", StringComparison.OrdinalIgnoreCase),
        };
    }

    private static Policy.MaxTokensRule ReadRule(YamlSection? section)
    {
        section?.RejectUnknown(MaxTokensKeys);
        var rule = new Policy.MaxTokensRule(section?.Int("default", min: 1), section?.Int("cap", min: 1));
        if (rule is { Default: { } d, Cap: { } c } && d > c)
        {
            section!.Diagnostics.Error(section.Path, $"default {d} is above cap {c}");
        }

        return rule;
    }
}
