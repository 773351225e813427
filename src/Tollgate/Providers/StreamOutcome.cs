using Tollgate.Metering;

namespace Tollgate.Providers;

/// <summary>
/// How a streamed call ended. Either <see cref="Refused"/> is set (the provider answered with an error before the
/// stream began, nothing was sent to the client) or the stream ran, completely or not (<see cref="Failure"/>).
/// </summary>
public sealed record StreamOutcome(UpstreamReply? Refused, Usage Usage, long OutputCharacters, ProviderFailure? Failure)
{
    public static StreamOutcome FromRefusal(UpstreamReply reply) => new(reply, reply.Usage, 0, null);
}
