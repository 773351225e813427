using Tollgate.Analytics.UnitEconomics;
using Tollgate.Ledger;
using Tollgate.Metering;

namespace Tollgate.Analytics.Advice;

/// <summary>
/// <c>tollgate advise</c> and <c>/admin/analytics/advice</c>: reads the range's records once, hands each to every
/// finder, and ranks what they found — savings, losses and GPUs paid for while idle by their monthly amount first, then budget room that output
/// limits hold for nothing, then where the cost concentrates. Monthly figures scale the range's to 30 days.
/// </summary>
public static class Advisor
{
    public static async Task<IReadOnlyList<Advice>> AdviseAsync(
        ILedgerStore ledger, IOutcomeStore outcomes, AdvicePrices prices, TimeZoneInfo zone, DateTimeOffset from, DateTimeOffset to, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentNullException.ThrowIfNull(outcomes);
        var end = to < now ? to : now;
        var days = (decimal)(end - from).TotalDays;
        var context = new AdviceContext(days > 0 ? 30m / days : 1m);
        IAdviceFinder[] finders =
        [
            new PromptCachingCandidates(prices), new DuplicateRequests(), new BatchCandidates(prices, zone), new OffPeakCandidates(prices), new MaxTokensWaste(prices),
            new CostConcentration(), new NegativeMargins(await outcomes.ListAsync(from, to, cancellationToken)),
            new ModelMoves(prices, DateOnly.FromDateTime(now.UtcDateTime)), new IdleGpus(prices, end),
        ];
        await foreach (var record in ledger.ReadAsync(from, to, cancellationToken))
        {
            foreach (var finder in finders)
            {
                finder.Add(record);
            }
        }

        return [.. finders.SelectMany(f => f.Advise(context)).OrderBy(Rank).ThenByDescending(a => a.MonthlyUsd).ThenBy(a => a.Subject, StringComparer.Ordinal)];
    }

    private static int Rank(Advice advice) => advice.Worth switch
    {
        AdviceKinds.Saving or AdviceKinds.Loss or AdviceKinds.Idle => 0,
        AdviceKinds.ReservationFreed => 1,
        _ => 2,
    };
}
