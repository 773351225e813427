using System.Text.Json;

namespace Tollgate.Gateway.Pipeline;

/// <summary>The client's JSON body, parsed once and kept for the request's lifetime, plus the fields the gateway reads.</summary>
public sealed class ParsedRequest(JsonDocument document, string model, bool stream, ReadOnlyMemory<byte> rawBody) : IDisposable
{
    private List<JsonDocument>? _replaced;
    private JsonDocument _document = document;

    public JsonElement Body => _document.RootElement;

    public string Model { get; } = model;

    public bool Stream { get; } = stream;

    /// <summary>The body's bytes as the client sent them (before any policy rewrite).</summary>
    public ReadOnlyMemory<byte> RawBody { get; } = rawBody;

    /// <summary>The bytes of <see cref="Body"/>: the client's, or those of the body a policy rewrote.</summary>
    public ReadOnlyMemory<byte> BodyBytes { get; private set; } = rawBody;

    /// <summary>Swaps in a body a policy rewrote; the earlier one stays alive until the request ends.</summary>
    public void ReplaceBody(byte[] json)
    {
        (_replaced ??= []).Add(_document);
        _document = JsonDocument.Parse(json);
        BodyBytes = json;
    }

    public void Dispose()
    {
        _document.Dispose();
        foreach (var replaced in _replaced ?? [])
        {
            replaced.Dispose();
        }
    }
}
