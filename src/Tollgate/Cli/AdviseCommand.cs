using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Tollgate.Analytics;
using Tollgate.Analytics.Advice;
using Tollgate.Configuration;

namespace Tollgate.Cli;

/// <summary><c>tollgate advise</c>: what to do next, ranked, from the ledger of the config (see <see cref="Advisor"/>).</summary>
internal static class AdviseCommand
{
    public static Command Build(Func<string?, GatewayConfig?> loadConfig, Func<Option<string?>> configOption)
    {
        var config = configOption();
        var since = new Option<string>("--since") { Description = "How far back: 7d, 4w, 30d, or a date (UTC).", DefaultValueFactory = _ => "30d" };
        var format = new Option<string>("--format") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var command = new Command("advise", "Ranked recommendations from the ledger, each with its evidence and what it is worth a month.") { config, since, format };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var now = DateTimeOffset.UtcNow;
            if (!SinceParser.TryParseReportStart(parse.GetValue(since)!, now, out var from))
            {
                await Console.Error.WriteLineAsync("--since must look like 7d, 4w, 30d or 2026-11-01");
                return 1;
            }

            if (loadConfig(parse.GetValue(config)) is not { } loaded)
            {
                return 2;
            }

            var storage = loaded.Storage;
            await using var ledger = await ConfiguredLedger.OpenAsync(storage, cancellationToken);
            if (ledger is null)
            {
                return 1;
            }

            Analytics.UnitEconomics.IOutcomeStore outcomes = storage.PostgresConnection is { } pg
                ? new Ledger.Postgres.PostgresOutcomeStore(Npgsql.NpgsqlDataSource.Create(pg))
                : new Ledger.Sqlite.SqliteOutcomeStore(storage.SqlitePath);
            await outcomes.InitializeAsync(cancellationToken);
            var advice = await Advisor.AdviseAsync(ledger, outcomes, new AdvicePrices(Metering.LocalPriceCatalog.Load(storage.DataDirectory), loaded.Deployments), loaded.TimeZone, from, DateTimeOffset.MaxValue, now, cancellationToken);
            Console.Write(parse.GetValue(format) == "json" ? Json(advice) : Text(advice, from, now));
            return 0;
        });
        return command;
    }

    private static string Text(IReadOnlyList<Advice> advice, DateTimeOffset from, DateTimeOffset now)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new System.Text.StringBuilder();
        text.AppendLine(string.Create(c, $"Advice from the ledger since {from:yyyy-MM-dd HH:mm} UTC ({(now - from).TotalDays:0.#} days); amounts are per 30 days."));
        if (advice.Count == 0)
        {
            text.AppendLine("Nothing to recommend: no repeated long prefixes, duplicates, night-only features, oversized output limits, concentrations or losses were found.");
            return text.ToString();
        }

        for (var i = 0; i < advice.Count; i++)
        {
            var a = advice[i];
            var worth = a.Worth switch
            {
                AdviceKinds.Saving => "saving",
                AdviceKinds.Loss => "loss",
                AdviceKinds.ReservationFreed => "budget room freed",
                AdviceKinds.Idle => "paid while idle",
                _ => "spent",
            };
            text.AppendLine(string.Create(c, $"{i + 1,2}. ${a.MonthlyUsd:0.00} a month {worth} — {a.Kind}: {a.Subject}"));
            text.AppendLine("    " + a.Finding);
            text.AppendLine("    → " + a.Action);
        }

        return text.ToString();
    }

    private static string Json(IReadOnlyList<Advice> advice) => JsonSerializer.Serialize(
        advice.Select((a, i) => new { rank = i + 1, kind = a.Kind, subject = a.Subject, finding = a.Finding, action = a.Action, monthly_usd = a.MonthlyUsd, worth = a.Worth, evidence = a.Evidence }),
        new JsonSerializerOptions { WriteIndented = true }) + Environment.NewLine;
}
