namespace Tollgate.Analytics.UnitEconomics;

/// <summary>
/// What a request (or a user's use of a feature) earned: conversions and revenue, reported by the application through
/// <c>POST /v1/outcomes</c>. Tied to a request by <see cref="RequestId"/>, or directly to a user and/or feature.
/// </summary>
public sealed record Outcome(string Id, DateTimeOffset At, string? RequestId, string? User, string? Feature, long Conversions, decimal RevenueUsd, string KeyId);
