using Tollgate.Metering;

namespace Tollgate.Gateway.Pipeline;

/// <summary>How an exchange ended, as the settler needs it.</summary>
public sealed record ExchangeResult(string Status, int HttpStatus, Usage ReportedUsage, long OutputCharacters, bool ProviderAnswered, string? Error);
