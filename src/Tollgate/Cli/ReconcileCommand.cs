using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Tollgate.Analytics.Reconciliation;
using Tollgate.Configuration;

namespace Tollgate.Cli;

/// <summary><c>tollgate reconcile FILE</c>: the ledger against a provider's cost export (see <see cref="Reconciler"/>).</summary>
internal static class ReconcileCommand
{
    /// <summary>The exit code when the two disagree somewhere (0 when they agree), so a scheduled check can fail on it.</summary>
    public const int DifferencesExitCode = 3;

    public static Command Build(Func<string?, GatewayConfig?> loadConfig, Func<Option<string?>> configOption)
    {
        var config = configOption();
        var file = new Argument<string>("FILE") { Description = "The provider's export: OpenAI's Costs API JSON, Anthropic's Cost Report JSON, or CSV with date, model, cost_usd." };
        var provider = new Option<string?>("--provider") { Description = "Compare only the ledger's records of this provider (openai, anthropic, azure…); default: all." };
        var tolerance = new Option<decimal>("--tolerance") { Description = "Differences up to this many dollars a day and model are not reported.", DefaultValueFactory = _ => Reconciler.DefaultTolerance };
        var format = new Option<string>("--format") { Description = "text or json.", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var command = new Command("reconcile", "Compare the ledger with a provider's cost export, per day and model; exit code 3 when they differ.") { file, config, provider, tolerance, format };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(tolerance) < 0)
            {
                await Console.Error.WriteLineAsync("--tolerance is a number of dollars, 0 or more.");
                return 1;
            }

            var path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"No export at {Path.GetFullPath(path)}.");
                return 1;
            }

            IReadOnlyList<InvoiceLine> export;
            try
            {
                export = InvoiceExport.Read(await File.ReadAllTextAsync(path, cancellationToken));
            }
            catch (Exception ex) when (ex is InvalidDataException or JsonException or FormatException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync($"{path} is not an export this reads: {ex.Message}");
                return 1;
            }

            if (loadConfig(parse.GetValue(config)) is not { } loaded)
            {
                return 2;
            }

            await using var ledger = await ConfiguredLedger.OpenAsync(loaded.Storage, cancellationToken);
            if (ledger is null)
            {
                return 1;
            }

            var projects = loaded.Deployments.Where(d => d.ProviderProject is not null).ToDictionary(d => d.Name, d => d.ProviderProject, StringComparer.Ordinal);
            var differences = await Reconciler.ReconcileAsync(
                ledger, export, parse.GetValue(provider), parse.GetValue(tolerance), cancellationToken, record => projects.GetValueOrDefault(record.Deployment));
            Console.Write(parse.GetValue(format) == "json" ? Json(differences) : Text(differences, export, parse.GetValue(tolerance)));
            return differences.Count == 0 ? 0 : DifferencesExitCode;
        });
        return command;
    }

    private static string Text(IReadOnlyList<InvoiceDifference> differences, IReadOnlyList<InvoiceLine> export, decimal tolerance)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(string.Create(c, $"Export: {export.Count} day × model lines, {export.Min(l => l.Day):yyyy-MM-dd} to {export.Max(l => l.Day):yyyy-MM-dd}, ${export.Sum(l => l.CostUsd):0.######}; tolerance ${tolerance}."));
        if (differences.Count == 0)
        {
            text.AppendLine("The ledger agrees with the export on every day and model.");
            return text.ToString();
        }

        text.AppendLine(string.Create(c, $"{differences.Count} difference(s):"));
        foreach (var d in differences)
        {
            text.AppendLine(string.Create(c, $"  {d.Day:yyyy-MM-dd}  {d.Model,-28}{(d.Project is null ? string.Empty : " " + (d.Project.Length == 0 ? "(no project)" : d.Project))} {d.Kind,-18} ledger ${d.LedgerUsd:0.######} ({d.LedgerRecords} records)  provider ${d.ProviderUsd:0.######}  difference ${d.DifferenceUsd:+0.######;-0.######;0}"));
            if (d.UpstreamRequestIds.Count > 0)
            {
                text.AppendLine("      provider request ids: " + string.Join(", ", d.UpstreamRequestIds));
            }
        }

        return text.ToString();
    }

    private static string Json(IReadOnlyList<InvoiceDifference> differences) => JsonSerializer.Serialize(
        differences.Select(d => new
        {
            day = d.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), model = d.Model, project = d.Project, kind = d.Kind, ledger_usd = d.LedgerUsd, provider_usd = d.ProviderUsd,
            difference_usd = d.DifferenceUsd, ledger_records = d.LedgerRecords, upstream_request_ids = d.UpstreamRequestIds,
        }),
        new JsonSerializerOptions { WriteIndented = true }) + Environment.NewLine;
}
