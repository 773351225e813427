using System.CommandLine;
using System.Globalization;
using Tollgate.Analytics;
using Tollgate.Configuration;
using Tollgate.Gateway;
using Tollgate.Ledger.Sqlite;
using Tollgate.Metering;

namespace Tollgate.Cli;

/// <summary>The <c>tollgate</c> command line: the server and the tools that read its ledger and prices.</summary>
public static class TollgateCli
{
    private const int ConfigErrorExitCode = 2;

    public static RootCommand Build()
    {
        var root = new RootCommand("Tollgate: an OpenAI-compatible LLM gateway that knows what every token costs.");
        root.Add(ServeCommand());
        root.Add(ReportCommand());
        root.Add(ExportCommand());
        root.Add(PricesCommand());
        root.Add(RollupsCommand());
        root.Add(MigrateCommand());
        root.Add(KeysCommand.Build(path => LoadConfig(path)));
        root.Add(BudgetsCommand.Build(path => LoadConfig(path)));
        root.Add(CacheCommand.Build(path => LoadConfig(path)));
        root.Add(RouteCommand.Build(path => LoadConfig(path), ConfigOption));
        root.Add(AnalyticsCommand.Build(path => LoadConfig(path)));
        root.Add(AdviseCommand.Build(path => LoadConfig(path), ConfigOption));
        root.Add(PlanCommand.Build(path => LoadConfig(path), ConfigOption));
        root.Add(ReconcileCommand.Build(path => LoadConfig(path), ConfigOption));
        return root;
    }

    private static Option<string?> ConfigOption() => new("--config", "-c")
    {
        Description = "Path to tollgate.yaml or a LiteLLM proxy config (default: $TOLLGATE_CONFIG, else the embedded defaults).",
    };

    private static Command ServeCommand()
    {
        var config = ConfigOption();
        var listen = new Option<string?>("--listen") { Description = "Address to listen on, overriding the config (host:port)." };
        var command = new Command("serve", "Start the gateway.") { config, listen };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var loaded = LoadConfig(parse.GetValue(config), secretsRequired: true);
            if (loaded is null)
            {
                return ConfigErrorExitCode;
            }

            if (parse.GetValue(listen) is { } address)
            {
                loaded = loaded with { Listen = new Uri(address.Contains("://", StringComparison.Ordinal) ? address : "http://" + address), BindUrls = null };
            }

            var masterKey = loaded.MasterKey ?? DevelopmentKey.LoadOrCreate(loaded.Storage.DataDirectory);
            await using var app = GatewayHost.Build(loaded, masterKey);
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"Cannot listen on {loaded.Listen}: {ex.Message}");
                return 1;
            }

            Console.WriteLine($"Tollgate listening on {string.Join(", ", app.Urls)} (config: {loaded.Source}, ledger: {LedgerPlace(loaded.Storage)})");
            Console.WriteLine($"Models: {string.Join(", ", loaded.Deployments.Select(d => $"{d.Alias} -> {d.Name}"))}");
            if (loaded.MasterKey is null)
            {
                Console.WriteLine($"Development key: {masterKey}");
                Console.WriteLine($"  (kept in {Path.Combine(loaded.Storage.DataDirectory, DevelopmentKey.FileName)}; set master_key in the config for real use)");
            }

            await app.WaitForShutdownAsync(CancellationToken.None);
            return 0;
        });
        return command;
    }

    private static Command ReportCommand()
    {
        var config = ConfigOption();
        var by = new Option<string>("--by") { Description = $"Group by: {string.Join(", ", SpendGrouping.Names)}.", DefaultValueFactory = _ => "model" };
        var since = new Option<string>("--since") { Description = "How far back: 90m, 24h, 7d, 4w, or a date (UTC).", DefaultValueFactory = _ => "7d" };
        var format = new Option<string>("--format") { Description = "table, csv or json.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong([.. SpendReportWriter.Formats]);
        var database = new Option<string?>("--db") { Description = "Path to the SQLite ledger, overriding the config." };
        var reprice = new Option<string?>("--reprice") { Description = "Also price the same usage at the prices in this file (Tollgate catalogue or LiteLLM price list)." };
        var repriceAs = new Option<string?>("--reprice-as") { Description = "Also price the same usage as if this model had served it, at its price today." };
        var until = new Option<string?>("--until") { Description = "End of the range (exclusive), like --since; default now." };
        var interval = new Option<string>("--interval") { Description = "Split the rows per hour or day (in the config's time zone): none, hour, day.", DefaultValueFactory = _ => "none" };
        interval.AcceptOnlyFromAmong("none", "hour", "day");
        var command = new Command("report", "Spend and tokens from the ledger, grouped.") { config, by, since, until, interval, format, database, reprice, repriceAs };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var grouping = SpendGrouping.Parse(parse.GetValue(by)!);
            if (grouping is null)
            {
                await Console.Error.WriteLineAsync($"--by must be one of: {string.Join(", ", SpendGrouping.Names)}");
                return 1;
            }

            if (!SinceParser.TryParseReportStart(parse.GetValue(since)!, DateTimeOffset.UtcNow, out var from))
            {
                await Console.Error.WriteLineAsync("--since must look like 90m, 24h, 7d, 4w or 2026-11-01");
                return 1;
            }

            var to = DateTimeOffset.MaxValue;
            if (parse.GetValue(until) is { } untilText && !SinceParser.TryParse(untilText, DateTimeOffset.UtcNow, out to))
            {
                await Console.Error.WriteLineAsync("--until must look like 90m, 24h, 7d, 4w or 2026-11-01");
                return 1;
            }

            var path = parse.GetValue(database);
            string? postgres = null;
            var dataDirectory = "data";
            var zone = TimeZoneInfo.Utc;
            if (path is null || parse.GetValue(repriceAs) is not null)
            {
                var loaded = LoadConfig(parse.GetValue(config));
                if (loaded is null)
                {
                    return ConfigErrorExitCode;
                }

                postgres = path is null ? loaded.Storage.PostgresConnection : null;
                path ??= loaded.Storage.SqlitePath;
                dataDirectory = loaded.Storage.DataDirectory;
                zone = loaded.TimeZone;
            }

            var repricer = ChooseRepricer(parse.GetValue(reprice), parse.GetValue(repriceAs), dataDirectory, out var repriceError);
            if (repriceError is not null)
            {
                await Console.Error.WriteLineAsync(repriceError);
                return 1;
            }

            if (postgres is null && !File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"No ledger at {Path.GetFullPath(path)} yet: start the gateway and send a request first.");
                return 1;
            }

            await using var store = postgres is not null ? Ledger.Postgres.PostgresLedgerStore.Open(postgres) : (Ledger.ILedgerStore)new SqliteLedgerStore(path);

            // A ledger an earlier version wrote gains this version's columns first (as the gateway does at start).
            await store.InitializeAsync(cancellationToken);
            var bucket = parse.GetValue(interval) switch { "hour" => TimeBucket.Hour, "day" => TimeBucket.Day, _ => TimeBucket.None };
            var rows = await SpendReport.BuildAsync(store, new SpendQuery(grouping, from, to, bucket, zone), cancellationToken, repricer);
            if (repricer is not null && parse.GetValue(format) == "table")
            {
                Console.WriteLine($"Repriced {repricer.Description}.");
            }

            SpendReportWriter.Write(Console.Out, rows, grouping.Name, parse.GetValue(format)!);
            return 0;
        });
        return command;
    }

    /// <summary><c>rollups rebuild</c>: the hourly rollups made again from the raw records.</summary>
    /// <summary>
    /// The ledger a command reads: the SQLite file <c>--db</c>, else the config's ledger (its PostgreSQL database when
    /// <c>storage.postgres</c> is set, else its SQLite file). Null, with the exit code, when the config is invalid or
    /// the file does not exist (said on stderr, with <paramref name="missingHint"/>).
    /// </summary>
    private static async Task<(string? Path, string? Postgres, int ExitCode)> ExistingLedgerAsync(string? database, string? configPath, string missingHint)
    {
        var path = database;
        if (path is null)
        {
            var loaded = LoadConfig(configPath);
            if (loaded is null)
            {
                return (null, null, ConfigErrorExitCode);
            }

            if (loaded.Storage.PostgresConnection is { } postgres)
            {
                return (null, postgres, 0);
            }

            path = loaded.Storage.SqlitePath;
        }

        if (!File.Exists(path))
        {
            await Console.Error.WriteLineAsync($"No ledger at {Path.GetFullPath(path)}{missingHint}.");
            return (null, null, 1);
        }

        return (path, null, 0);
    }

    /// <summary>Where the ledger is, for the start-up line: the SQLite file, or the PostgreSQL host and database (never its password).</summary>
    private static string LedgerPlace(StorageConfig storage)
    {
        if (storage.PostgresConnection is not { } postgres)
        {
            return storage.SqlitePath;
        }

        var builder = new Npgsql.NpgsqlConnectionStringBuilder(postgres);
        return $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}";
    }

    /// <summary><c>migrate</c>: the config's PostgreSQL database brought to this version's schema (replicas also do it at start).</summary>
    private static Command MigrateCommand()
    {
        var config = ConfigOption();
        var command = new Command("migrate", "Apply this version's schema migrations to the config's PostgreSQL database (storage.postgres); safe while other replicas run or start.") { config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var loaded = LoadConfig(parse.GetValue(config));
            if (loaded is null)
            {
                return ConfigErrorExitCode;
            }

            if (loaded.Storage.PostgresConnection is not { } postgres)
            {
                await Console.Error.WriteLineAsync("The config keeps the ledger in SQLite (no storage.postgres): the gateway upgrades its file itself at start.");
                return 1;
            }

            await using var source = Npgsql.NpgsqlDataSource.Create(postgres);
            var applied = await Ledger.Postgres.PostgresMigrations.ApplyAsync(source, cancellationToken);
            Console.WriteLine($"{LedgerPlace(loaded.Storage)}: {applied} migration(s) applied; the schema is at version {Ledger.Postgres.PostgresMigrations.All[^1].Version}.");
            return 0;
        });
        return command;
    }

    private static Command RollupsCommand()
    {
        var config = ConfigOption();
        var database = new Option<string?>("--db") { Description = "Path to the SQLite ledger, overriding the config." };
        var rebuild = new Command("rebuild", "Drop the hourly rollups and make them again from the raw records (safe while the gateway runs: reports stay exact meanwhile; on PostgreSQL, writers wait until it is done).") { config, database };
        rebuild.SetAction(async (parse, cancellationToken) =>
        {
            var (path, postgres, exitCode) = await ExistingLedgerAsync(parse.GetValue(database), parse.GetValue(config), string.Empty);
            if (postgres is null && path is null)
            {
                return exitCode;
            }

            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            await using Ledger.ILedgerStore store = postgres is not null ? Ledger.Postgres.PostgresLedgerStore.Open(postgres) : new SqliteLedgerStore(path!);
            await store.InitializeAsync(cancellationToken);
            await ((Ledger.Rollups.IRollupStore)store).RebuildRollupsAsync(cancellationToken);
            Console.WriteLine($"Rolled up {(postgres is not null ? "the PostgreSQL ledger" : path)} again in {stopwatch.Elapsed.TotalSeconds:F1} s.");
            return 0;
        });
        return new Command("rollups", "The ledger's hourly rollups, which reports read.") { rebuild };
    }

    private static Command ExportCommand()
    {
        var config = ConfigOption();
        var since = new Option<string>("--since") { Description = "How far back: 90m, 24h, 7d, 4w, or a date (UTC).", DefaultValueFactory = _ => "30d" };
        var until = new Option<string?>("--until") { Description = "End of the range (exclusive), like --since; default now." };
        var format = new Option<string>("--format") { Description = "csv or json.", DefaultValueFactory = _ => "csv" };
        format.AcceptOnlyFromAmong("csv", "json");
        var output = new Option<string?>("--out", "-o") { Description = "Write to this file instead of standard output." };
        var database = new Option<string?>("--db") { Description = "Path to the SQLite ledger, overriding the config." };
        var command = new Command("export", "Every usage record of a time range, whole, as CSV or JSON (for BI tools).") { config, since, until, format, output, database };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var now = DateTimeOffset.UtcNow;
            var to = DateTimeOffset.MaxValue;
            if (!SinceParser.TryParse(parse.GetValue(since)!, now, out var from) || (parse.GetValue(until) is { } u && !SinceParser.TryParse(u, now, out to)))
            {
                await Console.Error.WriteLineAsync("--since and --until must look like 90m, 24h, 7d, 4w or 2026-11-01");
                return 1;
            }

            var (path, postgres, exitCode) = await ExistingLedgerAsync(parse.GetValue(database), parse.GetValue(config), " yet: start the gateway and send a request first");
            if (path is null && postgres is null)
            {
                return exitCode;
            }

            await using var store = postgres is not null ? Ledger.Postgres.PostgresLedgerStore.Open(postgres) : (Ledger.ILedgerStore)new SqliteLedgerStore(path!);
            await store.InitializeAsync(cancellationToken);
            await using var stream = parse.GetValue(output) is { } file ? File.Create(file) : Console.OpenStandardOutput();
            var records = store.ReadAsync(from, to, cancellationToken);
            if (parse.GetValue(format) == "json")
            {
                await RecordExport.WriteJsonAsync(stream, records, cancellationToken);
            }
            else
            {
                await RecordExport.WriteCsvAsync(stream, records, cancellationToken);
            }

            return 0;
        });
        return command;
    }

    private static Repricer? ChooseRepricer(string? file, string? model, string dataDirectory, out string? error)
    {
        error = null;
        if (file is not null && model is not null)
        {
            error = "Give either --reprice or --reprice-as, not both.";
            return null;
        }

        if (file is not null)
        {
            if (!File.Exists(file))
            {
                error = $"No price file at {Path.GetFullPath(file)}.";
                return null;
            }

            // A LiteLLM list has no dates: its prices are taken to hold for every day of the report.
            return Repricer.WithCatalog(new PriceCatalog(PriceFile.Read(file, DateOnly.MinValue).Prices), Path.GetFileName(file));
        }

        if (model is not null)
        {
            var catalog = LocalPriceCatalog.Load(dataDirectory);
            if (catalog.Find(model, DateOnly.FromDateTime(DateTime.UtcNow)) is null)
            {
                error = $"No price for '{model}' in the catalogue; see `tollgate prices list`.";
                return null;
            }

            return Repricer.AsModel(catalog, model, DateOnly.FromDateTime(DateTime.UtcNow));
        }

        return null;
    }

    private static Command PricesCommand()
    {
        var model = new Argument<string?>("model") { Description = "Show only models whose name contains this.", Arity = ArgumentArity.ZeroOrOne };
        var listConfig = ConfigOption();
        var list = new Command("list", "List the price catalogue: built-in prices and imported ones (USD per million tokens).") { model, listConfig };
        list.SetAction(parse =>
        {
            var filter = parse.GetValue(model);
            var loaded = LoadConfig(parse.GetValue(listConfig));
            if (loaded is null)
            {
                return ConfigErrorExitCode;
            }

            var prices = LocalPriceCatalog.Load(loaded.Storage.DataDirectory).All
                .Where(p => filter is null || p.Model.Contains(filter, StringComparison.OrdinalIgnoreCase))
                .ToList();
            if (prices.Count == 0)
            {
                Console.Error.WriteLine($"No catalogue price matches '{filter}'.");
                return 1;
            }

            var providerWidth = Math.Max(8, prices.Max(p => p.Provider?.Length ?? 0));
            var modelWidth = Math.Max(5, prices.Max(p => p.Model.Length));
            Console.WriteLine(string.Join("  ", "PROVIDER".PadRight(providerWidth), "MODEL".PadRight(modelWidth), "FROM      ",
                "INPUT".PadLeft(9), "CACHED".PadLeft(9), "WRITE".PadLeft(9), "OUTPUT".PadLeft(9), "BATCH IN".PadLeft(9), "BATCH OUT".PadLeft(9), "LONG CONTEXT"));
            foreach (var p in prices)
            {
                Console.WriteLine(string.Join("  ",
                    (p.Provider ?? "-").PadRight(providerWidth),
                    p.Model.PadRight(modelWidth),
                    p.EffectiveFrom.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    Optional(p.InputPerMillion).PadLeft(9),
                    Optional(p.CachedInputPerMillion).PadLeft(9),
                    Optional(p.CacheWritePerMillion).PadLeft(9),
                    Optional(p.OutputPerMillion).PadLeft(9),
                    Optional(p.BatchInputPerMillion).PadLeft(9),
                    Optional(p.BatchOutputPerMillion).PadLeft(9),
                    p.LongContext is { } tier ? $"above {tier.AbovePromptTokens / 1000}k: in {Optional(tier.InputPerMillion)}, out {Optional(tier.OutputPerMillion)}" : "-"));
            }

            return 0;
        });
        return new Command("prices", "The price catalogue.") { list, ImportCommand(), CheckCommand() };
    }

    /// <summary><c>prices check FILE</c>: every catalogue price in force, checked against a second list.</summary>
    private static Command CheckCommand()
    {
        var file = new Argument<string>("file") { Description = "A second price list to check against: LiteLLM's model_prices_and_context_window.json or a Tollgate catalogue." };
        var config = ConfigOption();
        var command = new Command("check", "Check the catalogue (built-in and imported prices) against another price list and list every disagreement.") { file, config };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            var loaded = LoadConfig(parse.GetValue(config));
            if (loaded is null)
            {
                return ConfigErrorExitCode;
            }

            PriceImport other;
            try
            {
                other = PriceFile.Read(path, DateOnly.FromDateTime(DateTime.UtcNow));
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or IOException)
            {
                Console.Error.WriteLine($"{path} is not a price list: {ex.Message}");
                return 1;
            }

            var checks = PriceComparison.Compare(LocalPriceCatalog.Load(loaded.Storage.DataDirectory).All, other.Prices);
            foreach (var check in checks.Where(c => !c.Agrees))
            {
                var name = $"{check.Ours.Provider ?? "-"}/{check.Ours.Model}";
                if (check.Counterpart is null)
                {
                    Console.WriteLine($"{name}: not in {Path.GetFileName(path)}");
                    continue;
                }

                foreach (var difference in check.Differences)
                {
                    Console.WriteLine($"{name} ({check.Counterpart}): {difference.Field} is {difference.Ours} here, {difference.Theirs ?? "not given"} there");
                }
            }

            Console.WriteLine($"{checks.Count} prices checked against {Path.GetFileName(path)}: {checks.Count(c => c.Agrees)} agree, "
                + $"{checks.Count(c => c.Counterpart is not null && !c.Agrees)} differ, {checks.Count(c => c.Counterpart is null)} not found there.");
            return 0;
        });
        return command;
    }

    private static Command ImportCommand()
    {
        var file = new Argument<string>("file") { Description = "A LiteLLM price list (model_prices_and_context_window.json) or a Tollgate catalogue file." };
        var effective = new Option<string?>("--effective-from") { Description = "Date the imported prices take effect (yyyy-MM-dd, default today, UTC)." };
        var config = ConfigOption();
        var command = new Command("import", "Import prices into the local catalogue (<data_dir>/prices.json), used from the next start.") { file, effective, config };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"No price file at {Path.GetFullPath(path)}.");
                return 1;
            }

            var from = DateOnly.FromDateTime(DateTime.UtcNow);
            if (parse.GetValue(effective) is { } text && !DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out from))
            {
                Console.Error.WriteLine("--effective-from must be a date like 2026-11-24.");
                return 1;
            }

            var loaded = LoadConfig(parse.GetValue(config));
            if (loaded is null)
            {
                return ConfigErrorExitCode;
            }

            PriceImport imported;
            try
            {
                imported = PriceFile.Read(path, from);
            }
            catch (System.Text.Json.JsonException ex)
            {
                Console.Error.WriteLine($"{path} is not a price list: {ex.Message}");
                return 1;
            }

            if (imported.Prices.Count == 0)
            {
                Console.Error.WriteLine(imported.Skipped.Count > 0
                    ? $"{path} has no per-token prices: its {imported.Skipped.Count} entries were all skipped (images, audio, rerank…), e.g. {string.Join("; ", imported.Skipped.Take(3))}. Nothing was imported."
                    : $"{path} has no prices in a format Tollgate reads (a LiteLLM price list or a Tollgate catalogue). Nothing was imported.");
                return 1;
            }

            var total = LocalPriceCatalog.Save(loaded.Storage.DataDirectory, imported.Prices);
            Console.WriteLine($"Imported {imported.Prices.Count} prices effective from {from:yyyy-MM-dd} into {LocalPriceCatalog.PathIn(loaded.Storage.DataDirectory)} ({total} entries in all).");
            if (imported.Skipped.Count > 0)
            {
                Console.WriteLine($"Skipped {imported.Skipped.Count} entries without per-token prices (images, audio, rerank…), e.g. {string.Join("; ", imported.Skipped.Take(3))}.");
            }

            return 0;
        });
        return command;
    }

    private static string Optional(decimal? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    /// <summary>Loads the config; only <c>serve</c> needs the provider secrets it names set.</summary>
    private static GatewayConfig? LoadConfig(string? path, bool secretsRequired = false)
    {
        path ??= Environment.GetEnvironmentVariable("TOLLGATE_CONFIG") is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
        try
        {
            var config = ConfigLoader.Load(path, Environment.GetEnvironmentVariable, secretsRequired);
            foreach (var warning in config.Warnings)
            {
                Console.Error.WriteLine($"warning: {warning}");
            }

            return config;
        }
        catch (ConfigException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return null;
        }
    }
}
