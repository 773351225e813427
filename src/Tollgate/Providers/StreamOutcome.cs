using Tollgate.Metering;

namespace Tollgate.Providers;

/// <summary>
/// How a streamed call ended. Either <see cref="WholeReply"/> is set — the provider answered with a whole body
/// instead of a stream (an error before the stream began, or a server that ignores <c>stream: true</c>) and nothing
/// was sent to the client yet — or the stream ran, completely or not (<see cref="Failure"/>).
/// </summary>
public sealed record StreamOutcome(UpstreamReply? WholeReply, Usage Usage, long OutputCharacters, ProviderFailure? Failure)
{
    /// <summary>The id of what the provider keeps of this stream (a Responses API response), when it names one.</summary>
    public string? ProviderObjectId { get; init; }

    public static StreamOutcome FromWholeReply(UpstreamReply reply) => new(reply, reply.Usage, reply.OutputCharacters, null);
}
