using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tollgate.Configuration;
using Tollgate.Gateway.Endpoints;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;
using Tollgate.Ledger.Sqlite;
using Tollgate.Metering;
using Tollgate.Policy.Budgets;
using Tollgate.Policy.Keys;
using Tollgate.Providers;
using Tollgate.Providers.Anthropic;
using Tollgate.Providers.Gemini;
using Tollgate.Providers.Mock;
using Tollgate.Providers.OpenAiCompatible;

namespace Tollgate.Gateway;

/// <summary>Composes the gateway: services, Kestrel, endpoints. Used by <c>tollgate serve</c>, the tests and the benchmarks.</summary>
public static class GatewayHost
{
    /// <summary>Builds the web application for <paramref name="config"/>; the caller starts it.</summary>
    public static WebApplication Build(GatewayConfig config, string masterKey, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseUrls(config.BindUrls is { } urls ? [.. urls] : [config.Listen.GetLeftPart(UriPartial.Authority)]);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = config.MaxRequestBodyBytes;
            RequestHeadLimits.ConfigureKestrel(kestrel.Limits);
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);

        // A failed start (e.g. the port is taken) is reported by `tollgate serve` in one line, not as a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);

        // ASP.NET starts a tracing Activity for every request whenever this logger is enabled at any level; it only
        // logs request starts and ends (Information), so it is switched off and requests carry no Activity.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

        var services = builder.Services;
        services.AddSingleton(config);
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<Microsoft.Extensions.Hosting.HostOptions>(host => host.ShutdownTimeout = config.ShutdownGrace);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(LocalPriceCatalog.Load(config.Storage.DataDirectory));
        services.AddSingleton(new LedgerQueue(config.Storage.MaxUnwrittenRecords + LedgerBacklogGate.InFlightRoom, new Ledger.Journal.UsageJournal(config.Storage.JournalDirectory)));
        services.AddSingleton(sp => new LedgerBacklogGate(sp.GetRequiredService<LedgerQueue>(), config.Storage.MaxUnwrittenRecords, sp.GetRequiredService<Analytics.Metrics.GatewayMetrics>()));
        // Several replicas on one PostgreSQL share the ledger and hard budgets' room; alone, the SQLite file holds the ledger.
        var postgres = config.Storage.PostgresConnection is { } connection ? Npgsql.NpgsqlDataSource.Create(connection) : null;
        var replica = ReplicaIdentity.Of(config.Storage.DataDirectory);
        services.AddSingleton(replica);
        var sharedRoom = postgres is null ? null : new Ledger.Postgres.PostgresBudgetRoom(postgres, replica.Id);
        services.AddSingleton<ILedgerStore>(postgres is not null ? new Ledger.Postgres.PostgresLedgerStore(postgres) : new SqliteLedgerStore(config.Storage.SqlitePath));
        services.AddSingleton(config.Retention);
        services.AddSingleton<Ledger.Rollups.RollupUpkeep>();
        services.AddHostedService<LedgerWriter>();
        services.AddSingleton<Policy.Alerts.AlertQueue>();
        services.AddSingleton(sp => new BudgetGuard(
            config.Budgets, config.TimeZone, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Policy.Alerts.AlertQueue>(), config.AlertThresholds, sharedRoom));
        services.AddHostedService(sp => new Policy.Alerts.AlertSender(
            sp.GetRequiredService<Policy.Alerts.AlertQueue>(), config.AlertWebhooks, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Policy.Alerts.AlertSender>>()));
        services.AddSingleton<IBudgetStore>(postgres is not null ? new Ledger.Postgres.PostgresBudgetStore(postgres) : new SqliteBudgetStore(config.Storage.SqlitePath));
        services.AddHostedService<BudgetLoader>();
        services.AddHostedService<BudgetRefresher>();
        if (sharedRoom is not null)
        {
            // Before any lease: what this replica held before a crash goes back first.
            services.AddSingleton<Policy.Budgets.ISharedBudgetRoom>(sharedRoom);
            services.AddHostedService<Policy.Budgets.SharedBudgetFlusher>();
        }

        services.AddSingleton(sp => new Policy.RateLimits.RateLimiter(sp.GetRequiredService<TimeProvider>(),
            postgres is null ? null : new Policy.RateLimits.SharedRequestRates(new Ledger.Postgres.PostgresRateRoom(postgres), sp.GetRequiredService<TimeProvider>())));
        services.AddSingleton<UpstreamHttp>();
        services.AddSingleton<OpenAiCompatibleAdapter>();
        services.AddSingleton<MockAdapter>();
        services.AddSingleton<AnthropicAdapter>();
        services.AddSingleton<GeminiAdapter>();
        services.AddSingleton<ProviderRegistry>();
        services.AddSingleton<DeploymentRouter>();
        services.AddSingleton<Forwarding.DeploymentHealth>();
        services.AddSingleton<Forwarding.Forwarder>();
        services.AddSingleton<IKeyStore>(postgres is not null ? new Ledger.Postgres.PostgresKeyStore(postgres) : new SqliteKeyStore(config.Storage.SqlitePath));
        services.AddSingleton<KeyRegistry>();
        services.AddHostedService<KeyRegistryLoader>();
        services.AddHostedService<KeyRefresher>();
        services.AddSingleton(sp => new Authenticator(masterKey, sp.GetRequiredService<KeyRegistry>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(new RequestBodyReader(config.MaxRequestBodyBytes));
        services.AddSingleton(config.Policy);
        services.AddSingleton(new SecretScrubber(config, masterKey));
        services.AddSingleton<Analytics.Metrics.GatewayMetrics>();
        services.AddSingleton<Analytics.Anomalies.IAnomalyStore>(postgres is not null ? new Ledger.Postgres.PostgresAnomalyStore(postgres) : new Ledger.Sqlite.SqliteAnomalyStore(config.Storage.SqlitePath));
        services.AddSingleton<Policy.Alerts.IAlertLog>(postgres is not null ? new Ledger.Postgres.PostgresAlertLog(postgres) : new Ledger.Sqlite.SqliteAlertLog(config.Storage.SqlitePath));
        services.AddSingleton<Analytics.Digest.DigestMonitor>();
        services.AddSingleton<Analytics.UnitEconomics.IOutcomeStore>(postgres is not null ? new Ledger.Postgres.PostgresOutcomeStore(postgres) : new Ledger.Sqlite.SqliteOutcomeStore(config.Storage.SqlitePath));
        services.AddHostedService<StoreInitializer>();
        services.AddHostedService(sp => sp.GetRequiredService<Analytics.Digest.DigestMonitor>());

        // After the budgets are loaded and the stores made: open batches take their budget holds again.
        services.AddHostedService<Batches.BatchPoller>();
        services.AddSingleton<Analytics.Anomalies.AnomalyMonitor>();
        services.AddHostedService(sp => sp.GetRequiredService<Analytics.Anomalies.AnomalyMonitor>());
        services.AddSingleton<UsageSettler>();
        if (config.Telemetry.OtlpEndpoint is not null)
        {
            // Made by the container, so that it is disposed (flushing its last batches) when the gateway stops.
            services.AddSingleton(_ => new Analytics.Telemetry.OtlpExport(config.Telemetry));
        }
        services.AddSingleton<Idempotency.IIdempotencyStore>(postgres is not null
            ? new Ledger.Postgres.PostgresIdempotencyStore(postgres)
            : new Ledger.Sqlite.SqliteIdempotencyStore(config.Storage.SqlitePath));
        services.AddSingleton<Responses.IResponseOwners>(postgres is not null ? new Ledger.Postgres.PostgresResponseOwners(postgres) : new Ledger.Sqlite.SqliteResponseOwners(config.Storage.SqlitePath));
        services.AddSingleton<Responses.ResponseOwnership>();
        services.AddSingleton(config.Batches);
        services.AddSingleton<Batches.IBatchStore>(postgres is not null ? new Ledger.Postgres.PostgresBatchStore(postgres) : new Ledger.Sqlite.SqliteBatchStore(config.Storage.SqlitePath));
        services.AddSingleton<Batches.IBatchApi, Batches.OpenAiBatchApi>();
        services.AddSingleton<Batches.IBatchApi, Batches.AnthropicBatchApi>();
        services.AddSingleton<Batches.BatchTracker>();
        services.AddSingleton(config.Idempotency);
        services.AddSingleton<Idempotency.IdempotencyGate>();
        services.AddSingleton(config.ResponseCache);
        var shareSemanticCache = config.ResponseCache.Shared && postgres is not null && config.SemanticCache.IsOn;
        services.AddSingleton<Optimization.ResponseCaching.IResponseCacheStore>(sp => config.ResponseCache.Shared && postgres is not null
            ? new Optimization.ResponseCaching.ReplicaNearCache(
                new Ledger.Postgres.PostgresResponseCacheStore(postgres, config.ResponseCache.MaxBytes, config.ResponseCache.Ttl, sp.GetRequiredService<TimeProvider>()),
                config.ResponseCache.Ttl, sp.GetRequiredService<TimeProvider>())
            : new Optimization.ResponseCaching.MemoryResponseCacheStore(config.ResponseCache.MaxBytes, config.ResponseCache.Ttl));
        services.AddSingleton<Optimization.ResponseCaching.ResponseCache>();
        services.AddSingleton<Optimization.ResponseCaching.CacheHitResponder>();
        services.AddSingleton<PromptFactsRecorder>();
        services.AddSingleton<EmbedderCatalog>();
        services.AddSingleton(sp => new Optimization.SemanticCaching.SemanticCache(
            config.SemanticCache,
            sp.GetRequiredService<EmbedderCatalog>().For(config.SemanticCache.IsOn ? config.SemanticCache.Embedder : "lexical"),
            config.SemanticCache is { IsOn: true, PairModel: { } pairModel } ? Optimization.SemanticCaching.PairScorer.FromJson(File.ReadAllText(pairModel)) : null,
            shared: shareSemanticCache));
        if (shareSemanticCache)
        {
            // With the exact cache shared, replicas also share the questions their semantic caches remember and the
            // bounded mode's verifications (and keep them across a restart).
            services.AddSingleton(sp => new Optimization.SemanticCaching.SemanticCacheFollower(
                sp.GetRequiredService<Optimization.SemanticCaching.SemanticCache>(), new Ledger.Postgres.PostgresSemanticCacheShare(postgres!, replica.Id),
                config.ResponseCache.Ttl, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<Optimization.SemanticCaching.SemanticCacheFollower>>(),
                sp.GetRequiredService<Analytics.Metrics.GatewayMetrics>()));
            services.AddHostedService(sp => sp.GetRequiredService<Optimization.SemanticCaching.SemanticCacheFollower>());
        }

        services.AddSingleton<ResponseCacheStage>();
        services.AddSingleton<Routing.RouterTable>();
        services.AddSingleton<ProxyRequestHandler>();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A request the framework could not bind (a query value of the wrong type) is the client's error, in JSON like
            // every other; anything else is the gateway's.
            ExceptionHandler = context => OpenAiErrorWriter.WriteAsync(context.Response,
                context.Features.Get<IExceptionHandlerFeature>()?.Error is BadHttpRequestException bad
                    ? new GatewayError(bad.StatusCode, "invalid_request_error", "invalid_request", "The request is malformed: a path or query value has the wrong type or format.")
                    : new GatewayError(StatusCodes.Status500InternalServerError, "api_error", "internal_error", "The gateway failed to process the request.")),
        });
        app.Use((context, next) => RequestHeadLimits.Check(context.Request) is { } tooLarge
            ? OpenAiErrorWriter.WriteAsync(context.Response, tooLarge)
            : next(context));
        _ = app.Services.GetService<Analytics.Telemetry.OtlpExport>();
        var backlog = app.Services.GetRequiredService<LedgerBacklogGate>();
        app.Use((context, next) => backlog.InvokeAsync(context, next));
        GatewayEndpoints.Map(app);
        Dashboard.DashboardEndpoints.Map(app);
        return app;
    }
}
