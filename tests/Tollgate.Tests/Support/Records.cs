using Tollgate.Ledger;
using Tollgate.Metering;

namespace Tollgate.Tests.Support;

/// <summary>Ledger records for tests that read or add them up; only what a test names differs from the defaults.</summary>
internal static class Records
{
    public static UsageRecord Ok(string model, DateTimeOffset at, Usage usage, CostBreakdown cost, Attribution? attribution = null, string status = RecordStatus.Ok) => new()
    {
        Id = Guid.CreateVersion7(at).ToString("N"),
        Timestamp = at,
        LatencyMs = 12.5,
        Attribution = attribution ?? Attribution.Empty,
        Endpoint = "chat.completions",
        Alias = model,
        Deployment = "openai/" + model,
        Provider = "openai",
        UpstreamModel = model,
        Stream = false,
        Status = status,
        HttpStatus = 200,
        Usage = usage,
        Cost = cost,
        PriceSource = "test",
    };
}
