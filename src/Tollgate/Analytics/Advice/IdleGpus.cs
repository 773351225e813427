using System.Globalization;
using Tollgate.Analytics.Planning;
using Tollgate.Ledger;

namespace Tollgate.Analytics.Advice;

/// <summary>
/// Self-hosted deployments priced by the hour (rented GPUs) busy less than <see cref="MaximumUtilisation"/> of the time
/// paid for (<see cref="SelfHostedUse"/>): what the idle hours cost, and to stop it between sessions or pay per token.
/// </summary>
internal sealed class IdleGpus(AdvicePrices prices, DateTimeOffset end) : IAdviceFinder
{
    public const decimal MaximumUtilisation = 0.5m;

    private readonly Dictionary<string, SelfHostedUse> _deployments = new(StringComparer.Ordinal);

    /// <summary>Each hourly-priced deployment seen so far, with its paid, busy and idle time (also printed by <c>tollgate plan gpu --from-ledger</c>).</summary>
    public IReadOnlyCollection<SelfHostedUse> Deployments => _deployments.Values;

    public void Add(UsageRecord record)
    {
        if (prices.HourlyRateOf(record) is not { } rate)
        {
            return;
        }

        if (!_deployments.TryGetValue(record.Deployment, out var use))
        {
            use = new SelfHostedUse(record.Deployment, rate, record.Timestamp);
            _deployments[record.Deployment] = use;
        }

        use.Add(record);
    }

    public IEnumerable<Advice> Advise(AdviceContext context)
    {
        foreach (var use in _deployments.Values)
        {
            var utilisation = use.Utilisation(end);
            var idle = use.IdleUsd(end);
            if (utilisation >= MaximumUtilisation || idle <= 0)
            {
                continue;
            }

            var paid = use.Paid(end);
            yield return new Advice(
                AdviceKinds.IdleGpu,
                $"deployment {use.Deployment}",
                string.Create(CultureInfo.InvariantCulture,
                    $"Up {paid.TotalHours:N1} h at ${use.UsdPerHour:0.00}/h (${use.PaidUsd(end):0.00}) since its first request, busy {use.Busy.TotalHours:N1} h ({utilisation:P1}) serving {use.Requests:N0} requests: ${idle:0.00} paid for idle time."),
                "Stop it between sessions (or scale it to zero), or pay per token for this volume: tollgate plan gpu --from-ledger compares the two.",
                context.Monthly(idle),
                AdviceKinds.Idle,
                new Dictionary<string, object>
                {
                    ["usd_per_hour"] = use.UsdPerHour, ["paid_hours"] = decimal.Round((decimal)paid.TotalHours, 3), ["busy_hours"] = decimal.Round((decimal)use.Busy.TotalHours, 3),
                    ["utilisation"] = decimal.Round(utilisation, 4), ["requests"] = use.Requests, ["input_tokens"] = use.InputTokens, ["output_tokens"] = use.OutputTokens,
                    ["paid_in_range_usd"] = decimal.Round(use.PaidUsd(end), 6), ["charged_to_requests_usd"] = use.ChargedUsd, ["idle_in_range_usd"] = decimal.Round(idle, 6),
                });
        }
    }
}
