using System.Text.Json;

namespace Tollgate.Gateway.Pipeline;

/// <summary>The client's JSON body, parsed once and kept for the request's lifetime, plus the fields the gateway reads.</summary>
public sealed class ParsedRequest(JsonDocument document, string model, bool stream) : IDisposable
{
    public JsonElement Body => document.RootElement;

    public string Model { get; } = model;

    public bool Stream { get; } = stream;

    public void Dispose() => document.Dispose();
}
