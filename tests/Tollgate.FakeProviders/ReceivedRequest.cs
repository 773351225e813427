using System.Text.Json;

namespace Tollgate.FakeProviders;

/// <summary>A request as the fake upstream received it.</summary>
public sealed record ReceivedRequest(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}
