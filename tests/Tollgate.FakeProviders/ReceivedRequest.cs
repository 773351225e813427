using System.Text.Json;

namespace Tollgate.FakeProviders;

/// <summary>A request as the fake upstream received it.</summary>
public sealed record ReceivedRequest(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    /// <summary>When the request arrived (monotonic, <see cref="System.Diagnostics.Stopwatch"/> ticks as a TimeSpan).</summary>
    public TimeSpan ArrivedAt { get; init; } = System.Diagnostics.Stopwatch.GetElapsedTime(0);

    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}
