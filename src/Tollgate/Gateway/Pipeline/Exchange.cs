using System.Text.Json;
using Tollgate.Ledger;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>One request's trip through the gateway: what was asked, where it went, and the clock readings.</summary>
public sealed class Exchange(string requestId, DateTimeOffset startedAt, long startTimestamp, GatewayEndpoint endpoint,
    string alias, Deployment deployment, JsonElement body, bool stream, Attribution attribution)
{
    public string RequestId { get; } = requestId;
    public DateTimeOffset StartedAt { get; } = startedAt;
    public long StartTimestamp { get; } = startTimestamp;
    public GatewayEndpoint Endpoint { get; } = endpoint;
    public string Alias { get; } = alias;
    public Deployment Deployment { get; } = deployment;
    public JsonElement Body { get; } = body;
    public bool Stream { get; } = stream;
    public Attribution Attribution { get; } = attribution;

    /// <summary>When the first byte of the answer was sent to the client (streams).</summary>
    public long? FirstByteTimestamp { get; set; }

    /// <summary>The virtual-clock mark of an hourly-priced deployment, taken when the call began.</summary>
    public decimal HourlyMark { get; set; }

    /// <summary>The worst-case cost held on the request's budgets until it is settled.</summary>
    public Policy.Budgets.BudgetReservation? Reservation { get; set; }

    /// <summary>TPM admissions made on the estimate, corrected with the real tokens at settlement.</summary>
    public IReadOnlyList<Policy.RateLimits.SlidingWindowLog.Ticket> TokenTickets { get; set; } = [];
}
