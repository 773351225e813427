using Tollgate.Ledger;

namespace Tollgate.Analytics.Planning;

/// <summary>
/// How much of a self-hosted, hourly-priced deployment's time was used: its requests' busy time (the union of their
/// start-to-end intervals, so overlapping requests count once) against the time it was paid for — from its first
/// request in the range to the range's end, since the gateway does not see the GPU's own billing. Records must come in
/// order of their start, as the ledger reads them.
/// </summary>
public sealed class SelfHostedUse(string deployment, decimal usdPerHour, DateTimeOffset firstStart)
{
    private DateTimeOffset _busyUntil = firstStart;
    private TimeSpan _busy;

    public string Deployment { get; } = deployment;

    public decimal UsdPerHour { get; } = usdPerHour;

    public DateTimeOffset FirstStart { get; } = firstStart;

    public long Requests { get; private set; }

    public long InputTokens { get; private set; }

    public long OutputTokens { get; private set; }

    /// <summary>What its requests were charged: their shares of the hours they were busy.</summary>
    public decimal ChargedUsd { get; private set; }

    public TimeSpan Busy => _busy;

    public void Add(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Requests++;
        InputTokens += record.Usage.InputTokens ?? 0;
        OutputTokens += record.Usage.OutputTokens ?? 0;
        ChargedUsd += record.Cost.Total ?? 0;
        var start = record.Timestamp > _busyUntil ? record.Timestamp : _busyUntil;
        var end = record.Timestamp + TimeSpan.FromMilliseconds(Math.Max(0, record.LatencyMs));
        if (end > start)
        {
            _busy += end - start;
            _busyUntil = end;
        }
    }

    /// <summary>The time paid for, up to <paramref name="end"/>.</summary>
    public TimeSpan Paid(DateTimeOffset end) => end > FirstStart ? end - FirstStart : TimeSpan.Zero;

    public decimal PaidUsd(DateTimeOffset end) => UsdPerHour * (decimal)Paid(end).Ticks / TimeSpan.TicksPerHour;

    /// <summary>Busy time's share of the time paid for.</summary>
    public decimal Utilisation(DateTimeOffset end) => Paid(end) <= TimeSpan.Zero ? 0 : Math.Min(1m, (decimal)Busy.Ticks / Paid(end).Ticks);

    /// <summary>What was paid for time no request used.</summary>
    public decimal IdleUsd(DateTimeOffset end) => UsdPerHour * (decimal)Math.Max(0, Paid(end).Ticks - Busy.Ticks) / TimeSpan.TicksPerHour;
}
