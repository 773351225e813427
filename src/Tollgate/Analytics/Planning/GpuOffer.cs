namespace Tollgate.Analytics.Planning;

/// <summary>A GPU to rent: its memory, its price per hour on demand and (where public) as spot capacity, and where the price was read.</summary>
public sealed record GpuOffer(string Name, int VramGb, decimal OnDemandPerHour, decimal? SpotPerHour, string Source, DateOnly Checked);

/// <summary>
/// A small dated table of common offers, for <c>tollgate plan gpu --gpu NAME</c>. Prices move weekly and differ several
/// times over between providers: each row says where its figure comes from; give <c>--price-per-hour</c> for your own.
/// </summary>
public static class GpuOffers
{
    public static IReadOnlyList<GpuOffer> All { get; } =
    [
        new("l4", 24, 0.72m, 0.2684m,
            "on demand: a g2-standard-4-class L4 VM, the figure of Tollgate's planning brief; spot: GPU Markets L4 spot daily fix, 2026-04-18 (gpumarkets.dev/series/l4-spot)",
            new DateOnly(2026, 12, 7)),
        new("a10g", 24, 1.006m, null, "AWS g5.xlarge (1× A10G) us-east-1 on demand, June 2026, as quoted by factualminds.com", new DateOnly(2026, 12, 7)),
        new("l40", 48, 0.69m, null, "RunPod L40, as quoted by deploybase.ai (2025-06-24)", new DateOnly(2026, 12, 7)),
        new("l40s", 48, 1.861m, 1.1027m, "AWS g6e (1× L40S) us-east-1 on demand and spot, as tabled by Modal (2025-08-12)", new DateOnly(2026, 12, 7)),
        new("a100-40gb", 40, 1.50m, null, "bottom of the $1.50–$3.10 A100 40GB on-demand range across AWS, GCP, Azure, Lambda and CoreWeave (the hyperscalers at the top), alloclabs.com, February 2026", new DateOnly(2026, 12, 7)),
        new("a100-80gb", 80, 2.49m, null, "top of the typical A100 80GB SXM on-demand range ($1.49–$2.49) on Lambda, CoreWeave, vast.ai, RunPod, pricegpu early 2026", new DateOnly(2026, 12, 7)),
        new("h100", 80, 3.99m, null, "top of the typical H100 SXM on-demand range ($2.49–$3.99), pricegpu early 2026", new DateOnly(2026, 12, 7)),
    ];

    public static GpuOffer? Find(string name) => All.FirstOrDefault(o => string.Equals(o.Name, name, StringComparison.OrdinalIgnoreCase));
}
