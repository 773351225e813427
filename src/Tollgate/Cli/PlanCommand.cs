using System.CommandLine;
using System.Globalization;
using System.Text;
using Tollgate.Analytics;
using Tollgate.Analytics.Planning;
using Tollgate.Configuration;

namespace Tollgate.Cli;

/// <summary><c>tollgate plan gpu</c>: pay per token or rent a GPU, for a workload given or read from the ledger (see <see cref="GpuPlanner"/>).</summary>
internal static class PlanCommand
{
    public static Command Build(Func<string?, GatewayConfig?> loadConfig, Func<Option<string?>> configOption)
    {
        var config = configOption();
        var gpus = new Option<string[]>("--gpu") { Description = $"A GPU from the table ({string.Join(", ", GpuOffers.All.Select(o => o.Name))}); repeat to compare.", AllowMultipleArgumentsPerToken = true };
        var pricePerHour = new Option<decimal?>("--price-per-hour") { Description = "Your own offer's price per hour (with --vram-gb), instead of or beside the table's." };
        var vram = new Option<int>("--vram-gb") { Description = "Your own offer's memory.", DefaultValueFactory = _ => 24 };
        var spot = new Option<bool>("--spot") { Description = "Use the table's spot price where it has one." };
        var parameters = new Option<decimal>("--params") { Description = "The model's size in billions of parameters (8 for an 8B model).", Required = true };
        var precision = new Option<string>("--precision") { Description = "fp16, int8 or 4bit.", DefaultValueFactory = _ => "fp16" };
        precision.AcceptOnlyFromAmong("fp16", "int8", "4bit");
        var throughput = new Option<decimal>("--throughput") { Description = "Output tokens a second the GPU serves the model at (measure it, e.g. with vLLM's benchmark).", Required = true };
        var hours = new Option<decimal?>("--hours") { Description = "Hours a day it serves (default: what the workload's output needs at --throughput, at least 1)." };
        var boot = new Option<decimal>("--boot-minutes") { Description = "Paid minutes before it serves (start, model load).", DefaultValueFactory = _ => 5 };
        var idle = new Option<decimal>("--idle-minutes") { Description = "Paid minutes a day it sits idle (before it is stopped).", DefaultValueFactory = _ => 0 };
        var input = new Option<long?>("--input-tokens-per-day") { Description = "The workload's input tokens a day." };
        var output = new Option<long?>("--output-tokens-per-day") { Description = "The workload's output tokens a day." };
        var since = new Option<string?>("--from-ledger") { Description = "Read the workload from the ledger instead: the average day since 7d, 30d, or a date." };
        var peakRate = new Option<decimal?>("--peak-requests-per-second") { Description = "The workload's busiest requests a second (with --output-tokens-per-request): how many GPUs must be up then. From the ledger: its busiest minute." };
        var perRequest = new Option<decimal?>("--output-tokens-per-request") { Description = "Output tokens a request asks for on average, at the peak." };
        var top = new Option<int>("--top") { Description = "How many API models to compare with, cheapest for the workload first.", DefaultValueFactory = _ => 10 };
        var models = new Option<string?>("--models") { Description = "Compare with these catalogue models only (comma-separated)." };
        var gpu = new Command("gpu", "Pay per token or rent a GPU: VRAM, session cost, cost per million tokens, break-even volume against every API price.")
        {
            config, gpus, pricePerHour, vram, spot, parameters, precision, throughput, hours, boot, idle, input, output, since, peakRate, perRequest, top, models,
        };
        gpu.SetAction(async (parse, cancellationToken) =>
        {
            if (loadConfig(parse.GetValue(config)) is not { } loaded)
            {
                return 2;
            }

            var fromLedger = parse.GetValue(since) is { } from ? await LedgerWorkloadAsync(loaded, from, cancellationToken) : null;
            var workload = fromLedger?.Workload
                ?? (parse.GetValue(input) is { } i && parse.GetValue(output) is { } o ? new TokenWorkload(i, o) : null);
            if (workload is null)
            {
                await Console.Error.WriteLineAsync("Give the workload: --input-tokens-per-day and --output-tokens-per-day, or --from-ledger 30d (with a ledger to read).");
                return 1;
            }

            // Bounds far beyond any real GPU or workload, so that no product of them overflows.
            const decimal MaxRate = 1_000_000_000m;
            var rate = parse.GetValue(throughput);
            if (rate is < 0.01m or > MaxRate)
            {
                await Console.Error.WriteLineAsync("--throughput must be from 0.01 to 1,000,000,000: the output tokens a second the GPU serves the model at.");
                return 1;
            }

            if (parse.GetValue(pricePerHour) is < 0 or > 1_000_000m || parse.GetValue(hours) is < 0 or > 24
                || parse.GetValue(boot) is < 0 or > 1_440 || parse.GetValue(idle) is < 0 or > 1_440 || parse.GetValue(parameters) is <= 0 or > 1_000_000m)
            {
                await Console.Error.WriteLineAsync("Out of range: --price-per-hour 0 to 1,000,000, --hours 0 to 24, --boot-minutes and --idle-minutes 0 to 1,440, --params above 0 (billions, at most 1,000,000).");
                return 1;
            }

            var peak = fromLedger?.Peak;
            if (parse.GetValue(peakRate) is { } requestsPerSecond)
            {
                if (requestsPerSecond is <= 0 or > MaxRate || parse.GetValue(perRequest) is not (> 0 and <= MaxRate))
                {
                    await Console.Error.WriteLineAsync("--peak-requests-per-second needs a rate above 0 and --output-tokens-per-request above 0 (each at most 1,000,000,000).");
                    return 1;
                }

                peak = PeakLoad.Of(requestsPerSecond, parse.GetValue(perRequest)!.Value);
            }

            var offers = new List<(string Name, decimal Price, int Vram)>();
            foreach (var name in parse.GetValue(gpus) ?? [])
            {
                if (GpuOffers.Find(name) is not { } offer)
                {
                    await Console.Error.WriteLineAsync($"No GPU '{name}' in the table ({string.Join(", ", GpuOffers.All.Select(g => g.Name))}): give --price-per-hour and --vram-gb instead.");
                    return 1;
                }

                offers.Add((offer.Name + (parse.GetValue(spot) && offer.SpotPerHour is not null ? " (spot)" : string.Empty),
                    parse.GetValue(spot) && offer.SpotPerHour is { } s ? s : offer.OnDemandPerHour, offer.VramGb));
            }

            if (parse.GetValue(pricePerHour) is { } own)
            {
                offers.Add(("your GPU", own, parse.GetValue(vram)));
            }

            if (offers.Count == 0)
            {
                await Console.Error.WriteLineAsync("Give a GPU: --gpu NAME or --price-per-hour with --vram-gb.");
                return 1;
            }

            var serving = parse.GetValue(hours) ?? Math.Max(1m, Math.Ceiling(workload.OutputTokensPerDay / Math.Max(1m, rate * 3600m) * 4) / 4);
            var weights = parse.GetValue(precision) switch { "int8" => WeightPrecision.Int8, "4bit" => WeightPrecision.Bit4, _ => WeightPrecision.Fp16 };
            var catalog = Metering.LocalPriceCatalog.Load(loaded.Storage.DataDirectory);
            var today = DateOnly.FromDateTime(DateTime.UtcNow);
            var text = new StringBuilder();
            var c = CultureInfo.InvariantCulture;
            var needed = GpuPlanner.VramNeededGb(parse.GetValue(parameters), weights);
            text.AppendLine(string.Create(c, $"Workload: {workload.InputTokensPerDay:N0} input + {workload.OutputTokensPerDay:N0} output tokens a day. Model: {parse.GetValue(parameters):0.#}B at {parse.GetValue(precision)}, {needed:0.#} GB of VRAM (weights + {GpuPlanner.KvCacheHeadroom:P0} for the KV cache)."));
            foreach (var (name, price, memory) in offers)
            {
                var session = new GpuSession(name, price, memory, serving, parse.GetValue(boot), parse.GetValue(idle), rate);
                text.AppendLine();
                text.AppendLine(string.Create(c, $"{name}: ${price:0.####}/h, {memory} GB — {(needed <= memory ? "the model fits" : "the model does NOT fit")}."));
                text.AppendLine(string.Create(c, $"  a day: {serving:0.##} h serving + {parse.GetValue(boot) + parse.GetValue(idle):0.#} min boot/idle = ${session.Cost:0.00}; ${session.PerMillionOutputAtFullUse:0.00} per million output tokens at full use; capacity {session.OutputCapacity:N0} output tokens, the workload uses {(session.OutputCapacity == 0 ? 0 : workload.OutputTokensPerDay / session.OutputCapacity):P0}."));
                if (peak is not null)
                {
                    var gpusAtPeak = peak.GpusNeeded(rate);
                    text.AppendLine(string.Create(c, $"  at the peak, {peak.RequestsPerSecond:0.##} requests and {peak.OutputTokensPerSecond:N0} output tokens a second: {gpusAtPeak:N0} GPU{(gpusAtPeak == 1 ? string.Empty : "s")} at {rate:0.#} tokens a second each{(gpusAtPeak == 1 ? string.Empty : string.Create(c, $"; {gpusAtPeak:N0} up for the day's serving hours cost ${gpusAtPeak * session.Cost:0.00}"))}."));
                }

                text.AppendLine("  against pay-per-token (the workload's cost a day there; the volume a day at which it costs as much as this GPU):");
                var only = parse.GetValue(models)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
                foreach (var api in GpuPlanner.Compare(workload, session, catalog.All.Where(p => only is null || only.Contains(p.Model)), today).Take(parse.GetValue(top)))
                {
                    var verdict = api.WorkloadCost <= session.Cost ? "API cheaper" : "GPU cheaper";
                    var beyond = api.BreakEvenTokensPerDay * workload.OutputShare > session.OutputCapacity ? " (beyond this GPU's capacity)" : string.Empty;
                    text.AppendLine(string.Create(c, $"    {api.Model,-32} ${api.WorkloadCost,9:0.00}/day   break-even {api.BreakEvenTokensPerDay,14:N0} tokens/day{beyond}   {verdict}"));
                }
            }

            foreach (var use in fromLedger?.SelfHosted ?? [])
            {
                var now = DateTimeOffset.UtcNow;
                text.AppendLine();
                text.AppendLine(string.Create(c, $"Self-hosted {use.Deployment} (${use.UsdPerHour:0.####}/h), from its first request in the range: up {use.Paid(now).TotalHours:N1} h = ${use.PaidUsd(now):0.00}; busy {use.Busy.TotalHours:N2} h ({use.Utilisation(now):P1} utilisation) serving {use.Requests:N0} requests, {use.InputTokens:N0} input + {use.OutputTokens:N0} output tokens; idle ${use.IdleUsd(now):0.00}."));
            }

            Console.Write(text.ToString());
            return 0;
        });
        return new Command("plan", "Capacity and cost planning.") { gpu };
    }

    /// <summary>
    /// The ledger's average day of input and output tokens since <paramref name="since"/>, how much of their paid time
    /// the config's hourly-priced (self-hosted) deployments were busy, and its busiest minute.
    /// </summary>
    private static async Task<(TokenWorkload Workload, IReadOnlyList<SelfHostedUse> SelfHosted, PeakLoad? Peak)?> LedgerWorkloadAsync(GatewayConfig config, string since, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        if (!SinceParser.TryParseReportStart(since, now, out var from))
        {
            return null;
        }

        await using var ledger = await ConfiguredLedger.OpenAsync(config.Storage, cancellationToken);
        if (ledger is null)
        {
            return null;
        }

        var rows = await SpendReport.BuildAsync(ledger, new SpendQuery(SpendGrouping.Parse("model")!, from, DateTimeOffset.MaxValue, TimeBucket.None, TimeZoneInfo.Utc), cancellationToken);
        var days = Math.Max(1d, (now - from).TotalDays);
        var workload = new TokenWorkload((long)(rows.Sum(r => r.InputTokens) / days), (long)(rows.Sum(r => r.OutputTokens) / days));
        var selfHosted = new Analytics.Advice.IdleGpus(
            new Analytics.Advice.AdvicePrices(Metering.LocalPriceCatalog.Load(config.Storage.DataDirectory), config.Deployments), now);
        var busiest = new BusiestMinute();
        await foreach (var record in ledger.ReadAsync(from, now, cancellationToken))
        {
            selfHosted.Add(record);
            busiest.Add(record);
        }

        return (workload, [.. selfHosted.Deployments], busiest.Peak);
    }
}
