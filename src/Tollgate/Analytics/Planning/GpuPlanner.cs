using Tollgate.Metering;

namespace Tollgate.Analytics.Planning;

/// <summary>A model's weights at a precision.</summary>
public enum WeightPrecision
{
    Fp16,
    Int8,
    Bit4,
}

/// <summary>A day's tokens: what the workload sends and gets back.</summary>
public sealed record TokenWorkload(long InputTokensPerDay, long OutputTokensPerDay)
{
    public long TotalPerDay => InputTokensPerDay + OutputTokensPerDay;

    public decimal OutputShare => TotalPerDay == 0 ? 0 : (decimal)OutputTokensPerDay / TotalPerDay;
}

/// <summary>A GPU session: the offer's price, the hours it serves, the minutes it is paid for without serving (boot, idle), and the output tokens a second it serves the model at.</summary>
public sealed record GpuSession(string Name, decimal PricePerHour, int VramGb, decimal ServingHours, decimal BootMinutes, decimal IdleMinutes, decimal OutputTokensPerSecond)
{
    /// <summary>Hours paid: serving, booting and idle.</summary>
    public decimal PaidHours => ServingHours + ((BootMinutes + IdleMinutes) / 60m);

    public decimal Cost => PricePerHour * PaidHours;

    /// <summary>Output tokens it can produce in its serving hours.</summary>
    public decimal OutputCapacity => OutputTokensPerSecond * 3600m * ServingHours;

    /// <summary>What a million output tokens cost when it serves flat out.</summary>
    public decimal PerMillionOutputAtFullUse => OutputTokensPerSecond <= 0 ? 0 : PricePerHour / (OutputTokensPerSecond * 3600m) * 1_000_000m;
}

/// <summary>One API model against the GPU: the workload's cost on it, and the daily volume at which the two cost the same.</summary>
public sealed record ApiComparison(string Model, decimal InputPerMillion, decimal OutputPerMillion, decimal WorkloadCost, decimal BreakEvenTokensPerDay);

/// <summary>
/// <c>tollgate plan gpu</c>: pay per token or rent a GPU? VRAM a model needs — its weights at the precision (2, 1 or
/// half a byte a parameter) and <see cref="KvCacheHeadroom"/> more for the KV cache and activations; what a session
/// costs, paid hours counting boot and idle time; what a million output tokens cost at full use; and for each API model
/// of the catalogue, what the workload costs there and the daily volume (at the workload's input/output mix) at which
/// the API costs as much as the session.
/// </summary>
public static class GpuPlanner
{
    /// <summary>The share added to the weights for the KV cache and activations.</summary>
    public const decimal KvCacheHeadroom = 0.2m;

    public static decimal VramNeededGb(decimal billionParameters, WeightPrecision precision)
    {
        var bytesPerParameter = precision switch
        {
            WeightPrecision.Fp16 => 2m,
            WeightPrecision.Int8 => 1m,
            _ => 0.5m,
        };
        return billionParameters * bytesPerParameter * (1 + KvCacheHeadroom);
    }

    public static decimal ApiCost(TokenWorkload workload, TokenPrice price)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(price);
        return ((workload.InputTokensPerDay * price.InputPerMillion) + (workload.OutputTokensPerDay * price.OutputPerMillion)) / 1_000_000m;
    }

    /// <summary>The tokens a day, at the workload's mix, at which the API costs as much as <paramref name="session"/>.</summary>
    public static decimal BreakEvenTokensPerDay(TokenWorkload workload, TokenPrice price, GpuSession session)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(price);
        ArgumentNullException.ThrowIfNull(session);
        var blendedPerMillion = ((1 - workload.OutputShare) * price.InputPerMillion) + (workload.OutputShare * price.OutputPerMillion);
        return blendedPerMillion <= 0 ? decimal.MaxValue : decimal.Round(session.Cost / blendedPerMillion * 1_000_000m, 0);
    }

    /// <summary>Every catalogue model with token prices, cheapest for the workload first.</summary>
    public static IReadOnlyList<ApiComparison> Compare(TokenWorkload workload, GpuSession session, IEnumerable<TokenPrice> prices, DateOnly day)
    {
        ArgumentNullException.ThrowIfNull(prices);
        return [.. prices
            .Where(p => p.EffectiveFrom <= day && p.InputPerMillion > 0 && p.OutputPerMillion > 0)
            .GroupBy(p => p.Model, StringComparer.Ordinal)
            .Select(g => g.OrderByDescending(p => p.EffectiveFrom).First())
            .Select(p => new ApiComparison(p.Model, p.InputPerMillion, p.OutputPerMillion, ApiCost(workload, p), BreakEvenTokensPerDay(workload, p, session)))
            .OrderBy(c => c.WorkloadCost).ThenBy(c => c.Model, StringComparer.Ordinal)];
    }
}
