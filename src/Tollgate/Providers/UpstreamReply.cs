using Tollgate.Metering;

namespace Tollgate.Providers;

/// <summary>
/// A complete (non-streamed) answer from a provider, or the answer that refused a stream before it began.
/// <see cref="Usage"/> is <see cref="Usage.None"/> when the provider did not report it.
/// </summary>
public sealed record UpstreamReply(int StatusCode, ReadOnlyMemory<byte> Body, string ContentType, Usage Usage, long OutputCharacters)
{
    public bool IsSuccess => StatusCode is >= 200 and < 300;
}
