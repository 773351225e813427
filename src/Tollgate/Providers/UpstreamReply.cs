using Tollgate.Metering;

namespace Tollgate.Providers;

/// <summary>
/// A whole (non-streamed) answer from a provider, with the response headers passed on to the client
/// (<see cref="UpstreamHeaders"/>). <see cref="Usage"/> is <see cref="Usage.None"/> when the provider did not report it.
/// </summary>
public sealed record UpstreamReply(int StatusCode, ReadOnlyMemory<byte> Body, string ContentType, Usage Usage, long OutputCharacters)
{
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = UpstreamHeaders.None;

    public bool IsSuccess => StatusCode is >= 200 and < 300;
}
