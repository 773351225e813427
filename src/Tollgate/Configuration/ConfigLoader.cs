using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Tollgate.Configuration;

/// <summary>
/// Loads <c>tollgate.yaml</c> or a LiteLLM proxy config, resolves secrets from the environment and validates the
/// result. Every error is collected; an invalid file throws one <see cref="ConfigException"/> listing them all.
/// </summary>
public static partial class ConfigLoader
{
    public const string DefaultListen = "http://127.0.0.1:4000";

    /// <summary>Loads from <paramref name="path"/>, or the embedded defaults (mock provider) when it is null.</summary>
    /// <param name="path">The config file, or null.</param>
    /// <param name="environment">Reads an environment variable.</param>
    /// <param name="secretsRequired">
    /// True for <c>serve</c>: every secret the config names must be set. The tools that read the ledger, prices or the
    /// admin API call no provider, so for them an unset secret is left unset instead of stopping them.
    /// </param>
    public static GatewayConfig Load(string? path, Func<string, string?> environment, bool secretsRequired = true)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (path is null)
        {
            return Defaults(environment);
        }

        if (!File.Exists(path))
        {
            throw new ConfigException(path, [$"file not found: {Path.GetFullPath(path)}"]);
        }

        return Parse(File.ReadAllText(path), path, environment, secretsRequired);
    }

    /// <summary>The embedded defaults: a local SQLite ledger and the built-in mock provider, so nothing needs an API key.</summary>
    /// <param name="environment">Read only for the listen address (<c>ASPNETCORE_URLS</c>, <c>ASPNETCORE_HTTP_PORTS</c>).</param>
    public static GatewayConfig Defaults(Func<string, string?>? environment = null) => Parse(DefaultConfigYaml, "embedded defaults", environment ?? (_ => null));

    public static GatewayConfig Parse(string yaml, string source, Func<string, string?> environment, bool secretsRequired = true)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var diagnostics = new ConfigDiagnostics();
        var root = ReadRoot(yaml, diagnostics);
        if (root is null)
        {
            throw new ConfigException(source, diagnostics.Errors);
        }

        var section = new YamlSection(root, string.Empty, diagnostics);
        var secrets = new SecretResolver(environment, secretsRequired);
        var raw = section.Has("model_list") ? LiteLlmConfigReader.Read(section, secrets) : TollgateConfigReader.Read(section, secrets);
        var config = Validate(raw, source, diagnostics);
        var (listen, bindUrls) = ListenAddress.Resolve(raw.Listen, environment, diagnostics);
        config = config with { Listen = listen ?? config.Listen, BindUrls = bindUrls };
        if (diagnostics.Errors.Count > 0)
        {
            throw new ConfigException(source, [.. diagnostics.Errors.OrderBy(FileOrder, StringComparer.Ordinal)]);
        }

        return config;
    }

    /// <summary>Sorts errors as they stand in the file: <c>models[2]</c> before <c>models[10]</c>, a section's keys together.</summary>
    private static string FileOrder(string error) =>
        ListIndex().Replace(error[..Math.Max(0, error.IndexOf(": ", StringComparison.Ordinal))], m => $"[{int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture):D6}]");

    [GeneratedRegex(@"\[(\d+)\]", RegexOptions.CultureInvariant)]
    private static partial Regex ListIndex();

    private static YamlMappingNode? ReadRoot(string yaml, ConfigDiagnostics diagnostics)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            {
                diagnostics.Error("(file)", "must be a YAML mapping with a 'models' list (or a LiteLLM 'model_list')");
                return null;
            }

            return root;
        }
        catch (YamlException ex)
        {
            diagnostics.Error($"(line {ex.Start.Line}, column {ex.Start.Column})", $"invalid YAML: {ex.InnerException?.Message ?? ex.Message}");
            return null;
        }
    }

    private static GatewayConfig Validate(RawConfig raw, string source, ConfigDiagnostics diagnostics)
    {
        var dataDirectory = raw.DataDirectory ?? "data";
        var deployments = new List<DeploymentConfig>();
        if (!raw.HasModelList || raw.Deployments.Count == 0)
        {
            diagnostics.Error("models", "at least one model alias is required");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in raw.Deployments)
        {
            var deployment = ValidateDeployment(d, diagnostics);
            if (deployment is null)
            {
                continue;
            }

            var name = deployment.Name;
            for (var n = 2; !names.Add(name); n++)
            {
                if (d.Name is not null)
                {
                    diagnostics.Error(d.Path + ".name", $"'{d.Name}' is used by another deployment");
                    break;
                }

                name = $"{deployment.Name}#{n}";
            }

            deployments.Add(deployment with { Name = name });
        }

        return new GatewayConfig
        {
            Listen = new Uri(DefaultListen),
            MasterKey = raw.MasterKey,
            Storage = new StorageConfig(dataDirectory, raw.SqlitePath ?? Path.Combine(dataDirectory, "tollgate.db")) { PostgresConnection = raw.PostgresConnection, MaxUnwrittenRecords = raw.MaxUnwrittenRecords ?? StorageConfig.DefaultMaxUnwrittenRecords, RecordPromptHashes = raw.RecordPromptHashes, RecordPromptFacts = raw.RecordPromptFacts, PromptFactsEmbedder = ValidateFactsEmbedder(raw.PromptFactsEmbedder, deployments, diagnostics) },
            Deployments = deployments,
            MaxRequestBodyBytes = raw.MaxRequestBodyBytes ?? 10 * 1024 * 1024,
            Warnings = diagnostics.Warnings,
            Source = source,
            Policy = raw.Policy,
            Budgets = raw.Budgets,
            TimeZone = raw.TimeZone,
            AlertWebhooks = raw.AlertWebhooks,
            AlertThresholds = raw.AlertThresholds,
            ShutdownGrace = TimeSpan.FromSeconds(raw.ShutdownGraceSeconds ?? 30),
            Retries = raw.Retries,
            Breaker = raw.Breaker,
            Idempotency = raw.Idempotency,
            Batches = raw.Batches,
            Telemetry = raw.Telemetry,
            Digest = raw.Digest,
            ResponseCache = raw.ResponseCache,
            SemanticCache = ValidateEmbedderAlias(raw.SemanticCache, deployments, diagnostics),
            Anomalies = raw.Anomalies,
            Retention = raw.Retention,
            Fallbacks = ValidateAliasLists(raw.Fallbacks, "fallbacks", deployments, diagnostics),
            ContextWindowFallbacks = ValidateAliasLists(raw.ContextWindowFallbacks, "context_window_fallbacks", deployments, diagnostics),
            Routers = RouterConfigReader.Validate(raw.Routers, deployments.Select(d => d.Alias).ToHashSet(StringComparer.Ordinal), diagnostics),
        };
    }

    /// <summary>Prompt facts embedded through an alias of the gateway need that alias.</summary>
    private static string? ValidateFactsEmbedder(string? embedder, List<DeploymentConfig> deployments, ConfigDiagnostics diagnostics)
    {
        if (embedder is not null && Optimization.SemanticCaching.SemanticCacheSettings.EmbedderAlias(embedder) is { } alias && !deployments.Any(d => d.Alias == alias))
        {
            diagnostics.Error("storage.prompt_facts_embedder", $"'{alias}' is not a configured model alias");
        }

        return embedder;
    }

    /// <summary>A semantic cache that embeds through an alias of the gateway needs that alias, served by a provider that embeds.</summary>
    private static Optimization.SemanticCaching.SemanticCacheSettings ValidateEmbedderAlias(
        Optimization.SemanticCaching.SemanticCacheSettings settings, List<DeploymentConfig> deployments, ConfigDiagnostics diagnostics)
    {
        if (settings.IsOn && Optimization.SemanticCaching.SemanticCacheSettings.EmbedderAlias(settings.Embedder) is { } alias
            && !deployments.Any(d => d.Alias == alias))
        {
            diagnostics.Error("cache.semantic.embedder", $"'{alias}' is not a configured model alias");
        }

        return settings;
    }

    /// <summary>Every alias named in a fallback map must be configured, and no alias falls back to itself.</summary>
    private static Dictionary<string, IReadOnlyList<string>> ValidateAliasLists(
        IReadOnlyDictionary<string, IReadOnlyList<string>> lists, string path, List<DeploymentConfig> deployments, ConfigDiagnostics diagnostics)
    {
        var aliases = deployments.Select(d => d.Alias).ToHashSet(StringComparer.Ordinal);
        foreach (var (alias, targets) in lists)
        {
            if (!aliases.Contains(alias))
            {
                diagnostics.Error($"{path}.{alias}", $"'{alias}' is not a configured model alias");
            }

            foreach (var target in targets.Where(t => !aliases.Contains(t) || t == alias))
            {
                diagnostics.Error($"{path}.{alias}", target == alias ? $"'{alias}' cannot fall back to itself" : $"'{target}' is not a configured model alias");
            }
        }

        return new Dictionary<string, IReadOnlyList<string>>(lists, StringComparer.Ordinal);
    }

    private static DeploymentConfig? ValidateDeployment(RawDeployment d, ConfigDiagnostics diagnostics)
    {
        var errorsBefore = diagnostics.Errors.Count;
        if (d.Provider is not null && !KnownProviders.IsKnown(d.Provider))
        {
            diagnostics.Error(d.Path + ".provider", $"unknown provider '{d.Provider}' (known: {string.Join(", ", KnownProviders.Names)})");
        }

        Uri? baseUrl = null;
        if (d.Provider is not null && KnownProviders.IsKnown(d.Provider) && !KnownProviders.IsMock(d.Provider))
        {
            var text = d.BaseUrl ?? KnownProviders.DefaultBaseUrl(d.Provider);
            if (text is null)
            {
                diagnostics.Error(d.Path + ".base_url", $"is required for provider '{d.Provider}'");
            }
            else if (!Uri.TryCreate(text, UriKind.Absolute, out baseUrl) || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
            {
                diagnostics.Error(d.Path + ".base_url", $"'{text}' is not an absolute http(s) URL");
            }
        }

        ValidatePrice(d, diagnostics);
        if (d.AutoCacheSystemPromptMinTokens is not null && d.Provider is not null && !string.Equals(d.Provider, KnownProviders.Anthropic, StringComparison.OrdinalIgnoreCase))
        {
            diagnostics.Error(d.Path + ".auto_cache_system_prompt", "applies to provider 'anthropic' only (OpenAI and Gemini cache long prompts by themselves)");
        }

        if (diagnostics.Errors.Count > errorsBefore || d.Alias is null || d.Provider is null || d.Model is null)
        {
            return null;
        }

        return new DeploymentConfig
        {
            Alias = d.Alias,
            Name = d.Name ?? $"{d.Provider.ToLowerInvariant()}/{d.Model}",
            Provider = d.Provider.ToLowerInvariant(),
            Model = d.Model,
            BaseUrl = baseUrl,
            ApiKey = d.ApiKey,
            Price = d.Price,
            PriceAs = d.PriceAs,
            Timeouts = d.Timeouts ?? (d.TimeoutSeconds is { } total
                ? DeploymentTimeouts.Default with { FirstByte = TimeSpan.FromSeconds(total), Total = TimeSpan.FromSeconds(total) }
                : DeploymentTimeouts.Default),
            MaxRetries = d.MaxRetries,
            ContextWindow = d.ContextWindow,
            ReadUsageAfterClientLeaves = d.ReadUsageAfterClientLeaves,
            ProviderProject = d.ProviderProject,
            Mock = KnownProviders.IsMock(d.Provider) ? d.Mock ?? new MockConfig() : null,
            ApiVersion = KnownProviders.IsAzure(d.Provider) ? d.ApiVersion ?? KnownProviders.DefaultAzureApiVersion : null,
            AutoCacheSystemPromptMinTokens = d.AutoCacheSystemPromptMinTokens,
            RateLimit = new Policy.RateLimits.RateLimit(d.Rpm, d.Tpm),
        };
    }

    private static void ValidatePrice(RawDeployment d, ConfigDiagnostics diagnostics)
    {
        if (d.Price is not { } price)
        {
            return;
        }

        var path = d.Path + ".price";
        var anyTokenPrice = price.InputPerMillion is not null || price.OutputPerMillion is not null || price.CachedInputPerMillion is not null
            || price.CacheWritePerMillion is not null || price.ReasoningPerMillion is not null;
        if (price.UsdPerHour is not null && anyTokenPrice)
        {
            diagnostics.Error(path, "per_hour cannot be combined with per-token prices");
        }
        else if (price.UsdPerHour is null && (price.InputPerMillion is null || price.OutputPerMillion is null))
        {
            diagnostics.Error(path, "needs both input_per_million and output_per_million (or per_hour)");
        }

        if (d.PriceAs is not null)
        {
            diagnostics.Error(d.Path + ".price_as", "cannot be combined with price");
        }
    }


    private const string DefaultConfigYaml = """
        storage:
          data_dir: data
        models:
          - alias: mock-gpt
            provider: mock
            model: mock-gpt
            price_as: gpt-4o-mini
            mock: { latency_ms: 0, chunk_delay_ms: 0, reply_tokens: 40 }
          - alias: mock-embed
            provider: mock
            model: mock-embed
            price_as: text-embedding-3-small
        """;
}
