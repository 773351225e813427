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
        root.Add(PricesCommand());
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
            var loaded = LoadConfig(parse.GetValue(config));
            if (loaded is null)
            {
                return ConfigErrorExitCode;
            }

            if (parse.GetValue(listen) is { } address)
            {
                loaded = loaded with { Listen = new Uri(address.Contains("://", StringComparison.Ordinal) ? address : "http://" + address) };
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

            Console.WriteLine($"Tollgate listening on {string.Join(", ", app.Urls)} (config: {loaded.Source}, ledger: {loaded.Storage.SqlitePath})");
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
        format.AcceptOnlyFromAmong([.. ReportFormatter.Formats]);
        var database = new Option<string?>("--db") { Description = "Path to the SQLite ledger, overriding the config." };
        var command = new Command("report", "Spend and tokens from the ledger, grouped.") { config, by, since, format, database };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var grouping = SpendGrouping.Parse(parse.GetValue(by)!);
            if (grouping is null)
            {
                await Console.Error.WriteLineAsync($"--by must be one of: {string.Join(", ", SpendGrouping.Names)}");
                return 1;
            }

            if (!SinceParser.TryParse(parse.GetValue(since)!, DateTimeOffset.UtcNow, out var from))
            {
                await Console.Error.WriteLineAsync("--since must look like 90m, 24h, 7d, 4w or 2026-11-01");
                return 1;
            }

            var path = parse.GetValue(database);
            if (path is null)
            {
                var loaded = LoadConfig(parse.GetValue(config));
                if (loaded is null)
                {
                    return ConfigErrorExitCode;
                }

                path = loaded.Storage.SqlitePath;
            }

            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"No ledger at {Path.GetFullPath(path)} yet: start the gateway and send a request first.");
                return 1;
            }

            await using var store = new SqliteLedgerStore(path);
            var rows = await SpendReport.BuildAsync(store, grouping, from, cancellationToken);
            ReportFormatter.Write(Console.Out, rows, grouping.Name, parse.GetValue(format)!);
            return 0;
        });
        return command;
    }

    private static Command PricesCommand()
    {
        var model = new Argument<string?>("model") { Description = "Show only models whose name contains this.", Arity = ArgumentArity.ZeroOrOne };
        var list = new Command("list", "List the built-in price catalogue (USD per million tokens).") { model };
        list.SetAction(parse =>
        {
            var filter = parse.GetValue(model);
            var prices = PriceCatalogReader.BuiltIn().All
                .Where(p => filter is null || p.Model.Contains(filter, StringComparison.OrdinalIgnoreCase))
                .ToList();
            if (prices.Count == 0)
            {
                Console.Error.WriteLine($"No catalogue price matches '{filter}'.");
                return 1;
            }

            Console.WriteLine($"{"PROVIDER",-10} {"MODEL",-24} {"FROM",-10} {"INPUT",9} {"CACHED",9} {"WRITE",9} {"OUTPUT",9} {"BATCH IN",9} {"BATCH OUT",9}");
            foreach (var p in prices)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{p.Provider,-10} {p.Model,-24} {p.EffectiveFrom:yyyy-MM-dd} {p.InputPerMillion,9} {Optional(p.CachedInputPerMillion),9} {Optional(p.CacheWritePerMillion),9} {p.OutputPerMillion,9} {Optional(p.BatchInputPerMillion),9} {Optional(p.BatchOutputPerMillion),9}"));
            }

            return 0;
        });
        return new Command("prices", "The price catalogue.") { list };
    }

    private static string Optional(decimal? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static GatewayConfig? LoadConfig(string? path)
    {
        path ??= Environment.GetEnvironmentVariable("TOLLGATE_CONFIG") is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
        try
        {
            var config = ConfigLoader.Load(path, Environment.GetEnvironmentVariable);
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
